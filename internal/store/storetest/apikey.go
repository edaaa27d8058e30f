package storetest

import (
	"bytes"
	"crypto/sha256"
	"reflect"
	"slices"
	"testing"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

func exerciseAPIKeys(t *testing.T, open func(t *testing.T) store.Store) {
	subtests(t, map[string]func(t *testing.T){
		"CRUD": func(t *testing.T) {
			e := newEnv(t, open)
			mk := func(name, tenant string, scopes ...string) *hookline.APIKey {
				t.Helper()
				h := sha256.Sum256([]byte("hk_" + name))
				k := &hookline.APIKey{
					ID: hookline.NewID(hookline.PrefixAPIKey), Name: name, Scopes: scopes, Tenant: tenant,
					Prefix: "hk_" + name[:2], Hash: h[:], HashVersion: 1, CreatedAt: e.now,
				}
				if tenant != "" {
					k.RateLimit = 1000
				}
				if err := e.s.APIKeyCreate(e.ctx, k); err != nil {
					t.Fatalf("APIKeyCreate: %v", err)
				}
				return k
			}
			admin := mk("admin", "", hookline.ScopeAdmin)
			portal := mk("portal", "acme", hookline.ScopeWebhooksRead, hookline.ScopeDeliveriesRead)
			backend := mk("backend", "", hookline.ScopeEventsWrite)
			globex := mk("globex", "globex", hookline.ScopeAdmin)

			for _, k := range []*hookline.APIKey{admin, portal, backend, globex} {
				got, err := e.s.APIKeyGet(e.ctx, k.ID)
				if err != nil {
					t.Fatalf("APIKeyGet: %v", err)
				}
				checkAPIKey(t, got, k)
				got, err = e.s.APIKeyGetByHash(e.ctx, k.Hash)
				if err != nil {
					t.Fatalf("APIKeyGetByHash: %v", err)
				}
				checkAPIKey(t, got, k)
			}
			unknown := sha256.Sum256([]byte("hk_nobody"))
			_, err := e.s.APIKeyGetByHash(e.ctx, unknown[:])
			wantNotFound(t, "APIKeyGetByHash of an unknown hash", err)
			_, err = e.s.APIKeyGet(e.ctx, hookline.NewID(hookline.PrefixAPIKey))
			wantNotFound(t, "APIKeyGet of an unknown id", err)

			list := func(p store.APIKeyListParams) []string {
				t.Helper()
				ks, err := e.s.APIKeyList(e.ctx, p)
				if err != nil {
					t.Fatalf("APIKeyList: %v", err)
				}
				var ids []string
				for _, k := range ks {
					ids = append(ids, k.ID)
					if len(k.Hash) == 0 {
						t.Errorf("APIKeyList: key %s lost its hash", k.ID)
					}
				}
				return ids
			}
			all := []string{globex.ID, backend.ID, portal.ID, admin.ID}
			if got := list(store.APIKeyListParams{}); !reflect.DeepEqual(got, all) {
				t.Errorf("APIKeyList: got %v, want %v (newest first)", got, all)
			}
			if got, want := list(store.APIKeyListParams{Tenant: "acme"}), []string{portal.ID}; !reflect.DeepEqual(got, want) {
				t.Errorf("APIKeyList of acme: got %v, want %v", got, want)
			}
			page := store.APIKeyListParams{ListParams: store.ListParams{Limit: 3}}
			first := list(page)
			page.Cursor = first[len(first)-1]
			if got := append(first, list(page)...); !reflect.DeepEqual(got, all) {
				t.Errorf("APIKeyList by 3: got %v, want %v", got, all)
			}
			countKeys(t, e, 4)

			if err := e.s.APIKeyDelete(e.ctx, portal.ID); err != nil {
				t.Fatalf("APIKeyDelete: %v", err)
			}
			_, err = e.s.APIKeyGet(e.ctx, portal.ID)
			wantNotFound(t, "APIKeyGet after APIKeyDelete", err)
			_, err = e.s.APIKeyGetByHash(e.ctx, portal.Hash)
			wantNotFound(t, "APIKeyGetByHash after APIKeyDelete", err)
			wantNotFound(t, "second APIKeyDelete", e.s.APIKeyDelete(e.ctx, portal.ID))
			countKeys(t, e, 3)
			if got, want := list(store.APIKeyListParams{}), []string{globex.ID, backend.ID, admin.ID}; !reflect.DeepEqual(got, want) {
				t.Errorf("APIKeyList after a delete: got %v, want %v", got, want)
			}
		},
		"UpgradeHash": func(t *testing.T) {
			e := newEnv(t, open)
			old := sha256.Sum256([]byte("hl_legacy"))
			k := &hookline.APIKey{ID: hookline.NewID(hookline.PrefixAPIKey), Name: "legacy", Scopes: []string{hookline.ScopeAdmin},
				Hash: old[:], CreatedAt: e.now}
			if err := e.s.APIKeyCreate(e.ctx, k); err != nil {
				t.Fatalf("APIKeyCreate: %v", err)
			}
			if got, err := e.s.APIKeyGet(e.ctx, k.ID); err != nil || got.HashVersion != 0 {
				t.Fatalf("APIKeyGet: got version %v, %v; want 0, nil", got, err)
			}
			upgraded := sha256.Sum256([]byte("peppered"))
			p := store.APIKeyUpgradeHashParams{ID: k.ID, OldHash: k.Hash, Hash: upgraded[:], HashVersion: 1}
			if ok, err := e.s.APIKeyUpgradeHash(e.ctx, p); !ok || err != nil {
				t.Fatalf("APIKeyUpgradeHash: got %v, %v; want true, nil", ok, err)
			}
			// A second node doing the same finds the hash changed: nothing happens.
			if ok, err := e.s.APIKeyUpgradeHash(e.ctx, p); ok || err != nil {
				t.Fatalf("second APIKeyUpgradeHash: got %v, %v; want false, nil", ok, err)
			}
			_, err := e.s.APIKeyGetByHash(e.ctx, old[:])
			wantNotFound(t, "APIKeyGetByHash of the replaced hash", err)
			got, err := e.s.APIKeyGetByHash(e.ctx, upgraded[:])
			if err != nil {
				t.Fatalf("APIKeyGetByHash of the new hash: %v", err)
			}
			k.Hash, k.HashVersion = upgraded[:], 1
			checkAPIKey(t, got, k)
			p.ID = hookline.NewID(hookline.PrefixAPIKey)
			if ok, err := e.s.APIKeyUpgradeHash(e.ctx, p); ok || err != nil {
				t.Fatalf("APIKeyUpgradeHash of an unknown key: got %v, %v; want false, nil", ok, err)
			}
		},
	})
}

func checkAPIKey(t *testing.T, got, want *hookline.APIKey) {
	t.Helper()
	if got.ID != want.ID || got.Name != want.Name || !slices.Equal(got.Scopes, want.Scopes) || got.Tenant != want.Tenant ||
		got.RateLimit != want.RateLimit || got.Prefix != want.Prefix || !bytes.Equal(got.Hash, want.Hash) ||
		got.HashVersion != want.HashVersion || !got.CreatedAt.Equal(want.CreatedAt) {
		t.Errorf("api key:\n got %+v\nwant %+v", got, want)
	}
}

func countKeys(t *testing.T, e *env, want int64) {
	t.Helper()
	n, err := e.s.APIKeyCount(e.ctx)
	if err != nil || n != want {
		t.Errorf("APIKeyCount: got %d, %v; want %d, nil", n, err, want)
	}
}
