package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/hookline/hookline/internal/config"
)

// A PUT that leaves "profile" out keeps the webhook's profile, as it keeps the
// secret: switching the wire format would make every receiver refuse.
func TestWebhookReplaceKeepsProfile(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	fx.do(t, "POST", "/v1/profiles", fx.admin, obj{"name": "acme", "definition": rawProfile}).must(t, http.StatusCreated)
	id := fx.createWebhook(t, fx.admin, obj{"url": discard, "profile": "acme", "secret": "acme-raw-secret-1234"}).str("id")

	got := fx.do(t, "PUT", "/v1/webhooks/"+id, fx.admin, obj{"url": discard, "events": []string{"a.b"}, "active": true}).must(t, http.StatusOK)
	if p := got.str("profile"); p != "acme" {
		t.Errorf("PUT without profile: got profile %q, want acme kept", p)
	}
	got = fx.do(t, "PUT", "/v1/webhooks/"+id, fx.admin, obj{"url": discard, "profile": "standard", "secret": "whsec_" + strings.Repeat("A", 32)}).must(t, http.StatusOK)
	if p := got.str("profile"); p != "standard" {
		t.Errorf("PUT naming a profile: got %q, want standard", p)
	}
}

// A tenant's default profile: set, read, used by creates that name none,
// cleared; refused when it names no profile; reached by the tenant's own keys only.
func TestTenantDefaults(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	fx.do(t, "POST", "/v1/profiles", fx.admin, obj{"name": "acme", "definition": rawProfile}).must(t, http.StatusCreated)
	const path = "/v1/tenants/t1/defaults"

	got := fx.do(t, "GET", path, fx.admin, nil).must(t, http.StatusOK)
	if got.str("profile") != "standard" || got.str("source") != "server" || got.body["updated_at"] != nil {
		t.Errorf("GET before any: got %s, want the server's standard", got.raw)
	}
	fx.do(t, "PUT", path, fx.admin, obj{"profile": "nope"}).problem(t, http.StatusUnprocessableEntity, "profile")
	fx.do(t, "PUT", path, fx.admin, obj{}).problem(t, http.StatusUnprocessableEntity, "profile")
	fx.do(t, "PUT", "/v1/tenants/"+strings.Repeat("x", 201)+"/defaults", fx.admin, obj{"profile": "acme"}).problem(t, http.StatusUnprocessableEntity, "tenant")
	if got := fx.do(t, "GET", path, fx.admin, nil).must(t, http.StatusOK); got.str("source") != "server" {
		t.Errorf("after refused PUTs: got %s, want nothing set", got.raw)
	}

	set := fx.do(t, "PUT", path, fx.admin, obj{"profile": "acme"}).must(t, http.StatusOK)
	if set.str("profile") != "acme" || set.str("source") != "tenant" || set.str("updated_at") == "" {
		t.Errorf("PUT: got %s, want acme from the tenant", set.raw)
	}
	// The page's own create body: no profile, a raw secret.
	wh := fx.createWebhook(t, fx.admin, obj{"url": discard, "tenant": "t1", "events": []string{"*"}, "secret": "acme-raw-secret-1234", "active": true})
	if p := wh.str("profile"); p != "acme" {
		t.Errorf("created in t1 without profile: got %q, want the tenant's default acme", p)
	}
	// Another tenant still gets the server's default, whose secret format refuses it.
	r := fx.do(t, "POST", "/v1/webhooks", fx.admin, obj{"url": discard, "tenant": "t2", "secret": "acme-raw-secret-1234"})
	r.problem(t, http.StatusUnprocessableEntity, "secret")
	if d := r.str("detail"); !strings.Contains(d, `"standard" profile`) {
		t.Errorf("t2's refused secret: got %q, want it to name the standard profile", d)
	}
	// A secret the tenant's default refuses says it is the tenant's default.
	r = fx.do(t, "POST", "/v1/webhooks", fx.admin, obj{"url": discard, "tenant": "t1", "secret": "short"})
	r.problem(t, http.StatusUnprocessableEntity, "secret")
	if d := r.str("detail"); !strings.Contains(d, `tenant "t1"'s default profile`) {
		t.Errorf("t1's refused secret: got %q, want it to say the profile is the tenant's default", d)
	}
	// The profile cannot be deleted while it is a default (its webhook aside).
	fx.do(t, "DELETE", "/v1/webhooks/"+wh.str("id"), fx.admin, nil).must(t, http.StatusNoContent)
	fx.do(t, "DELETE", "/v1/profiles/acme", fx.admin, nil).problem(t, http.StatusConflict, "")

	// Tenant keys reach their own tenant only.
	_, own := fx.createKey(t, obj{"name": "t1", "scopes": []string{"webhooks:read", "webhooks:write"}, "tenant": "t1"})
	_, other := fx.createKey(t, obj{"name": "t2", "scopes": []string{"webhooks:read", "webhooks:write"}, "tenant": "t2"})
	fx.do(t, "GET", path, own, nil).must(t, http.StatusOK)
	fx.do(t, "GET", path, other, nil).problem(t, http.StatusNotFound, "")
	fx.do(t, "PUT", path, other, obj{"profile": "standard"}).problem(t, http.StatusNotFound, "")
	fx.do(t, "DELETE", path, other, nil).problem(t, http.StatusNotFound, "")
	if p := fx.createWebhook(t, own, obj{"url": discard, "secret": "acme-raw-secret-1234"}).str("profile"); p != "acme" {
		t.Errorf("created with t1's key without profile: got %q, want acme", p)
	}

	fx.do(t, "DELETE", path, own, nil).must(t, http.StatusNoContent)
	fx.do(t, "DELETE", path, own, nil).problem(t, http.StatusNotFound, "")
	if got := fx.do(t, "GET", path, own, nil).must(t, http.StatusOK); got.str("profile") != "standard" || got.str("source") != "server" {
		t.Errorf("GET after DELETE: got %s, want the server's standard", got.raw)
	}
}

// The server's default profile (--default-profile) applies to a tenant with
// none of its own.
func TestServerDefaultProfile(t *testing.T) {
	t.Parallel()
	fx := setup(t, func(c *config.Config) { c.DefaultProfile = "acme" })
	fx.do(t, "POST", "/v1/profiles", fx.admin, obj{"name": "acme", "definition": rawProfile}).must(t, http.StatusCreated)
	if got := fx.do(t, "GET", "/v1/tenants/t1/defaults", fx.admin, nil).must(t, http.StatusOK); got.str("profile") != "acme" || got.str("source") != "server" {
		t.Errorf("GET: got %s, want the server's acme", got.raw)
	}
	if p := fx.createWebhook(t, fx.admin, obj{"url": discard, "secret": "acme-raw-secret-1234"}).str("profile"); p != "acme" {
		t.Errorf("created without profile: got %q, want the server's default acme", p)
	}
	r := fx.do(t, "POST", "/v1/webhooks", fx.admin, obj{"url": discard, "secret": "short"})
	r.problem(t, http.StatusUnprocessableEntity, "secret")
	if d := r.str("detail"); !strings.Contains(d, "the server's default profile (--default-profile)") {
		t.Errorf("refused secret: got %q, want it to say the profile is the server's default", d)
	}
}
