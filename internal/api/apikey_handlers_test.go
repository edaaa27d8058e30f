package api_test

import (
	"net/http"
	"slices"
	"strconv"
	"testing"

	"github.com/hookline/hookline/internal/config"
)

// A key with api-keys:admin but not admin may not delete (or create) keys
// stronger than itself: deleting the admin keys would lock the operator out.
func TestAPIKeysCannotActOnStrongerKeys(t *testing.T) {
	onEachDriver(t, func(t *testing.T, setup setupFunc) {
		fx := setup(t)
		keysID, keysAdmin := fx.createKey(t, obj{"name": "key manager", "scopes": []string{"api-keys:admin", "webhooks:read"}})
		otherAdminID, _ := fx.createKey(t, obj{"name": "second admin", "scopes": []string{"admin"}})
		writerID, _ := fx.createKey(t, obj{"name": "writer", "scopes": []string{"webhooks:write"}})
		readerID, reader := fx.createKey(t, obj{"name": "reader", "scopes": []string{"webhooks:read"}})
		bootstrapID := fx.keyIDs(t)[len(fx.keyIDs(t))-1]

		for _, id := range []string{bootstrapID, otherAdminID, writerID} {
			fx.do(t, "DELETE", "/v1/api-keys/"+id, keysAdmin, nil).problem(t, http.StatusForbidden, "scopes")
		}
		fx.do(t, "GET", "/v1/webhooks", fx.admin, nil).must(t, http.StatusOK)
		if got := fx.keyIDs(t); !slices.Contains(got, bootstrapID) || !slices.Contains(got, otherAdminID) || !slices.Contains(got, writerID) {
			t.Fatalf("after the refused deletes: got keys %v, want the admin and writer keys kept", got)
		}
		fx.do(t, "POST", "/v1/api-keys", keysAdmin, obj{"name": "x", "scopes": []string{"admin"}}).problem(t, http.StatusForbidden, "scopes")

		// Keys it covers it may delete, itself included.
		fx.do(t, "DELETE", "/v1/api-keys/"+readerID, keysAdmin, nil).must(t, http.StatusNoContent)
		fx.do(t, "GET", "/v1/webhooks", reader, nil).problem(t, http.StatusUnauthorized, "")
		fx.do(t, "DELETE", "/v1/api-keys/"+keysID, keysAdmin, nil).must(t, http.StatusNoContent)
	})
}

// A rate-limited key cannot mint keys with a higher limit, or none, nor delete
// them.
func TestAPIKeysCannotRaiseLimits(t *testing.T) {
	onEachDriver(t, func(t *testing.T, setup setupFunc) {
		fx := setup(t)
		_, limited := fx.createKey(t, obj{"name": "limited", "scopes": []string{"api-keys:admin", "webhooks:read"}, "rate_limit": 100})
		unlimitedID, _ := fx.createKey(t, obj{"name": "unlimited reader", "scopes": []string{"webhooks:read"}})

		fx.do(t, "POST", "/v1/api-keys", limited, obj{"name": "x", "scopes": []string{"webhooks:read"}, "rate_limit": 500}).
			problem(t, http.StatusForbidden, "rate_limit")
		r := fx.do(t, "POST", "/v1/api-keys", limited, obj{"name": "inherits", "scopes": []string{"webhooks:read"}}).must(t, http.StatusCreated)
		if got, _ := r.body["rate_limit"].(float64); got != 100 {
			t.Errorf("a key made by a key limited to 100/h without a limit: got rate_limit %v, want 100 (inherited)", r.body["rate_limit"])
		}
		r = fx.do(t, "POST", "/v1/api-keys", limited, obj{"name": "lower", "scopes": []string{"webhooks:read"}, "rate_limit": 50}).must(t, http.StatusCreated)
		if got, _ := r.body["rate_limit"].(float64); got != 50 {
			t.Errorf("got rate_limit %v, want 50", r.body["rate_limit"])
		}
		fx.do(t, "DELETE", "/v1/api-keys/"+unlimitedID, limited, nil).problem(t, http.StatusForbidden, "rate_limit")
		fx.do(t, "DELETE", "/v1/api-keys/"+r.str("id"), limited, nil).must(t, http.StatusNoContent)

		// A tenant key's default limit is the server's: its children get the same.
		_, tenantKeys := fx.createKey(t, obj{"name": "acme keys", "scopes": []string{"api-keys:admin", "webhooks:read"}, "tenant": "acme"})
		r = fx.do(t, "POST", "/v1/api-keys", tenantKeys, obj{"name": "acme child", "scopes": []string{"webhooks:read"}}).must(t, http.StatusCreated)
		if _, ok := r.body["rate_limit"]; ok {
			t.Errorf("a tenant key's child: got rate_limit %v, want none of its own (the tenant default)", r.body["rate_limit"])
		}
	})
}

// HOOKLINE_ADMIN_KEY works while it is set: it cannot be deleted through the
// API, and if it is gone from the database anyway it is stored again.
func TestOperatorKeyAlwaysWorks(t *testing.T) {
	onEachDriver(t, func(t *testing.T, setup setupFunc) {
		const operator = "operator-chosen-admin-key-0123"
		fx := setup(t, func(c *config.Config) { c.AdminKey = operator })
		fx.secrets[operator] = true

		var opID string
		for _, it := range fx.do(t, "GET", "/v1/api-keys", fx.admin, nil).must(t, http.StatusOK).items() {
			if it["name"] == "operator admin (HOOKLINE_ADMIN_KEY)" {
				opID, _ = it["id"].(string)
				if p, _ := it["prefix"].(string); p != "" {
					t.Errorf("an operator-chosen key shows prefix %q, want none", p)
				}
			}
		}
		if opID == "" {
			t.Fatal("the operator's key is not listed")
		}
		r := fx.do(t, "DELETE", "/v1/api-keys/"+opID, fx.admin, nil)
		r.problem(t, http.StatusConflict, "")

		// Deleted behind the API's back (another node with other settings, a
		// database edit): the next request with it stores it again. (It has not been
		// used yet, so this node has not cached it.)
		if err := fx.store.APIKeyDelete(t.Context(), opID); err != nil {
			t.Fatal(err)
		}
		fx.do(t, "GET", "/v1/webhooks", operator, nil).must(t, http.StatusOK)
		fx.do(t, "POST", "/v1/webhooks", operator, obj{"url": discard}).must(t, http.StatusCreated)
		if n := len(fx.keyIDs(t)); n != 2 {
			t.Errorf("got %d keys, want 2 (the generated and the operator's)", n)
		}
	})
}

// Failed authentications from an address are throttled; requests with a valid
// key from the same address are not (one misconfigured client behind a NAT
// must not lock out the others).
func TestAuthenticationThrottleSparesValidKeys(t *testing.T) {
	onEachDriver(t, func(t *testing.T, setup setupFunc) {
		fx := setup(t)
		for i := range 40 {
			r := fx.do(t, "GET", "/v1/webhooks", "hl_wrong-"+strconv.Itoa(i), nil)
			if r.status != http.StatusUnauthorized && r.status != http.StatusTooManyRequests {
				t.Fatalf("bad key %d: got status %d, want 401 or 429", i, r.status)
			}
		}
		fx.do(t, "GET", "/v1/webhooks", "hl_still-wrong", nil).problem(t, http.StatusTooManyRequests, "")
		for range 5 {
			fx.do(t, "GET", "/v1/webhooks", fx.admin, nil).must(t, http.StatusOK)
		}
	})
}

// keyIDs lists every key's id, newest first.
func (fx *fixture) keyIDs(t *testing.T) []string {
	t.Helper()
	return fx.do(t, "GET", "/v1/api-keys", fx.admin, nil).must(t, http.StatusOK).ids()
}
