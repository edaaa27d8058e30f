package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

func exerciseTenantDefaults(t *testing.T, open func(t *testing.T) store.Store) {
	subtests(t, map[string]func(t *testing.T){
		"SetReadReplaceClear": func(t *testing.T) {
			e := newEnv(t, open)
			if _, err := e.s.TenantDefaultsGet(e.ctx, "acme"); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("TenantDefaultsGet before any: got %v, want ErrNotFound", err)
			}
			if err := e.s.TenantDefaultsPut(e.ctx, &hookline.TenantDefaults{Tenant: "acme", Profile: "formvox", UpdatedAt: e.now}); err != nil {
				t.Fatalf("TenantDefaultsPut: %v", err)
			}
			got, err := e.s.TenantDefaultsGet(e.ctx, "acme")
			if err != nil {
				t.Fatalf("TenantDefaultsGet: %v", err)
			}
			if got.Tenant != "acme" || got.Profile != "formvox" || !got.UpdatedAt.Equal(e.now) {
				t.Errorf("TenantDefaultsGet: got %+v, want acme, formvox, %v", got, e.now)
			}
			later := e.now.Add(time.Minute)
			if err := e.s.TenantDefaultsPut(e.ctx, &hookline.TenantDefaults{Tenant: "acme", Profile: "urlr", UpdatedAt: later}); err != nil {
				t.Fatalf("TenantDefaultsPut again: %v", err)
			}
			if got, _ = e.s.TenantDefaultsGet(e.ctx, "acme"); got.Profile != "urlr" || !got.UpdatedAt.Equal(later) {
				t.Errorf("after replacing: got %+v, want urlr at %v", got, later)
			}
			if _, err := e.s.TenantDefaultsGet(e.ctx, "other"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("another tenant's defaults: got %v, want ErrNotFound", err)
			}
			if err := e.s.TenantDefaultsDelete(e.ctx, "acme"); err != nil {
				t.Fatalf("TenantDefaultsDelete: %v", err)
			}
			if _, err := e.s.TenantDefaultsGet(e.ctx, "acme"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("TenantDefaultsGet after delete: got %v, want ErrNotFound", err)
			}
			if err := e.s.TenantDefaultsDelete(e.ctx, "acme"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("second TenantDefaultsDelete: got %v, want ErrNotFound", err)
			}
		},
		"ProfileInUseAsDefault": func(t *testing.T) {
			e := newEnv(t, open)
			if err := e.s.ProfileCreate(e.ctx, &hookline.Profile{Name: "acme", Definition: []byte(`{}`), CreatedAt: e.now, UpdatedAt: e.now}); err != nil {
				t.Fatal(err)
			}
			if err := e.s.TenantDefaultsPut(e.ctx, &hookline.TenantDefaults{Tenant: "t1", Profile: "acme", UpdatedAt: e.now}); err != nil {
				t.Fatal(err)
			}
			if err := e.s.ProfileDelete(e.ctx, "acme"); !errors.Is(err, store.ErrConflict) {
				t.Errorf("ProfileDelete of a tenant's default: got %v, want ErrConflict", err)
			}
			if err := e.s.TenantDefaultsDelete(e.ctx, "t1"); err != nil {
				t.Fatal(err)
			}
			if err := e.s.ProfileDelete(e.ctx, "acme"); err != nil {
				t.Errorf("ProfileDelete once no tenant has it as default: got %v, want nil", err)
			}
		},
	})
}
