package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// One rule for everything secret about a webhook: a key sees the signing
// secret it has just set; the previous secret of a rotation, and every other
// stored secret, only an admin key sees, when it asks.
func TestWebhookSecretsOneRule(t *testing.T) {
	onEachDriver(t, func(t *testing.T, setup setupFunc) {
		fx := setup(t)
		_, writer := fx.createKey(t, obj{"name": "writer", "scopes": []string{"webhooks:write", "webhooks:read"}})
		created := fx.createWebhook(t, writer, obj{"url": discard})
		id, first := created.str("id"), created.str("secret")
		if first == "" {
			t.Fatalf("create: got %s, want the generated secret", created.raw)
		}

		rot := fx.do(t, "POST", "/v1/webhooks/"+id+"/rotate-secret", writer, obj{"grace_period": "168h"}).must(t, http.StatusOK)
		second := rot.str("secret")
		if second == "" || second == first {
			t.Fatalf("rotate: got %s, want the new secret", rot.raw)
		}
		if p := rot.str("previous_secret"); p != "" {
			t.Errorf("rotate by a webhooks:write key shows the previous secret %.12s…, which keeps signing for 168h", p)
		}
		patched := fx.do(t, "PATCH", "/v1/webhooks/"+id, writer, obj{"secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}).must(t, http.StatusOK)
		if patched.str("secret") != "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" || patched.str("previous_secret") != "" {
			t.Errorf("PATCH {secret} by a webhooks:write key: got %s, want the secret it set and no previous one", patched.raw)
		}
		for _, q := range []string{"", "?include_secret=true"} {
			g := fx.do(t, "GET", "/v1/webhooks/"+id+q, writer, nil).must(t, http.StatusOK)
			if g.str("secret") != "" || g.str("previous_secret") != "" {
				t.Errorf("GET%s by a webhooks:read key shows secrets: %s", q, g.raw)
			}
		}
		patched = fx.do(t, "PATCH", "/v1/webhooks/"+id, writer, obj{"description": "x"}).must(t, http.StatusOK)
		if patched.str("secret") != "" || patched.str("previous_secret") != "" {
			t.Errorf("a PATCH that sets no secret shows secrets: %s", patched.raw)
		}
		g := fx.do(t, "GET", "/v1/webhooks/"+id+"?include_secret=true", fx.admin, nil).must(t, http.StatusOK)
		if g.str("secret") == "" || g.str("previous_secret") != first {
			t.Errorf("GET ?include_secret=true by an admin key: got %s, want the secret and the previous one", g.raw)
		}
	})
}

// Credential-bearing custom headers are secrets: masked in every read unless
// an admin key asks, kept when a read is sent back whole, and never in the
// attempt log; the receiver gets the real value.
func TestWebhookCredentialHeaders(t *testing.T) {
	onEachDriver(t, func(t *testing.T, setup setupFunc) {
		fx := setup(t)
		rc := fx.receiver()
		const credential = "Bearer receiver-credential-marker-77"
		fx.secrets[credential] = true
		_, writer := fx.createKey(t, obj{"name": "writer", "scopes": []string{"webhooks:write", "webhooks:read", "deliveries:read"}})
		created := fx.createWebhook(t, writer, obj{"url": rc.url + "/h", "headers": obj{"Authorization": credential, "X-Plain": "visible"}})
		id := created.str("id")
		headersOf := func(r response) map[string]any {
			h, _ := r.body["headers"].(map[string]any)
			return h
		}
		if h := headersOf(created); h["Authorization"] != "[redacted]" || h["X-Plain"] != "visible" {
			t.Errorf("create: got headers %v, want Authorization masked and X-Plain shown", h)
		}
		got := fx.do(t, "GET", "/v1/webhooks/"+id, writer, nil).must(t, http.StatusOK)
		if h := headersOf(got); h["Authorization"] != "[redacted]" {
			t.Errorf("GET: got headers %v, want Authorization masked", h)
		}
		if h, _ := fx.do(t, "GET", "/v1/webhooks", writer, nil).must(t, http.StatusOK).items()[0]["headers"].(map[string]any); h["Authorization"] != "[redacted]" {
			t.Errorf("list: got headers %v, want Authorization masked", h)
		}

		// A read sent back whole, with one change, keeps the hidden value.
		body := obj{"url": rc.url + "/h", "headers": headersOf(got), "description": "changed"}
		fx.do(t, "PUT", "/v1/webhooks/"+id, writer, body).must(t, http.StatusOK)
		admin := fx.do(t, "GET", "/v1/webhooks/"+id+"?include_secret=true", fx.admin, nil).must(t, http.StatusOK)
		if h := headersOf(admin); h["Authorization"] != credential {
			t.Errorf("after a PUT of the masked read: an admin reads Authorization %v, want the stored value", h["Authorization"])
		}
		fx.do(t, "PATCH", "/v1/webhooks/"+id, writer, obj{"headers": obj{"X-Api-Key": "[redacted]"}}).problem(t, http.StatusUnprocessableEntity, "headers")
		fx.do(t, "POST", "/v1/webhooks", writer, obj{"url": discard, "headers": obj{"Authorization": "[redacted]"}}).problem(t, http.StatusUnprocessableEntity, "headers")

		test := fx.do(t, "POST", "/v1/webhooks/"+id+"/test", writer, nil).must(t, http.StatusOK)
		if got := rc.waitFor(t, "/h", 1)[0].header.Get("Authorization"); got != credential {
			t.Errorf("the receiver got Authorization %q, want the real value", got)
		}
		reqHeaders, _ := test.body["request_headers"].(map[string]any)
		if reqHeaders["Authorization"] != "[redacted]" {
			t.Errorf("the test attempt shows request header Authorization %v, want it masked", reqHeaders["Authorization"])
		}
		for _, it := range fx.do(t, "GET", "/v1/webhooks/"+id+"/logs", writer, nil).must(t, http.StatusOK).items() {
			if h, _ := it["request_headers"].(map[string]any); h["Authorization"] != "[redacted]" {
				t.Errorf("the log shows request header Authorization %v, want it masked", h["Authorization"])
			}
		}
	})
}

// A credential a profile sends in a static header is hidden from keys that
// can read profiles but not edit them (tenant keys among them).
func TestProfileCredentialHeaders(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	fx.secrets["Bearer product-wide-credential"] = true
	def := obj{"headers": obj{"Authorization": "Bearer product-wide-credential", "User-Agent": "Acme/1"}}
	fx.do(t, "POST", "/v1/profiles", fx.admin, obj{"name": "withcred", "definition": def}).must(t, http.StatusCreated)
	_, reader := fx.createKey(t, obj{"name": "r", "scopes": []string{"webhooks:read"}, "tenant": "acme"})
	for _, r := range []response{
		fx.do(t, "GET", "/v1/profiles/withcred", reader, nil).must(t, http.StatusOK),
		fx.do(t, "GET", "/v1/profiles", reader, nil).must(t, http.StatusOK),
	} {
		if strings.Contains(string(r.raw), "product-wide-credential") || !strings.Contains(string(r.raw), `"Acme/1"`) {
			t.Errorf("a tenant key reads %s, want Authorization masked and User-Agent shown", r.raw)
		}
	}
	if r := fx.do(t, "GET", "/v1/profiles/withcred", fx.admin, nil).must(t, http.StatusOK); !strings.Contains(string(r.raw), "product-wide-credential") {
		t.Errorf("an admin key reads %s, want the header whole (admins edit profiles)", r.raw)
	}
}

// previous_secret is shown, to an admin key that asks, only while it signs:
// once its grace period is over, neither it nor previous_secret_expires_at is
// in any answer, and the document says so rather than that it stays.
func TestWebhookPreviousSecretEndsWithItsGrace(t *testing.T) {
	onEachDriver(t, func(t *testing.T, setup setupFunc) {
		fx := setup(t)
		created := fx.createWebhook(t, fx.admin, obj{"url": discard})
		id, first := created.str("id"), created.str("secret")
		fx.do(t, "POST", "/v1/webhooks/"+id+"/rotate-secret", fx.admin, obj{"grace_period": "1h"}).must(t, http.StatusOK)
		g := fx.do(t, "GET", "/v1/webhooks/"+id+"?include_secret=true", fx.admin, nil).must(t, http.StatusOK)
		if g.str("previous_secret") != first || g.str("previous_secret_expires_at") == "" {
			t.Fatalf("during the grace period: got %s, want previous_secret and its expiry", g.raw)
		}

		// The grace period ends: its end moves to a second ago.
		ctx := context.Background()
		wh, err := fx.store.WebhookGet(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		ended := time.Now().UTC().Add(-time.Second).Truncate(time.Millisecond)
		wh.PreviousSecretUntil = &ended
		if err := fx.store.WebhookUpdate(ctx, wh); err != nil {
			t.Fatal(err)
		}
		answers := map[string]response{
			"GET":  fx.do(t, "GET", "/v1/webhooks/"+id+"?include_secret=true", fx.admin, nil).must(t, http.StatusOK),
			"list": fx.do(t, "GET", "/v1/webhooks?include_secret=true", fx.admin, nil).must(t, http.StatusOK),
		}
		for name, r := range answers {
			if strings.Contains(string(r.raw), "previous_secret") {
				t.Errorf("%s after the grace period: got %s, want no previous_secret nor its expiry", name, r.raw)
			}
		}

		doc := fx.do(t, "GET", "/openapi.json", "", nil).must(t, http.StatusOK)
		props := doc.body["components"].(map[string]any)["schemas"].(map[string]any)["Webhook"].(map[string]any)["properties"].(map[string]any)
		for _, f := range []string{"previous_secret", "previous_secret_expires_at"} {
			desc, _ := props[f].(map[string]any)["description"].(string)
			if strings.Contains(desc, "stays") || strings.Contains(desc, "until the next rotation") {
				t.Errorf("openapi.json, Webhook.%s: %q says it outlives its grace period; the API drops it then", f, desc)
			}
		}
	})
}
