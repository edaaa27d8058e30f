package apikeys_test

import (
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/apikeys"
	"github.com/hookline/hookline/internal/testkit"
)

// formulrApp is Formulr's API in front of h: Authorization: Bearer, and
// three routes.
func formulrApp(t *testing.T, h *hookline) *app {
	t.Helper()
	h.must(t, http.StatusCreated, "POST", "/v1/keyspaces", formulrKeyspace)
	mw := &apikeys.Middleware{Client: h.client(t), Keyspace: "formulr"}
	return newApp(t, mw, func(mux *http.ServeMux, next http.Handler) {
		mux.Handle("GET /v1/campaigns", mw.Require("campaigns:read")(next))
		mux.Handle("POST /v1/campaigns", mw.Require("campaigns:write")(next))
		mux.Handle("GET /v1/forms/{id}/responses", mw.RequireResource(apikeys.PathResource("form:", "id"), "responses:read")(next))
	})
}

// rateLimitRE is the RateLimit field of the "default" policy.
var rateLimitRE = regexp.MustCompile(`^"default";r=(\d+);t=(\d+)$`)

// checkRateLimit checks the answer's rate-limit fields: limit per hour,
// remaining, and a reset between minReset and maxReset seconds.
func checkRateLimit(t *testing.T, ans answer, limit, remaining, minReset, maxReset int) {
	t.Helper()
	if got, want := ans.header.Get("RateLimit-Policy"), `"default";q=`+strconv.Itoa(limit)+";w=3600"; got != want {
		t.Errorf("RateLimit-Policy %q, want %q", got, want)
	}
	m := rateLimitRE.FindStringSubmatch(ans.header.Get("RateLimit"))
	if m == nil {
		t.Fatalf("RateLimit %q, want \"default\";r=N;t=N", ans.header.Get("RateLimit"))
	}
	reset, _ := strconv.Atoi(m[2])
	if m[1] != strconv.Itoa(remaining) || reset < minReset || reset > maxReset {
		t.Errorf("RateLimit %q, want r=%d and t in [%d, %d]", ans.header.Get("RateLimit"), remaining, minReset, maxReset)
	}
	for f, want := range map[string]string{"X-RateLimit-Limit": strconv.Itoa(limit), "X-RateLimit-Remaining": strconv.Itoa(remaining), "X-RateLimit-Reset": m[2]} {
		if got := ans.header.Get(f); got != want {
			t.Errorf("%s %q, want %q", f, got, want)
		}
	}
}

// Through the middleware with Authorization: Bearer: every refusal, and a
// valid key's way to the handler.
func TestMiddlewareBearer(t *testing.T) {
	t.Parallel()
	h := startHookline(t)
	a := formulrApp(t, h)
	key, id := h.issue(t, "formulr", obj{"tenant": "acme", "name": "CRM", "permissions": []any{"campaigns:read", "responses:read"}, "meta": obj{"plan": "pro"}})

	t.Run("no key", func(t *testing.T) {
		for name, header := range map[string]http.Header{
			"no header":      nil,
			"empty":          {"Authorization": {""}},
			"another scheme": {"Authorization": {"Basic " + key}},
		} {
			ans := a.call(t, "GET", "/v1/campaigns", header, key)
			ans.problem(t, http.StatusUnauthorized, apikeys.ProblemMissingKey)
			if got := ans.header.Get("WWW-Authenticate"); got != `Bearer realm="formulr"` {
				t.Errorf("%s: WWW-Authenticate %q, want a bare Bearer challenge (RFC 6750 §3.1)", name, got)
			}
			ans.noRateLimit(t)
		}
	})
	t.Run("garbage", func(t *testing.T) {
		forged := key[:len(key)-1] + "a"
		if strings.HasSuffix(key, "a") {
			forged = key[:len(key)-1] + "b"
		}
		fvxLike := "fvx_" + key[4:] // well formed, but not a key of anyone's
		for name, header := range map[string]http.Header{
			"not a key":            bearer("frm_not-a-key"),
			"one character off":    bearer(forged),
			"well formed stranger": bearer(fvxLike),
			"two words":            bearer("frm_abc def"),
			"too long":             bearer(strings.Repeat("a", 20000)),
			"bearer alone":         {"Authorization": {"Bearer"}},
			"two headers":          {"Authorization": {"Bearer " + key, "Bearer " + key}},
		} {
			ans := a.call(t, "GET", "/v1/campaigns", header, key)
			ans.problem(t, http.StatusUnauthorized, apikeys.ProblemInvalidKey)
			if got := ans.header.Get("WWW-Authenticate"); got != `Bearer realm="formulr", error="invalid_token"` {
				t.Errorf("%s: WWW-Authenticate %q", name, got)
			}
		}
	})
	if n := a.called.Load(); n != 0 {
		t.Fatalf("the handler ran %d times for requests without a valid key", n)
	}

	t.Run("valid", func(t *testing.T) {
		ans := a.call(t, "GET", "/v1/campaigns", bearer(key), key)
		if ans.status != http.StatusOK {
			t.Fatalf("got %d: %s", ans.status, ans.raw)
		}
		// One request of 1000 an hour: 3.6 s until the allowance is whole.
		checkRateLimit(t, ans, 1000, 999, 1, 4)
		v := a.last()
		if v == nil || !v.Valid || v.Code != apikeys.CodeValid || v.KeyID != id || v.Tenant != "acme" || v.Keyspace != "formulr" ||
			v.Name != "CRM" || v.Meta["plan"] != "pro" || !v.Has("responses:read") || v.Has("campaigns:write") {
			t.Fatalf("the handler's Verification: %+v", v)
		}
		if v.RateLimit == nil || v.RateLimit.Limit != 1000 || v.RateLimit.WindowDuration() != time.Hour || v.RateLimit.Per != "key" {
			t.Errorf("the handler's RateLimit: %+v", v.RateLimit)
		}
		// The Bearer scheme is case-insensitive (RFC 9110 §11.1).
		if ans := a.call(t, "GET", "/v1/campaigns", http.Header{"Authorization": {"bearer  " + key}}, key); ans.status != http.StatusOK {
			t.Errorf("lower-case bearer: %d %s", ans.status, ans.raw)
		}
	})
	t.Run("missing permission", func(t *testing.T) {
		before := a.called.Load()
		ans := a.call(t, "POST", "/v1/campaigns", bearer(key), key)
		ans.problem(t, http.StatusForbidden, apikeys.ProblemForbidden)
		if d, _ := ans.body["detail"].(string); !strings.Contains(d, `"campaigns:write"`) {
			t.Errorf("detail %q does not name the missing permission", d)
		}
		if got := ans.header.Get("WWW-Authenticate"); got != `Bearer realm="formulr", error="insufficient_scope", scope="campaigns:write"` {
			t.Errorf("WWW-Authenticate %q", got)
		}
		if a.called.Load() != before {
			t.Error("the handler ran for a key without the permission")
		}
	})
	t.Run("resource", func(t *testing.T) {
		one, _ := h.issue(t, "formulr", obj{"tenant": "acme", "name": "form 123", "permissions": []any{"responses:read"}, "resources": []any{"form:123"}})
		if ans := a.call(t, "GET", "/v1/forms/123/responses", bearer(one), one); ans.status != http.StatusOK {
			t.Fatalf("its own form: %d %s", ans.status, ans.raw)
		}
		if v := a.last(); !v.CanAccess("form:123") || v.CanAccess("form:124") {
			t.Errorf("CanAccess of a key for form:123: %v", v.Resources)
		}
		before := a.called.Load()
		ans := a.call(t, "GET", "/v1/forms/124/responses", bearer(one), one)
		ans.problem(t, http.StatusForbidden, apikeys.ProblemForbidden)
		if d, _ := ans.body["detail"].(string); !strings.Contains(d, `"form:124"`) {
			t.Errorf("detail %q does not name the resource", d)
		}
		if a.called.Load() != before {
			t.Error("the handler ran for another form")
		}
		// The key without resource limits reaches every form.
		if ans := a.call(t, "GET", "/v1/forms/124/responses", bearer(key), key); ans.status != http.StatusOK {
			t.Errorf("a key for all forms: %d %s", ans.status, ans.raw)
		}
	})
	t.Run("revoked", func(t *testing.T) {
		k, kid := h.issue(t, "formulr", obj{"tenant": "acme", "name": "to revoke", "permissions": []any{"*"}})
		if ans := a.call(t, "GET", "/v1/campaigns", bearer(k), k); ans.status != http.StatusOK {
			t.Fatalf("before revoking: %d %s", ans.status, ans.raw)
		}
		h.must(t, http.StatusOK, "POST", "/v1/keyspaces/formulr/keys/"+kid+"/revoke", nil)
		ans := a.call(t, "GET", "/v1/campaigns", bearer(k), k)
		ans.problem(t, http.StatusUnauthorized, apikeys.ProblemRevoked)
		if got := ans.header.Get("WWW-Authenticate"); got != `Bearer realm="formulr", error="invalid_token"` {
			t.Errorf("WWW-Authenticate %q", got)
		}
		ans.noRateLimit(t)
	})
	t.Run("rate limited", func(t *testing.T) {
		k, _ := h.issue(t, "formulr", obj{"tenant": "acme", "name": "two an hour", "permissions": []any{"campaigns:read"}, "rate_limit": obj{"limit": 2, "window": "1h"}})
		before := a.called.Load()
		first := a.call(t, "GET", "/v1/campaigns", bearer(k), k)
		second := a.call(t, "GET", "/v1/campaigns", bearer(k), k)
		if first.status != http.StatusOK || second.status != http.StatusOK {
			t.Fatalf("the first two of two an hour: %d, %d", first.status, second.status)
		}
		checkRateLimit(t, first, 2, 1, 1800, 1800)
		checkRateLimit(t, second, 2, 0, 3599, 3600)
		third := a.call(t, "GET", "/v1/campaigns", bearer(k), k)
		third.problem(t, http.StatusTooManyRequests, apikeys.ProblemRateLimited)
		checkRateLimit(t, third, 2, 0, 3599, 3600)
		// One request back every 30 minutes.
		if ra, err := strconv.Atoi(third.header.Get("Retry-After")); err != nil || ra < 1700 || ra > 1800 {
			t.Errorf("Retry-After %q, want about 1800", third.header.Get("Retry-After"))
		}
		if d, _ := third.body["detail"].(string); !strings.Contains(d, "2 requests per 1h") {
			t.Errorf("detail %q", d)
		}
		if got := a.called.Load() - before; got != 2 {
			t.Errorf("the handler ran %d times, want 2", got)
		}
	})
	if errs := a.onErrors(); len(errs) > 0 {
		t.Errorf("OnError was called with Hookline answering: %v", errs)
	}
}

// An expired key is 401, found when Hookline's clock has passed its expiry.
func TestMiddlewareExpired(t *testing.T) {
	t.Parallel()
	h := startHookline(t)
	a := formulrApp(t, h)
	at := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	k, _ := h.issue(t, "formulr", obj{"tenant": "acme", "name": "an hour", "permissions": []any{"*"}, "expires_at": at.Format(time.RFC3339)})
	if ans := a.call(t, "GET", "/v1/campaigns", bearer(k), k); ans.status != http.StatusOK {
		t.Fatalf("before its expiry: %d %s", ans.status, ans.raw)
	}
	h.skew.Store(int64(2 * time.Hour))
	ans := a.call(t, "GET", "/v1/campaigns", bearer(k), k)
	ans.problem(t, http.StatusUnauthorized, apikeys.ProblemExpired)
	if d, _ := ans.body["detail"].(string); !strings.Contains(d, at.Format(time.RFC3339)) {
		t.Errorf("detail %q does not say when", d)
	}
	if got := ans.header.Get("WWW-Authenticate"); got != `Bearer realm="formulr", error="invalid_token"` {
		t.Errorf("WWW-Authenticate %q", got)
	}
	if n := a.called.Load(); n != 1 {
		t.Errorf("the handler ran %d times, want once (before the expiry)", n)
	}
}

// FormVox's page: the key in X-FormVox-API-Key, 401 when it is missing or
// invalid, 403 when it lacks the permission.
func TestMiddlewareCustomHeader(t *testing.T) {
	t.Parallel()
	h := startHookline(t)
	h.must(t, http.StatusCreated, "POST", "/v1/keyspaces", formvoxKeyspace)
	h.must(t, http.StatusCreated, "POST", "/v1/keyspaces", formulrKeyspace)
	mw := &apikeys.Middleware{Client: h.client(t), Keyspace: "formvox", Header: "x-formvox-api-key", Realm: "FormVox API"}
	a := newApp(t, mw, func(mux *http.ServeMux, next http.Handler) {
		mux.Handle("GET /v1/forms/{id}", mw.RequireResource(apikeys.PathResource("form:", "id"), "read_form")(next))
		mux.Handle("DELETE /v1/forms/{id}/responses", mw.RequireResource(apikeys.PathResource("form:", "id"), "delete_responses")(next))
	})
	key, _ := h.issue(t, "formvox", obj{"tenant": "acme", "name": "reader", "permissions": []any{"read_*"}})
	frm, _ := h.issue(t, "formulr", obj{"tenant": "acme", "name": "of Formulr", "permissions": []any{"*"}})
	fvx := func(k string) http.Header { return http.Header{"X-Formvox-Api-Key": {k}} }
	const challenge = `APIKey realm="FormVox API", header="X-Formvox-Api-Key"`

	for name, header := range map[string]http.Header{"none": nil, "as a bearer token": bearer(key)} {
		ans := a.call(t, "GET", "/v1/forms/1", header, key)
		ans.problem(t, http.StatusUnauthorized, apikeys.ProblemMissingKey)
		if got := ans.header.Get("WWW-Authenticate"); got != challenge {
			t.Errorf("%s: WWW-Authenticate %q, want %q", name, got, challenge)
		}
		if d, _ := ans.body["detail"].(string); !strings.Contains(d, "X-Formvox-Api-Key") {
			t.Errorf("%s: detail %q does not name the header", name, d)
		}
	}
	for name, header := range map[string]http.Header{
		"garbage":             fvx("fvx_garbage"),
		"a key of Formulr":    fvx(frm),
		"with the scheme too": fvx("Bearer " + key),
	} {
		ans := a.call(t, "GET", "/v1/forms/1", header, key)
		ans.problem(t, http.StatusUnauthorized, apikeys.ProblemInvalidKey)
		if got := ans.header.Get("WWW-Authenticate"); got != challenge {
			t.Errorf("%s: WWW-Authenticate %q, want %q", name, got, challenge)
		}
	}
	if n := a.called.Load(); n != 0 {
		t.Fatalf("the handler ran %d times without a valid key", n)
	}
	ans := a.call(t, "GET", "/v1/forms/1", fvx(key), key)
	if ans.status != http.StatusOK {
		t.Fatalf("valid key: %d %s", ans.status, ans.raw)
	}
	ans.noRateLimit(t) // FormVox's key space has no rate limit
	if v := a.last(); v == nil || v.Keyspace != "formvox" || v.Tenant != "acme" {
		t.Errorf("the handler's Verification: %+v", v)
	}
	ans = a.call(t, "DELETE", "/v1/forms/1/responses", fvx(key), key)
	ans.problem(t, http.StatusForbidden, apikeys.ProblemForbidden)
	if got := ans.header.Get("WWW-Authenticate"); got != "" {
		t.Errorf("403 with a custom header: WWW-Authenticate %q, want none", got)
	}
	if n := a.called.Load(); n != 1 {
		t.Errorf("the handler ran %d times, want once", n)
	}
}

// Hookline unreachable: 503 with Retry-After, the handler never called, and
// OnError told why without the key.
func TestMiddlewareHooklineUnreachable(t *testing.T) {
	t.Parallel()
	c, err := apikeys.NewClient("http://"+testkit.FreeAddr(t), "hl_some_verifier_key", nil)
	if err != nil {
		t.Fatal(err)
	}
	mw := &apikeys.Middleware{Client: c, Keyspace: "formulr"}
	a := newApp(t, mw, func(mux *http.ServeMux, next http.Handler) {
		mux.Handle("GET /v1/campaigns", mw.Require("campaigns:read")(next))
	})
	const key = "frm_v3eaAuWwIvgUe2NQMcy826smmlFdX0Jd"
	ans := a.call(t, "GET", "/v1/campaigns", bearer(key), key)
	ans.problem(t, http.StatusServiceUnavailable, apikeys.ProblemUnavailable)
	if got := ans.header.Get("Retry-After"); got != "5" {
		t.Errorf("Retry-After %q, want 5", got)
	}
	ans.noRateLimit(t)
	if n := a.called.Load(); n != 0 {
		t.Errorf("the handler ran %d times with Hookline unreachable", n)
	}
	errs := a.onErrors()
	if len(errs) != 1 {
		t.Fatalf("OnError was called %d times, want once", len(errs))
	}
	if msg := errs[0].Error(); strings.Contains(msg, key) || strings.Contains(msg, "hl_some_verifier_key") || !strings.Contains(msg, "connect") {
		t.Errorf("OnError: %q, want the connection failure without any key", msg)
	}
}

// Hookline refusing the Client's own key is not the caller's fault: 503,
// never 401 or 403, and OnError gets Hookline's problem.
func TestMiddlewareHooklineRefusesClient(t *testing.T) {
	t.Parallel()
	h := startHookline(t)
	h.must(t, http.StatusCreated, "POST", "/v1/keyspaces", formulrKeyspace)
	key, _ := h.issue(t, "formulr", obj{"tenant": "acme", "name": "CRM", "permissions": []any{"*"}})
	for name, c := range map[string]struct {
		verifier string
		status   int
		detail   string
	}{
		"a key without keys:verify": {h.apiKey(t, "keys:read"), http.StatusForbidden, `"keys:verify"`},
		"a key Hookline never knew": {"hl_not_a_hookline_key", http.StatusUnauthorized, "API key"},
	} {
		t.Run(name, func(t *testing.T) {
			client, err := apikeys.NewClient(h.url, c.verifier, h.http)
			if err != nil {
				t.Fatal(err)
			}
			mw := &apikeys.Middleware{Client: client, Keyspace: "formulr"}
			a := newApp(t, mw, func(mux *http.ServeMux, next http.Handler) {
				mux.Handle("GET /v1/campaigns", mw.Require("campaigns:read")(next))
			})
			ans := a.call(t, "GET", "/v1/campaigns", bearer(key), key)
			ans.problem(t, http.StatusServiceUnavailable, apikeys.ProblemUnavailable)
			if ans.header.Get("Retry-After") == "" || a.called.Load() != 0 {
				t.Errorf("Retry-After %q, handler called %d times", ans.header.Get("Retry-After"), a.called.Load())
			}
			errs := a.onErrors()
			if len(errs) != 1 {
				t.Fatalf("OnError was called %d times, want once", len(errs))
			}
			he, ok := errors.AsType[*apikeys.Error](errs[0])
			if !ok || he.StatusCode != c.status || !strings.Contains(he.Detail, c.detail) {
				t.Errorf("OnError: %#v, want an *Error %d naming %s", errs[0], c.status, c.detail)
			}
		})
	}
	// The Client's own key over its Hookline rate limit: 503, with Hookline's
	// Retry-After.
	t.Run("a verifier over its own limit", func(t *testing.T) {
		out := h.must(t, http.StatusCreated, "POST", "/v1/api-keys", obj{"name": "one an hour", "scopes": []any{"keys:verify"}, "rate_limit": 1})
		client, err := apikeys.NewClient(h.url, out["key"].(string), h.http)
		if err != nil {
			t.Fatal(err)
		}
		mw := &apikeys.Middleware{Client: client, Keyspace: "formulr"}
		a := newApp(t, mw, func(mux *http.ServeMux, next http.Handler) {
			mux.Handle("GET /v1/campaigns", mw.Require("campaigns:read")(next))
		})
		if ans := a.call(t, "GET", "/v1/campaigns", bearer(key), key); ans.status != http.StatusOK {
			t.Fatalf("the first verification: %d %s", ans.status, ans.raw)
		}
		ans := a.call(t, "GET", "/v1/campaigns", bearer(key), key)
		ans.problem(t, http.StatusServiceUnavailable, apikeys.ProblemUnavailable)
		if ra, err := strconv.Atoi(ans.header.Get("Retry-After")); err != nil || ra < 3000 || ra > 3600 {
			t.Errorf("Retry-After %q, want Hookline's, about 3600", ans.header.Get("Retry-After"))
		}
		if errs := a.onErrors(); len(errs) != 1 {
			t.Errorf("OnError: %v", errs)
		} else if he, ok := errors.AsType[*apikeys.Error](errs[0]); !ok || he.StatusCode != http.StatusTooManyRequests || he.RetryAfter < 3000*time.Second {
			t.Errorf("OnError: %#v, want Hookline's 429", errs[0])
		}
	})
}

// Require refuses, at start-up, a configuration that would let any key in.
func TestRequirePanics(t *testing.T) {
	t.Parallel()
	c, err := apikeys.NewClient("http://127.0.0.1:1", "hl_x", nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		mw    *apikeys.Middleware
		perms []string
	}{
		"no client":       {&apikeys.Middleware{Keyspace: "formulr"}, nil},
		"no key space":    {&apikeys.Middleware{Client: c}, []string{"campaigns:read"}},
		"bad header":      {&apikeys.Middleware{Client: c, Keyspace: "formulr", Header: "X Key"}, nil},
		"empty permisson": {&apikeys.Middleware{Client: c, Keyspace: "formulr"}, []string{""}},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: Require did not panic", name)
				}
			}()
			c.mw.Require(c.perms...)
		}()
	}
}
