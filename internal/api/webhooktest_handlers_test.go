package api_test

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/hookline/hookline/internal/config"
	"github.com/hookline/hookline/internal/delivery"
)

// POST /v1/webhook-tests signs and sends one webhook.test to a URL no webhook
// has, answers with the attempt, and stores nothing.
func TestWebhookTestURL(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	rc := fx.receiver()

	// No secret: one is generated in the profile's format, returned, and signs.
	got := fx.do(t, "POST", "/v1/webhook-tests", fx.admin, obj{"url": rc.url + "/new"}).must(t, http.StatusOK)
	secret := got.str("secret")
	if !strings.HasPrefix(secret, "whsec_") || got.str("profile") != "standard" || got.body["success"] != true || got.str("event") != "webhook.test" {
		t.Fatalf("test of an unsaved URL: got %s, want a success with standard and a generated whsec_ secret", got.raw)
	}
	req := rc.waitFor(t, "/new", 1)[0]
	ref, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := ref.Verify(req.body, req.header); err != nil {
		t.Errorf("the returned secret does not verify the request: %v", err)
	}

	// A secret given is used, and not shown back.
	given := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	got = fx.do(t, "POST", "/v1/webhook-tests", fx.admin, obj{"url": rc.url + "/given", "secret": given}).must(t, http.StatusOK)
	if got.str("secret") != "" {
		t.Errorf("a given secret was shown back: %s", got.raw)
	}
	ref, _ = standardwebhooks.NewWebhook(given)
	if r := rc.waitFor(t, "/given", 1)[0]; ref.Verify(r.body, r.header) != nil {
		t.Errorf("the given secret does not verify the request")
	}

	// A failing target is still a 200, saying so.
	rc.respond("/fails", http.StatusInternalServerError)
	got = fx.do(t, "POST", "/v1/webhook-tests", fx.admin, obj{"url": rc.url + "/fails"}).must(t, http.StatusOK)
	if got.body["success"] != false || got.body["http_status"] != float64(500) {
		t.Errorf("a 500 answer: got %s, want success false, http_status 500", got.raw)
	}

	// Nothing is stored: no webhook, no event.
	if items := fx.do(t, "GET", "/v1/webhooks", fx.admin, nil).must(t, http.StatusOK).items(); len(items) != 0 {
		t.Errorf("webhooks after unsaved tests: got %d, want none", len(items))
	}
	if items := fx.do(t, "GET", "/v1/events", fx.admin, nil).must(t, http.StatusOK).items(); len(items) != 0 {
		t.Errorf("events after unsaved tests: got %d, want none", len(items))
	}
}

// Bad input is refused with the field named, and nothing is sent.
func TestWebhookTestURLRefused(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	rc := fx.receiver()
	_, other := fx.createKey(t, obj{"name": "t2", "scopes": []string{"webhooks:write"}, "tenant": "t2"})
	_, reader := fx.createKey(t, obj{"name": "r", "scopes": []string{"webhooks:read"}})
	cases := []struct {
		name   string
		key    string
		body   any
		status int
		field  string
	}{
		{"no url", fx.admin, obj{}, http.StatusUnprocessableEntity, "url"},
		{"huge url", fx.admin, obj{"url": rc.url + "/" + strings.Repeat("a", 5000)}, http.StatusUnprocessableEntity, "url"},
		{"not http", fx.admin, obj{"url": "ftp://127.0.0.1/x"}, http.StatusUnprocessableEntity, "url"},
		{"unknown profile", fx.admin, obj{"url": rc.url + "/x", "profile": "nope"}, http.StatusUnprocessableEntity, "profile"},
		{"secret in the wrong format", fx.admin, obj{"url": rc.url + "/x", "secret": "not-a-whsec"}, http.StatusUnprocessableEntity, "secret"},
		{"unknown event type", fx.admin, obj{"url": rc.url + "/x", "event_type": "no.such"}, http.StatusUnprocessableEntity, "event_type"},
		{"unknown field", fx.admin, obj{"url": rc.url + "/x", "headers": obj{}}, http.StatusBadRequest, "headers"},
		{"another tenant", other, obj{"url": rc.url + "/x", "tenant": "t1"}, http.StatusForbidden, "tenant"},
		{"read-only key", reader, obj{"url": rc.url + "/x"}, http.StatusForbidden, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fx.do(t, "POST", "/v1/webhook-tests", c.key, c.body).problem(t, c.status, c.field)
		})
	}
	if got := rc.requests(""); len(got) != 0 {
		t.Errorf("refused tests sent %d requests, want none", len(got))
	}
}

// The address guard applies as to deliveries: with private targets not
// allowed, a loopback URL is refused before any connection. Which addresses
// the guard refuses is its decision function's (IsBlockedAddr), checked here
// without dialing them.
func TestWebhookTestURLGuard(t *testing.T) {
	t.Parallel()
	fx := setup(t, func(c *config.Config) { c.AllowPrivateTargets = false })
	rc := fx.receiver()
	got := fx.do(t, "POST", "/v1/webhook-tests", fx.admin, obj{"url": rc.url + "/private"}).must(t, http.StatusOK)
	if got.body["success"] != false || !strings.Contains(got.str("error"), "not a public address") {
		t.Errorf("a loopback URL with private targets refused: got %s, want the guard's refusal", got.raw)
	}
	if n := len(rc.requests("")); n != 0 {
		t.Errorf("the receiver got %d requests, want none", n)
	}
	for _, a := range []string{"10.0.0.1", "192.168.1.1", "169.254.169.254", "::1", "fc00::1", "100.64.0.1"} {
		if !delivery.IsBlockedAddr(netip.MustParseAddr(a)) {
			t.Errorf("IsBlockedAddr(%s) = false, want true", a)
		}
	}
}

// A tenant key tests for its own tenant, whose default profile applies.
func TestWebhookTestURLTenantDefault(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	rc := fx.receiver()
	fx.do(t, "POST", "/v1/profiles", fx.admin, obj{"name": "acme", "definition": rawProfile}).must(t, http.StatusCreated)
	fx.do(t, "PUT", "/v1/tenants/t1/defaults", fx.admin, obj{"profile": "acme"}).must(t, http.StatusOK)
	_, own := fx.createKey(t, obj{"name": "t1", "scopes": []string{"webhooks:write"}, "tenant": "t1"})
	got := fx.do(t, "POST", "/v1/webhook-tests", own, obj{"url": rc.url + "/t1", "secret": "acme-raw-secret-1234"}).must(t, http.StatusOK)
	if got.str("profile") != "acme" || got.body["success"] != true {
		t.Errorf("tenant key without profile: got %s, want acme, success", got.raw)
	}
	if r := rc.waitFor(t, "/t1", 1)[0]; r.header.Get("X-Acme-Signature") == "" {
		t.Errorf("the request has no X-Acme-Signature: %v", r.header)
	}
}
