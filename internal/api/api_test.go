// The API tests are black-box: a real SQLite store, a real delivery engine and
// the API on a loopback HTTP server (setup_test.go), driven over HTTP.
package api_test

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/hookline/hookline/internal/config"
)

func TestHealthDocsAndMetrics(t *testing.T) {
	t.Parallel()
	fx := setup(t)

	if r := fx.do(t, "GET", "/healthz", "", nil).must(t, http.StatusOK); r.str("status") != "ok" {
		t.Errorf("healthz: got %s, want status ok", r.raw)
	}
	if r := fx.do(t, "GET", "/readyz", "", nil).must(t, http.StatusOK); r.str("status") != "ready" {
		t.Errorf("readyz: got %s, want status ready", r.raw)
	}

	oa := fx.do(t, "GET", "/openapi.json", "", nil).must(t, http.StatusOK)
	if ct := oa.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("openapi.json: got Content-Type %q, want application/json", ct)
	}
	if v := oa.str("openapi"); !strings.HasPrefix(v, "3.1") {
		t.Errorf("openapi.json: got openapi %q, want 3.1.x", v)
	}
	paths, _ := oa.body["paths"].(map[string]any)
	for _, p := range []string{"/v1/webhooks", "/v1/events", "/v1/deliveries/{id}/retry"} {
		if _, ok := paths[p]; !ok {
			t.Errorf("openapi.json: no path %s", p)
		}
	}

	docs := fx.do(t, "GET", "/docs", "", nil).must(t, http.StatusOK)
	if ct := docs.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("docs: got Content-Type %q, want text/html", ct)
	}
	if !bytes.Contains(docs.raw, []byte("<html")) || !bytes.Contains(docs.raw, []byte("/v1/webhooks/{id}/test")) {
		t.Errorf("docs: the page does not describe the routes:\n%.300s", docs.raw)
	}

	fx.do(t, "GET", "/v1/no-such-route", fx.admin, nil).problem(t, http.StatusNotFound, "")
	wrong := fx.do(t, "DELETE", "/v1/webhooks", fx.admin, nil)
	wrong.problem(t, http.StatusMethodNotAllowed, "")
	if got := wrong.header.Get("Allow"); got != "GET, HEAD, POST" {
		t.Errorf("405: got Allow %q, want \"GET, HEAD, POST\"", got)
	}

	// Some traffic, then the metrics must count it.
	rc := fx.receiver()
	fx.createWebhook(t, fx.admin, obj{"url": rc.url + "/m"})
	fx.publish(t, fx.admin, obj{"type": "invoice.paid", "data": obj{}})
	rc.waitFor(t, "/m", 1)
	want := []string{
		`hookline_http_requests_total{code="201",route="POST /v1/webhooks"} 1`,
		`hookline_http_requests_total{code="202",route="POST /v1/events"} 1`,
		`hookline_events_published_total 1`,
		`hookline_attempts_total{outcome="success"} 1`,
		`hookline_deliveries_ended_total{status="succeeded"} 1`,
	}
	var page string
	eventually(t, func() bool {
		r := fx.do(t, "GET", "/metrics", "", nil).must(t, http.StatusOK)
		page = string(r.raw)
		for _, w := range want {
			if !strings.Contains(page, w) {
				return false
			}
		}
		return true
	}, func() string { return fmt.Sprintf("metrics never showed all of %q:\n%s", want, page) })
	// Labels are route patterns: an unknown path must not become a label value
	// (unbounded cardinality).
	if strings.Contains(page, "no-such-route") {
		t.Errorf("metrics label an unknown path")
	}
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	_, eventsReader := fx.createKey(t, obj{"name": "reader", "scopes": []string{"events:read"}})

	tests := []struct {
		name   string
		header string // Authorization
		want   int
	}{
		{"no key", "", http.StatusUnauthorized},
		{"empty bearer", "Bearer ", http.StatusUnauthorized},
		{"unknown key", "Bearer hl_not-a-real-key", http.StatusUnauthorized},
		{"key under another scheme", "Basic " + fx.admin, http.StatusUnauthorized},
		{"admin key", "Bearer " + fx.admin, http.StatusOK},
		// RFC 9110 §11.1: the scheme is case-insensitive.
		{"lower-case scheme", "bearer " + fx.admin, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.header != "" {
				h.Set("Authorization", tt.header)
			}
			r := fx.doHeader(t, "GET", "/v1/webhooks", "", nil, h)
			if tt.want != http.StatusOK {
				r.problem(t, tt.want, "")
				if got := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
					t.Errorf("got WWW-Authenticate %q, want a Bearer challenge (RFC 9110 §15.5.2)", got)
				}
				return
			}
			r.must(t, tt.want)
		})
	}

	t.Run("missing scope", func(t *testing.T) {
		fx.do(t, "GET", "/v1/events", eventsReader, nil).must(t, http.StatusOK)
		r := fx.do(t, "POST", "/v1/webhooks", eventsReader, obj{"url": discard})
		r.problem(t, http.StatusForbidden, "")
		if !strings.Contains(r.str("detail"), "webhooks:write") {
			t.Errorf("detail %q does not name the missing scope webhooks:write", r.str("detail"))
		}
		fx.do(t, "GET", "/v1/api-keys", eventsReader, nil).problem(t, http.StatusForbidden, "")
		fx.do(t, "POST", "/v1/events", eventsReader, obj{"type": "a.b", "data": obj{}}).problem(t, http.StatusForbidden, "")
	})
}

func TestAuthenticationFailuresAreThrottled(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	const limit = 30 // docs/api.md: thirty failed authentications in a minute
	for i := range limit {
		key := "hl_guess-" + strconv.Itoa(i)
		if i%3 == 0 {
			key = "" // no key at all counts too
		}
		if r := fx.do(t, "GET", "/v1/webhooks", key, nil); r.status != http.StatusUnauthorized {
			t.Fatalf("failure %d: got status %d, want 401", i+1, r.status)
		}
	}
	r := fx.do(t, "GET", "/v1/webhooks", "hl_one-more-guess", nil)
	r.problem(t, http.StatusTooManyRequests, "")
	secs, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil || secs < 1 || secs > 60 {
		t.Errorf("got Retry-After %q, want 1 to 60 seconds", r.header.Get("Retry-After"))
	}
}

func TestAPIKeys(t *testing.T) {
	t.Parallel()
	fx := setup(t)

	r := fx.do(t, "POST", "/v1/api-keys", fx.admin, obj{
		"name": "acme integration", "scopes": []string{"webhooks:read", "events:write"}, "tenant": "acme",
	}).must(t, http.StatusCreated)
	id, key := r.str("id"), r.str("key")
	if !strings.HasPrefix(id, "key_") || !strings.HasPrefix(key, "hl_") || len(key) < 40 {
		t.Fatalf("got id %q and key %q, want key_… and a long hl_… key", id, key)
	}
	if r.str("tenant") != "acme" || r.str("name") != "acme integration" || r.str("prefix") != key[:7] {
		t.Errorf("got %s, want tenant acme, the name and prefix %q", r.raw, key[:7])
	}
	if got := fmt.Sprint(r.body["scopes"]); got != "[webhooks:read events:write]" {
		t.Errorf("got scopes %s, want [webhooks:read events:write]", got)
	}
	if _, ok := r.body["hash"]; ok {
		t.Errorf("the answer shows the key's hash: %s", r.raw)
	}

	fx.do(t, "GET", "/v1/webhooks", key, nil).must(t, http.StatusOK)
	fx.do(t, "POST", "/v1/webhooks", key, obj{"url": discard}).problem(t, http.StatusForbidden, "")

	list := fx.do(t, "GET", "/v1/api-keys", fx.admin, nil).must(t, http.StatusOK)
	if ids := list.ids(); len(ids) != 2 || ids[0] != id {
		t.Errorf("got key ids %v, want [%s <bootstrap key>] newest first", ids, id)
	}
	if bytes.Contains(list.raw, []byte(key)) || bytes.Contains(list.raw, []byte(fx.admin)) {
		t.Errorf("the key list shows a key: %s", list.raw)
	}
	for _, it := range list.items() {
		if _, ok := it["key"]; ok {
			t.Errorf("a listed key has a key field: %v", it)
		}
	}

	invalid := []struct {
		name   string
		body   any
		status int
		field  string
	}{
		{"unknown scope", obj{"name": "x", "scopes": []string{"webhooks:delete"}}, http.StatusUnprocessableEntity, "scopes"},
		{"no scopes", obj{"name": "x", "scopes": []string{}}, http.StatusUnprocessableEntity, "scopes"},
		{"scopes not an array", obj{"name": "x", "scopes": "admin"}, http.StatusBadRequest, "scopes"},
		{"no name", obj{"scopes": []string{"admin"}}, http.StatusUnprocessableEntity, "name"},
		{"negative rate limit", obj{"name": "x", "scopes": []string{"admin"}, "rate_limit": -1}, http.StatusUnprocessableEntity, "rate_limit"},
		{"unknown field", obj{"name": "x", "scopes": []string{"admin"}, "expires": "never"}, http.StatusBadRequest, "expires"},
		{"tenant with a control character", obj{"name": "x", "scopes": []string{"admin"}, "tenant": "a\nb"}, http.StatusUnprocessableEntity, "tenant"},
	}
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) {
			fx.do(t, "POST", "/v1/api-keys", fx.admin, tt.body).problem(t, tt.status, tt.field)
		})
	}
	if n := len(fx.do(t, "GET", "/v1/api-keys", fx.admin, nil).items()); n != 2 {
		t.Errorf("after the invalid requests: got %d keys, want 2", n)
	}

	fx.do(t, "DELETE", "/v1/api-keys/"+id, fx.admin, nil).must(t, http.StatusNoContent)
	fx.do(t, "GET", "/v1/webhooks", key, nil).problem(t, http.StatusUnauthorized, "")
	fx.do(t, "DELETE", "/v1/api-keys/"+id, fx.admin, nil).problem(t, http.StatusNotFound, "")
}

func TestAPIKeysOfATenantKey(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	acmeID, acmeAdmin := fx.createKey(t, obj{"name": "acme keys", "scopes": []string{"api-keys:admin", "webhooks:read"}, "tenant": "acme"})
	globexID, globex := fx.createKey(t, obj{"name": "globex", "scopes": []string{"webhooks:read"}, "tenant": "globex"})

	r := fx.do(t, "POST", "/v1/api-keys", acmeAdmin, obj{"name": "child", "scopes": []string{"webhooks:read"}}).must(t, http.StatusCreated)
	if r.str("tenant") != "acme" {
		t.Errorf("a key made by a tenant key: got tenant %q, want acme", r.str("tenant"))
	}
	childID := r.str("id")
	fx.do(t, "POST", "/v1/api-keys", acmeAdmin, obj{"name": "x", "scopes": []string{"webhooks:read"}, "tenant": "globex"}).
		problem(t, http.StatusForbidden, "tenant")
	fx.do(t, "POST", "/v1/api-keys", acmeAdmin, obj{"name": "x", "scopes": []string{"webhooks:write"}}).
		problem(t, http.StatusForbidden, "scopes")

	list := fx.do(t, "GET", "/v1/api-keys", acmeAdmin, nil).must(t, http.StatusOK)
	if got, want := list.ids(), []string{childID, acmeID}; !slices.Equal(got, want) {
		t.Errorf("a tenant key lists keys %v, want only its tenant's %v", got, want)
	}
	fx.do(t, "DELETE", "/v1/api-keys/"+globexID, acmeAdmin, nil).problem(t, http.StatusNotFound, "")
	fx.do(t, "GET", "/v1/webhooks", globex, nil).must(t, http.StatusOK)
}

func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	rc := fx.receiver()
	_, acme := fx.createKey(t, obj{"name": "acme", "tenant": "acme", "scopes": []string{
		"webhooks:read", "webhooks:write", "events:read", "events:write", "deliveries:read", "deliveries:write",
	}})

	whA := fx.createWebhook(t, fx.admin, obj{"url": rc.url + "/acme", "tenant": "acme"}).str("id")
	whB := fx.createWebhook(t, fx.admin, obj{"url": rc.url + "/globex", "tenant": "globex", "description": "theirs"}).str("id")
	evB := fx.publish(t, fx.admin, obj{"type": "invoice.paid", "tenant": "globex", "data": obj{"n": 1}})
	dlvB := oneDelivery(t, evB)
	evA := fx.publish(t, acme, obj{"type": "invoice.paid", "data": obj{"n": 2}})
	if evA.str("tenant") != "acme" {
		t.Errorf("published by an acme key: got tenant %q, want acme", evA.str("tenant"))
	}
	fx.waitDelivery(t, dlvB, "succeeded")
	fx.waitDelivery(t, oneDelivery(t, evA), "succeeded")

	absent := fx.do(t, "GET", "/v1/webhooks/wh_01doesnotexist0000000000000", acme, nil)
	absent.problem(t, http.StatusNotFound, "")
	hidden := []struct{ method, path string }{
		{"GET", "/v1/webhooks/" + whB},
		{"PATCH", "/v1/webhooks/" + whB},
		{"PUT", "/v1/webhooks/" + whB},
		{"DELETE", "/v1/webhooks/" + whB},
		{"POST", "/v1/webhooks/" + whB + "/test"},
		{"GET", "/v1/webhooks/" + whB + "/logs"},
		{"GET", "/v1/events/" + evB.str("id")},
		{"GET", "/v1/deliveries/" + dlvB},
		{"POST", "/v1/deliveries/" + dlvB + "/retry"},
	}
	for _, h := range hidden {
		t.Run(h.method+" "+h.path, func(t *testing.T) {
			var body any
			if h.method == "PATCH" || h.method == "PUT" {
				body = obj{"url": discard, "description": "mine now"}
			}
			r := fx.do(t, h.method, h.path, acme, body)
			r.problem(t, http.StatusNotFound, "")
			if r.str("detail") != absent.str("detail") {
				t.Errorf("got detail %q, want %q as for an object that does not exist", r.str("detail"), absent.str("detail"))
			}
		})
	}

	for _, path := range []string{"/v1/webhooks", "/v1/webhooks?tenant=globex"} {
		if got := fx.do(t, "GET", path, acme, nil).must(t, http.StatusOK).ids(); !slices.Equal(got, []string{whA}) {
			t.Errorf("GET %s with the acme key: got %v, want [%s]", path, got, whA)
		}
	}
	if got := fx.do(t, "GET", "/v1/events", acme, nil).must(t, http.StatusOK).ids(); !slices.Equal(got, []string{evA.str("id")}) {
		t.Errorf("events with the acme key: got %v, want [%s]", got, evA.str("id"))
	}
	for _, d := range fx.do(t, "GET", "/v1/deliveries", acme, nil).must(t, http.StatusOK).items() {
		if d["tenant"] != "acme" || d["webhook_id"] != whA {
			t.Errorf("the acme key lists another tenant's delivery %v", d)
		}
	}

	fx.do(t, "POST", "/v1/webhooks", acme, obj{"url": discard, "tenant": "globex"}).problem(t, http.StatusForbidden, "tenant")
	if r := fx.createWebhook(t, acme, obj{"url": discard}); r.str("tenant") != "acme" {
		t.Errorf("created by the acme key: got tenant %q, want acme", r.str("tenant"))
	}
	fx.do(t, "POST", "/v1/events", acme, obj{"type": "a.b", "tenant": "globex", "data": obj{}}).problem(t, http.StatusForbidden, "tenant")

	// Nothing the acme key tried reached globex's webhook.
	if r := fx.do(t, "GET", "/v1/webhooks/"+whB, fx.admin, nil).must(t, http.StatusOK); r.str("description") != "theirs" || r.str("url") != rc.url+"/globex" {
		t.Errorf("globex's webhook changed: %s", r.raw)
	}
	if n := len(fx.do(t, "GET", "/v1/webhooks/"+whB+"/logs", fx.admin, nil).items()); n != 1 {
		t.Errorf("globex's webhook has %d attempts, want 1 (the test call must not have run)", n)
	}
}

func TestRateLimits(t *testing.T) {
	t.Parallel()
	fx := setup(t, func(c *config.Config) { c.TenantKeyRateLimit = 3 })
	scopes := []string{"webhooks:read"}
	_, tenantKey := fx.createKey(t, obj{"name": "t", "tenant": "acme", "scopes": scopes})
	_, otherKey := fx.createKey(t, obj{"name": "o", "tenant": "acme", "scopes": scopes})
	_, ownLimit := fx.createKey(t, obj{"name": "own", "tenant": "acme", "scopes": scopes, "rate_limit": 5})
	_, limitedAdmin := fx.createKey(t, obj{"name": "limited admin", "scopes": []string{"admin"}, "rate_limit": 2})

	exhaust := func(t *testing.T, key string, allowed, window int) {
		t.Helper()
		for i := range allowed {
			if r := fx.do(t, "GET", "/v1/webhooks", key, nil); r.status != http.StatusOK {
				t.Fatalf("request %d of %d allowed: got %d %s", i+1, allowed, r.status, r.raw)
			}
		}
		r := fx.do(t, "GET", "/v1/webhooks", key, nil)
		r.problem(t, http.StatusTooManyRequests, "")
		secs, err := strconv.Atoi(r.header.Get("Retry-After"))
		if err != nil || secs < 1 || secs > window {
			t.Errorf("got Retry-After %q, want 1 to %d seconds", r.header.Get("Retry-After"), window)
		}
		if r.body["retry_after"] != float64(secs) {
			t.Errorf("got retry_after %v, want %d as in the header", r.body["retry_after"], secs)
		}
	}
	t.Run("tenant key default", func(t *testing.T) { exhaust(t, tenantKey, 3, 3600/3) })
	t.Run("limit is per key", func(t *testing.T) { fx.do(t, "GET", "/v1/webhooks", otherKey, nil).must(t, http.StatusOK) })
	t.Run("key's own limit", func(t *testing.T) { exhaust(t, ownLimit, 5, 3600/5) })
	t.Run("admin key given a limit", func(t *testing.T) { exhaust(t, limitedAdmin, 2, 3600/2) })
	t.Run("refusals are counted", func(t *testing.T) {
		page := string(fx.do(t, "GET", "/metrics", "", nil).must(t, http.StatusOK).raw)
		if !strings.Contains(page, "hookline_rate_limited_total 3") {
			t.Errorf("metrics: want hookline_rate_limited_total 3 after three 429s")
		}
	})
	t.Run("admin key unlimited", func(t *testing.T) {
		for i := range 200 {
			if r := fx.do(t, "GET", "/v1/webhooks", fx.admin, nil); r.status != http.StatusOK {
				t.Fatalf("request %d: got %d %s", i+1, r.status, r.raw)
			}
		}
	})
}

func TestNoSecretInLogs(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	rc := fx.receiver()
	secret := "whsec_" + "c2VjcmV0LXRoYXQtbXVzdC1uZXZlci1iZS1sb2dnZWQ="
	c := fx.createWebhook(t, fx.admin, obj{"url": rc.url + "/gone", "secret": secret})
	_, key := fx.createKey(t, obj{"name": "k", "scopes": []string{"admin"}})
	rc.respond("/gone", http.StatusGone)
	ev := fx.publish(t, key, obj{"type": "invoice.paid", "data": obj{}})
	dlv := oneDelivery(t, ev)
	fx.waitDelivery(t, dlv, "failed")
	eventually(t, func() bool { return strings.Contains(fx.logs.String(), "webhook disabled") },
		func() string { return "the server never logged the disabling:\n" + fx.logs.String() })
	if r := fx.do(t, "GET", "/v1/webhooks/"+c.str("id"), key, nil); r.body["active"] != false || !strings.Contains(r.str("disabled_reason"), "410") {
		t.Errorf("after 410 Gone: got %s, want the webhook disabled for the 410", r.raw)
	}
	if r := fx.do(t, "PATCH", "/v1/webhooks/"+c.str("id"), key, obj{"active": true}).must(t, http.StatusOK); r.body["active"] != true || r.str("disabled_reason") != "" {
		t.Errorf("re-activated: got %s, want active with the disabled reason cleared", r.raw)
	}
	// A failed authentication presents a key too.
	fx.do(t, "GET", "/v1/webhooks", key+"x", nil).problem(t, http.StatusUnauthorized, "")
	// The fixture's cleanup also checks the whole log, after shutdown, against
	// every secret and key the test saw.
	for _, s := range []string{secret, key, fx.admin} {
		if strings.Contains(fx.logs.String(), s) {
			t.Errorf("the log contains %.12s…", s)
		}
	}
}

// A key that is not in the database is logged, once a minute per client and
// never whole, so that "every request is 401" has a line to find in the log.
func TestRefusedKeyIsLogged(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	wrong := "hl_notInThisDatabase0123456789abcdef"
	for range 3 {
		fx.do(t, "GET", "/v1/webhooks", wrong, nil).problem(t, http.StatusUnauthorized, "")
	}
	logged := fx.logs.String()
	if n := strings.Count(logged, "refused an API key that is not in the database"); n != 1 {
		t.Errorf("the refusal was logged %d times, want once a minute:\n%s", n, logged)
	}
	if !strings.Contains(logged, "key_start=hl_notI…") {
		t.Errorf("the log line does not show the key's start:\n%s", logged)
	}
	if strings.Contains(logged, wrong) {
		t.Errorf("the log shows the whole key")
	}
}
