package api_test

import (
	"bytes"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/hookline/hookline/internal/config"
)

// An Idempotency-Key on a POST: the first request runs and its answer is
// kept; the same key and request get that answer again and run nothing; the
// same key with another request is refused; keys belong to the API key that
// sends them.
func TestIdempotencyKey(t *testing.T) {
	onEachDriver(t, func(t *testing.T, setup setupFunc) {
		fx := setup(t, func(c *config.Config) { c.TenantKeyRateLimit = 100 })
		key := func(k string) http.Header { return http.Header{"Idempotency-Key": {k}} }
		webhooks := func(t *testing.T, apiKey string) int {
			t.Helper()
			return len(fx.do(t, "GET", "/v1/webhooks?limit=100", apiKey, nil).must(t, http.StatusOK).items())
		}

		t.Run("a retry gets the first answer", func(t *testing.T) {
			body := obj{"url": discard, "tenant": "t1", "description": "once"}
			first := fx.doHeader(t, "POST", "/v1/webhooks", fx.admin, body, key("create-1")).must(t, http.StatusCreated)
			if first.header.Get("Idempotent-Replayed") != "" {
				t.Errorf("the first answer says it is replayed")
			}
			again := fx.doHeader(t, "POST", "/v1/webhooks", fx.admin, body, key("create-1")).must(t, http.StatusCreated)
			if !bytes.Equal(again.raw, first.raw) || again.header.Get("Location") != first.header.Get("Location") ||
				again.header.Get("Content-Type") != first.header.Get("Content-Type") {
				t.Errorf("replay: got %s (Location %q), want the first answer %s (Location %q)", again.raw, again.header.Get("Location"), first.raw, first.header.Get("Location"))
			}
			if again.header.Get("Idempotent-Replayed") != "true" {
				t.Errorf("replay: Idempotent-Replayed = %q, want true", again.header.Get("Idempotent-Replayed"))
			}
			if again.header.Get("Request-Id") == first.header.Get("Request-Id") {
				t.Errorf("replay carries the first answer's Request-Id %q; each answer has its own", again.header.Get("Request-Id"))
			}
			if n := len(fx.do(t, "GET", "/v1/webhooks?tenant=t1", fx.admin, nil).items()); n != 1 {
				t.Errorf("got %d webhooks in t1, want 1", n)
			}
		})

		t.Run("another request with the key is refused", func(t *testing.T) {
			fx.doHeader(t, "POST", "/v1/webhooks", fx.admin, obj{"url": discard, "tenant": "t2"}, key("create-2")).must(t, http.StatusCreated)
			r := fx.doHeader(t, "POST", "/v1/webhooks", fx.admin, obj{"url": discard, "tenant": "t2", "description": "changed"}, key("create-2"))
			r.problem(t, http.StatusUnprocessableEntity, "")
			if r.str("type") != "urn:hookline:problem:idempotency-key-reused" {
				t.Errorf("got problem type %q", r.str("type"))
			}
			// Another route with the same key and body is another request too.
			fx.doHeader(t, "POST", "/v1/event-types", fx.admin, obj{"url": discard, "tenant": "t2"}, key("create-2")).
				problem(t, http.StatusUnprocessableEntity, "")
			if n := len(fx.do(t, "GET", "/v1/webhooks?tenant=t2", fx.admin, nil).items()); n != 1 {
				t.Errorf("got %d webhooks in t2, want 1", n)
			}
		})

		t.Run("keys belong to the API key", func(t *testing.T) {
			_, k1 := fx.createKey(t, obj{"name": "one", "tenant": "t3", "scopes": []string{"webhooks:write", "webhooks:read"}})
			_, k2 := fx.createKey(t, obj{"name": "two", "tenant": "t3", "scopes": []string{"webhooks:write", "webhooks:read"}})
			body := obj{"url": discard}
			a := fx.doHeader(t, "POST", "/v1/webhooks", k1, body, key("shared")).must(t, http.StatusCreated)
			b := fx.doHeader(t, "POST", "/v1/webhooks", k2, body, key("shared")).must(t, http.StatusCreated)
			if a.str("id") == b.str("id") || b.header.Get("Idempotent-Replayed") != "" {
				t.Errorf("two API keys, one Idempotency-Key: got %s and %s, want two webhooks", a.str("id"), b.str("id"))
			}
			if n := webhooks(t, k1); n != 2 {
				t.Errorf("got %d webhooks in t3, want 2", n)
			}
			// A replay takes a token like any request, and says where the
			// bucket stands now, not when the answer was made.
			before := a.header.Get("X-RateLimit-Remaining")
			r := fx.doHeader(t, "POST", "/v1/webhooks", k1, body, key("shared")).must(t, http.StatusCreated)
			if r.header.Get("X-RateLimit-Remaining") == before || r.header.Get("X-RateLimit-Remaining") == "" {
				t.Errorf("replay: X-RateLimit-Remaining %q, the first answer's was %q", r.header.Get("X-RateLimit-Remaining"), before)
			}
		})

		t.Run("a refusal is kept too", func(t *testing.T) {
			body := obj{"url": "ftp://example.invalid/x", "tenant": "t4"}
			first := fx.doHeader(t, "POST", "/v1/webhooks", fx.admin, body, key("bad-1"))
			first.problem(t, http.StatusUnprocessableEntity, "url")
			// The replay is the first answer byte for byte: its instance
			// names the request that made it, whose log lines tell more.
			again := fx.doHeader(t, "POST", "/v1/webhooks", fx.admin, body, key("bad-1"))
			if again.status != first.status || !bytes.Equal(again.raw, first.raw) || again.header.Get("Idempotent-Replayed") != "true" {
				t.Errorf("replayed refusal: got %d %s (replayed %q), want %s", again.status, again.raw, again.header.Get("Idempotent-Replayed"), first.raw)
			}
		})

		t.Run("an action runs once", func(t *testing.T) {
			rc := fx.receiver()
			wh := fx.createWebhook(t, fx.admin, obj{"url": rc.url + "/once", "tenant": "t5"}).str("id")
			for range 3 {
				fx.doHeader(t, "POST", "/v1/webhooks/"+wh+"/test", fx.admin, nil, key("test-1")).must(t, http.StatusOK)
			}
			rc.waitFor(t, "/once", 1)
			if n := len(rc.requests("/once")); n != 1 {
				t.Errorf("the receiver got %d test sends, want 1", n)
			}
		})

		t.Run("concurrent retries create one", func(t *testing.T) {
			const n = 8
			var wg sync.WaitGroup
			statuses := make([]int, n)
			ids := make([]string, n)
			for i := range n {
				wg.Go(func() {
					r, err := fx.send("POST", "/v1/webhooks", fx.admin, obj{"url": discard, "tenant": "t6"}, key("race"))
					if err != nil {
						t.Error(err)
						return
					}
					statuses[i], ids[i] = r.status, r.str("id")
				})
			}
			wg.Wait()
			created := map[string]bool{}
			for i, s := range statuses {
				switch s {
				case http.StatusCreated:
					created[ids[i]] = true
				case http.StatusConflict: // still running: retry later
				default:
					t.Errorf("concurrent request %d: got status %d, want 201 or 409", i, s)
				}
			}
			if len(created) != 1 {
				t.Errorf("answers named %d webhooks, want 1", len(created))
			}
			if n := len(fx.do(t, "GET", "/v1/webhooks?tenant=t6", fx.admin, nil).items()); n != 1 {
				t.Errorf("got %d webhooks in t6, want 1", n)
			}
		})

		t.Run("bad keys", func(t *testing.T) {
			for _, k := range []string{"", strings.Repeat("k", 256), "a b", "clé"} {
				r := fx.doHeader(t, "POST", "/v1/webhooks", fx.admin, obj{"url": discard, "tenant": "t7"}, key(k))
				r.problem(t, http.StatusBadRequest, "Idempotency-Key")
			}
			if n := len(fx.do(t, "GET", "/v1/webhooks?tenant=t7", fx.admin, nil).items()); n != 0 {
				t.Errorf("got %d webhooks in t7, want none", n)
			}
		})

		t.Run("a key shown once is replayed to its retry only", func(t *testing.T) {
			body := obj{"name": "retried", "scopes": []string{"events:write"}}
			first := fx.doHeader(t, "POST", "/v1/api-keys", fx.admin, body, key("apikey-1")).must(t, http.StatusCreated)
			again := fx.doHeader(t, "POST", "/v1/api-keys", fx.admin, body, key("apikey-1")).must(t, http.StatusCreated)
			if again.str("key") != first.str("key") || again.str("key") == "" {
				t.Errorf("a retry of a lost answer must get the key it created")
			}
			_, other := fx.createKey(t, obj{"name": "other admin", "scopes": []string{"admin"}})
			r := fx.doHeader(t, "POST", "/v1/api-keys", other, body, key("apikey-1")).must(t, http.StatusCreated)
			if r.str("key") == first.str("key") {
				t.Errorf("another API key's request with the same Idempotency-Key got the first key")
			}
		})
	})
}
