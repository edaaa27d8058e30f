package apikeys_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/apikeys"
	"github.com/hookline/hookline/internal/testkit"
)

// Client.Verify against a real Hookline: the answer's fields, every code, and
// an error only when Hookline does not answer 200.
func TestClientVerify(t *testing.T) {
	t.Parallel()
	h := startHookline(t)
	h.must(t, http.StatusCreated, "POST", "/v1/keyspaces", formulrKeyspace)
	h.must(t, http.StatusCreated, "POST", "/v1/keyspaces", formvoxKeyspace)
	c := h.client(t)
	ctx := context.Background()
	expires := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Second)
	key, id := h.issue(t, "formulr", obj{"tenant": "acme", "name": "CRM", "permissions": []any{"campaigns:*"}, "resources": []any{"form:1"},
		"meta": obj{"crm": "hubspot"}, "expires_at": expires.Format(time.RFC3339), "rate_limit": obj{"limit": 3, "window": "1d", "per": "tenant"}})

	v, err := c.Verify(ctx, apikeys.Request{Key: key, Keyspace: "formulr", Permissions: []string{"campaigns:write"}, Resource: "form:1"})
	if err != nil {
		t.Fatal(err)
	}
	if !v.Valid || v.Code != apikeys.CodeValid || v.KeyID != id || v.Keyspace != "formulr" || v.Tenant != "acme" || v.Name != "CRM" ||
		fmt.Sprint(v.Permissions) != "[campaigns:read campaigns:write]" || fmt.Sprint(v.Resources) != "[form:1]" ||
		v.Meta["crm"] != "hubspot" || v.ExpiresAt == nil || !v.ExpiresAt.Equal(expires) {
		t.Errorf("valid: %+v", v)
	}
	if rl := v.RateLimit; rl == nil || rl.Limit != 3 || rl.Remaining != 2 || rl.Per != "tenant" || rl.WindowDuration() != 24*time.Hour || rl.RetryAfter != 0 {
		t.Errorf("rate limit after one request: %+v", rl)
	}
	for name, c2 := range map[string]struct {
		req  apikeys.Request
		want string
	}{
		"garbage":              {apikeys.Request{Key: "frm_nope"}, apikeys.CodeNotFound},
		"of another key space": {apikeys.Request{Key: key, Keyspace: "formvox"}, apikeys.CodeNotFound},
		"a missing permission": {apikeys.Request{Key: key, Keyspace: "formulr", Permissions: []string{"files:read"}}, apikeys.CodeForbidden},
		"another resource":     {apikeys.Request{Key: key, Keyspace: "formulr", Resource: "form:2"}, apikeys.CodeForbidden},
	} {
		v, err := c.Verify(ctx, c2.req)
		if err != nil || v.Code != c2.want || v.Valid {
			t.Errorf("%s: %+v, %v; want %s", name, v, err, c2.want)
		}
	}
	if v, err := c.Verify(ctx, apikeys.Request{Key: key}); err != nil || !v.Valid {
		t.Fatalf("the second of three: %+v, %v", v, err)
	}
	if v, err := c.Verify(ctx, apikeys.Request{Key: key}); err != nil || !v.Valid {
		t.Fatalf("the third of three: %+v, %v", v, err)
	}
	v, err = c.Verify(ctx, apikeys.Request{Key: key})
	if err != nil || v.Valid || v.Code != apikeys.CodeRateLimited || v.RateLimit == nil || v.RateLimit.Remaining != 0 || v.RateLimit.RetryAfter < 8*3600-60 {
		t.Errorf("the fourth of three a day: %+v %+v, %v; want RATE_LIMITED, retry after 8 h", v, v.RateLimit, err)
	}

	// Hookline refusing the request is an *Error with its problem.
	_, err = c.Verify(ctx, apikeys.Request{})
	he, ok := errors.AsType[*apikeys.Error](err)
	if !ok || he.StatusCode != http.StatusBadRequest || !strings.Contains(he.Detail, "key") || !strings.HasPrefix(he.Type, "urn:hookline:problem:") {
		t.Errorf("no key: %#v", err)
	}
}

// A Client never shows its key, printed or in an error.
func TestClientHidesItsKey(t *testing.T) {
	t.Parallel()
	const secret = "hl_secret_verifier_key_123"
	addr := testkit.FreeAddr(t) // nothing listens there
	c, err := apikeys.NewClient("http://"+addr+"/", secret, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		if s := fmt.Sprintf(f, c); strings.Contains(s, secret) || !strings.Contains(s, addr+"/v1/keys/verify") {
			t.Errorf("%s: %s", f, s)
		}
	}
	if s := fmt.Sprintf("%+v", *c); strings.Contains(s, secret) {
		t.Errorf("the Client's value: %s", s)
	}
	_, err = c.Verify(context.Background(), apikeys.Request{Key: "frm_the_callers_key"})
	if err == nil || strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "frm_the_callers_key") {
		t.Errorf("error %v", err)
	}
}

func TestNewClientRefuses(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ url, key string }{
		{"127.0.0.1:8080", "hl_x"}, {"ftp://h", "hl_x"}, {"http://", "hl_x"}, {"http://127.0.0.1:8080", ""},
	} {
		if _, err := apikeys.NewClient(c.url, c.key, nil); err == nil {
			t.Errorf("NewClient(%q, %q): no error", c.url, c.key)
		}
	}
}
