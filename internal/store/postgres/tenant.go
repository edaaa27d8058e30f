package postgres

import (
	"context"
	"fmt"

	"github.com/hookline/hookline/internal/hookline"
)

// TenantDefaultsGet implements store.Store.
func (s *Store) TenantDefaultsGet(ctx context.Context, tenant string) (*hookline.TenantDefaults, error) {
	d := hookline.TenantDefaults{Tenant: tenant}
	err := s.pool.QueryRow(ctx, "SELECT profile, updated_at FROM tenant_defaults WHERE tenant = $1", tenant).Scan(&d.Profile, &d.UpdatedAt)
	if err != nil {
		return nil, fmt.Errorf("store: get tenant defaults: %w", interpretError(err))
	}
	d.UpdatedAt = d.UpdatedAt.UTC()
	return &d, nil
}

// TenantDefaultsPut implements store.Store.
func (s *Store) TenantDefaultsPut(ctx context.Context, d *hookline.TenantDefaults) error {
	return s.exec(ctx, "set tenant defaults", `INSERT INTO tenant_defaults (tenant, profile, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (tenant) DO UPDATE SET profile = excluded.profile, updated_at = excluded.updated_at`,
		d.Tenant, d.Profile, ts(d.UpdatedAt))
}

// TenantDefaultsDelete implements store.Store.
func (s *Store) TenantDefaultsDelete(ctx context.Context, tenant string) error {
	return s.execOne(ctx, "clear tenant defaults", "DELETE FROM tenant_defaults WHERE tenant = $1", tenant)
}
