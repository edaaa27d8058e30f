package webhooks

import (
	"context"
	"errors"
	"fmt"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/profile"
)

// DefaultSource says where the profile of a webhook created without one came
// from; empty when the request named it.
type DefaultSource string

// Where a default profile comes from.
const (
	// DefaultFromTenant: the tenant's own default (PUT /v1/tenants/{tenant}/defaults).
	DefaultFromTenant DefaultSource = "tenant"
	// DefaultFromServer: the server's, serve --default-profile.
	DefaultFromServer DefaultSource = "server"
)

// DefaultProfile returns the profile a webhook of tenant created without
// "profile" gets: the tenant's default, else the server's.
func (s *Service) DefaultProfile(ctx context.Context, tenant string) (string, DefaultSource, error) {
	d, err := s.store.TenantDefaultsGet(ctx, tenant)
	switch {
	case err == nil:
		return d.Profile, DefaultFromTenant, nil
	case errors.Is(err, hookline.ErrNotFound):
		return s.defaultProfile, DefaultFromServer, nil
	default:
		return "", "", err
	}
}

// ServerDefaultProfile is the server's default profile (--default-profile).
func (s *Service) ServerDefaultProfile() string { return s.defaultProfile }

// SetTenantDefault makes name the profile of tenant's webhooks created
// without one. The profile must exist; nothing changes otherwise.
func (s *Service) SetTenantDefault(ctx context.Context, tenant, name string) (*hookline.TenantDefaults, error) {
	if name == "" {
		return nil, hookline.Invalid("profile", "is required: the name of a profile (GET /v1/profiles lists them); DELETE clears the tenant's default")
	}
	if _, err := s.profiles.Get(ctx, name); errors.Is(err, hookline.ErrNotFound) {
		return nil, s.unknownProfile(name)
	} else if err != nil {
		return nil, err
	}
	d := &hookline.TenantDefaults{Tenant: tenant, Profile: name, UpdatedAt: s.stamp()}
	if err := s.store.TenantDefaultsPut(ctx, d); err != nil {
		return nil, err
	}
	return d, nil
}

// ClearTenantDefault removes tenant's default profile, so that the server's
// applies again; hookline.ErrNotFound when it had none.
func (s *Service) ClearTenantDefault(ctx context.Context, tenant string) error {
	return s.store.TenantDefaultsDelete(ctx, tenant)
}

// whyProfile says, for messages, why a webhook has prof although the request
// named none.
func whyProfile(prof *profile.Profile, tenant string, source DefaultSource) string {
	switch source {
	case DefaultFromTenant:
		return fmt.Sprintf(", tenant %q's default profile (PUT /v1/tenants/{tenant}/defaults)", tenant)
	case DefaultFromServer:
		if prof == nil || prof.Name != profile.Standard {
			return ", the server's default profile (--default-profile)"
		}
	}
	return ""
}
