package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

// tenantDefaultsView is the answer of /v1/tenants/{tenant}/defaults: the
// profile a webhook of the tenant created without "profile" gets, and whether
// that is the tenant's own default or the server's.
type tenantDefaultsView struct {
	Tenant  string `json:"tenant"`
	Profile string `json:"profile"`
	// Source is "tenant" (set with PUT) or "server" (--default-profile).
	Source string `json:"source"`
	// UpdatedAt is when the tenant's own default was set; absent for the
	// server's.
	UpdatedAt *time.Time `json:"updated_at,omitempty"`
}

// defaultsTenant is the tenant of the path, hidden (404) from a key limited to
// another tenant.
func defaultsTenant(r *http.Request) (string, error) {
	tenant := r.PathValue("tenant")
	if err := visible(r, tenant); err != nil {
		return "", err
	}
	return tenant, hookline.ValidateTenant("tenant", tenant)
}

func (h *handler) tenantDefaultsView(r *http.Request, tenant string) (*tenantDefaultsView, error) {
	d, err := h.store.TenantDefaultsGet(r.Context(), tenant)
	if err == nil {
		return &tenantDefaultsView{Tenant: tenant, Profile: d.Profile, Source: "tenant", UpdatedAt: &d.UpdatedAt}, nil
	}
	if !errors.Is(err, hookline.ErrNotFound) {
		return nil, err
	}
	return &tenantDefaultsView{Tenant: tenant, Profile: h.webhooks.ServerDefaultProfile(), Source: "server"}, nil
}

func (h *handler) tenantDefaultsGet(w http.ResponseWriter, r *http.Request) {
	tenant, err := defaultsTenant(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	v, err := h.tenantDefaultsView(r, tenant)
	if err != nil {
		h.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// tenantDefaultsInput is the body of PUT /v1/tenants/{tenant}/defaults.
type tenantDefaultsInput struct {
	Profile *string `json:"profile"`
}

func (h *handler) tenantDefaultsPut(w http.ResponseWriter, r *http.Request) {
	var in tenantDefaultsInput
	if err := decode(w, r, &in, maxBodyBytes); err != nil {
		h.error(w, r, err)
		return
	}
	tenant, err := defaultsTenant(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	if in.Profile == nil {
		h.error(w, r, hookline.Invalid("profile", "is required: the name of a profile (GET /v1/profiles lists them); DELETE clears the tenant's default"))
		return
	}
	d, err := h.webhooks.SetTenantDefault(r.Context(), tenant, *in.Profile)
	if err != nil {
		h.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, &tenantDefaultsView{Tenant: tenant, Profile: d.Profile, Source: "tenant", UpdatedAt: &d.UpdatedAt})
}

func (h *handler) tenantDefaultsDelete(w http.ResponseWriter, r *http.Request) {
	tenant, err := defaultsTenant(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	if err := h.webhooks.ClearTenantDefault(r.Context(), tenant); err != nil {
		h.error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
