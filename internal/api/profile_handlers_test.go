package api_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/hookline/hookline/webhook"
)

// rawProfile is a small non-standard profile: raw body, hex HMAC with the secret
// as given, its own headers.
var rawProfile = obj{
	"envelope":  json.RawMessage(`{"kind": "{event.type}", "...": "{data}", "at": "{event.timestamp.unix}"}`),
	"json":      "ecmascript",
	"headers":   obj{"User-Agent": "Acme-Hooks/2", "X-Acme-Event": "{event.type}"},
	"signature": obj{"header": "X-Acme-Signature", "payload": "{send.unix}.{body}", "encoding": "hex", "prefix": "v1=", "key": "raw"},
	"policy":    obj{"retry_schedule": []string{"0s", "50ms"}, "retry_on": []string{"5xx"}},
}

func TestProfilesCRUD(t *testing.T) {
	t.Parallel()
	fx := setup(t)

	list := fx.do(t, "GET", "/v1/profiles", fx.admin, nil).must(t, http.StatusOK)
	if items := list.items(); len(items) != 1 || items[0]["name"] != "standard" || items[0]["source"] != "built-in" {
		t.Fatalf("profiles of a fresh server: got %s, want only the built-in standard", list.raw)
	}
	std := fx.do(t, "GET", "/v1/profiles/standard", fx.admin, nil).must(t, http.StatusOK)
	if !strings.Contains(string(std.raw), `"webhook-signature"`) {
		t.Errorf("standard profile: got %s, want its definition with the webhook-signature header", std.raw)
	}

	created := fx.do(t, "POST", "/v1/profiles", fx.admin, obj{"name": "acme", "definition": rawProfile}).must(t, http.StatusCreated)
	if created.str("source") != "api" || !strings.Contains(string(created.raw), `"X-Acme-Signature"`) {
		t.Errorf("created profile: got %s", created.raw)
	}
	fx.do(t, "POST", "/v1/profiles", fx.admin, obj{"name": "acme", "definition": rawProfile}).problem(t, http.StatusConflict, "")
	fx.do(t, "POST", "/v1/profiles", fx.admin, obj{"name": "standard", "definition": rawProfile}).problem(t, http.StatusConflict, "name")
	fx.do(t, "POST", "/v1/profiles", fx.admin, obj{"name": "Bad Name", "definition": rawProfile}).problem(t, http.StatusUnprocessableEntity, "name")
	fx.do(t, "POST", "/v1/profiles", fx.admin, obj{"name": "x", "definition": obj{"json": "pretty"}}).
		problem(t, http.StatusUnprocessableEntity, "definition.json")
	fx.do(t, "POST", "/v1/profiles", fx.admin, obj{"name": "x", "definition": obj{"envelope": "{nope}"}}).
		problem(t, http.StatusUnprocessableEntity, "definition.envelope")
	fx.do(t, "POST", "/v1/profiles", fx.admin, obj{"name": "x", "definition": obj{"envelop": "{data}"}}).
		problem(t, http.StatusUnprocessableEntity, "definition")

	// Read-only profiles and permissions.
	fx.do(t, "PUT", "/v1/profiles/standard", fx.admin, obj{"definition": rawProfile}).problem(t, http.StatusConflict, "")
	fx.do(t, "DELETE", "/v1/profiles/standard", fx.admin, nil).problem(t, http.StatusConflict, "")
	_, writer := fx.createKey(t, obj{"name": "w", "scopes": []string{"webhooks:read", "webhooks:write"}})
	fx.do(t, "POST", "/v1/profiles", writer, obj{"name": "y", "definition": rawProfile}).problem(t, http.StatusForbidden, "")
	fx.do(t, "GET", "/v1/profiles/acme", writer, nil).must(t, http.StatusOK)

	// In use: cannot be deleted; a webhook cannot name an unknown profile.
	wh := fx.createWebhook(t, fx.admin, obj{"url": discard, "profile": "acme", "secret": "plain-secret-123"}).must(t, http.StatusCreated)
	fx.do(t, "DELETE", "/v1/profiles/acme", fx.admin, nil).problem(t, http.StatusConflict, "")
	fx.do(t, "POST", "/v1/webhooks", fx.admin, obj{"url": discard, "profile": "nope"}).problem(t, http.StatusUnprocessableEntity, "profile")

	upd := obj{"definition": obj{"envelope": "{data}", "signature": rawProfile["signature"]}}
	fx.do(t, "PUT", "/v1/profiles/acme", fx.admin, upd).must(t, http.StatusOK)
	fx.do(t, "DELETE", "/v1/webhooks/"+wh.str("id"), fx.admin, nil).must(t, http.StatusNoContent)
	fx.do(t, "DELETE", "/v1/profiles/acme", fx.admin, nil).must(t, http.StatusNoContent)
	fx.do(t, "GET", "/v1/profiles/acme", fx.admin, nil).problem(t, http.StatusNotFound, "")
}

func TestProfileShapesDeliveries(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	rc := fx.receiver()
	fx.do(t, "POST", "/v1/profiles", fx.admin, obj{"name": "acme", "definition": rawProfile}).must(t, http.StatusCreated)

	// A raw-key profile takes any secret string of 8+ characters; whsec_ is
	// only required by the standard profile.
	fx.do(t, "POST", "/v1/webhooks", fx.admin, obj{"url": rc.url + "/x", "profile": "acme", "secret": "short"}).problem(t, http.StatusUnprocessableEntity, "secret")
	const secret = "my plain secret"
	fx.createWebhook(t, fx.admin, obj{"url": rc.url + "/acme", "profile": "acme", "secret": secret}).must(t, http.StatusCreated)
	fx.publish(t, fx.admin, obj{"type": "order.paid", "data": json.RawMessage(`{"b": 1.0, "a": "x/y", "10": true, "2": false}`)})

	got := rc.waitFor(t, "/acme", 1)[0]
	// JavaScript enumerates integer-like keys first, whatever their place.
	wantBody := `{"2":false,"10":true,"kind":"order.paid","b":1,"a":"x/y","at":`
	if !strings.HasPrefix(string(got.body), wantBody) {
		t.Errorf("body: got %s, want it to start with %s", got.body, wantBody)
	}
	if ua := got.header.Get("User-Agent"); ua != "Acme-Hooks/2" {
		t.Errorf("User-Agent: got %q", ua)
	}
	if ev := got.header.Get("X-Acme-Event"); ev != "order.paid" {
		t.Errorf("X-Acme-Event: got %q", ev)
	}
	s := &webhook.Scheme{Header: "X-Acme-Signature", Payload: "{timestamp}.{body}", Encoding: "hex", Prefix: "v1=", Key: "raw"}
	// The timestamp is not in a header of this profile: rebuild it as the
	// receiver would not be able to, so check the signature by brute force over
	// the last seconds.
	ok := false
	for d := range 30 {
		ts := time.Now().Add(-time.Duration(d) * time.Second)
		sig, err := s.Sign([]string{secret}, "", ts, got.body)
		if err != nil {
			t.Fatal(err)
		}
		if sig == got.header.Get("X-Acme-Signature") {
			ok = true
			break
		}
	}
	if !ok {
		t.Errorf("X-Acme-Signature %q matches no recent timestamp", got.header.Get("X-Acme-Signature"))
	}
	if got.header.Get("webhook-signature") != "" {
		t.Error("a non-standard profile still sent webhook-signature")
	}
}

func TestRotateSecret(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	rc := fx.receiver()
	wh := fx.createWebhook(t, fx.admin, obj{"url": rc.url + "/r"}).must(t, http.StatusCreated)
	id, oldSecret := wh.str("id"), wh.str("secret")

	rot := fx.do(t, "POST", "/v1/webhooks/"+id+"/rotate-secret", fx.admin, obj{"grace_period": "1h"}).must(t, http.StatusOK)
	newSecret := rot.str("secret")
	fx.remember(rot.body)
	if newSecret == "" || newSecret == oldSecret || rot.str("previous_secret") != "" || rot.str("previous_secret_expires_at") == "" {
		t.Fatalf("rotate: got %s, want a new secret and the old one's expiry, not the old secret itself", rot.raw)
	}
	if g := fx.do(t, "GET", "/v1/webhooks/"+id, fx.admin, nil).must(t, http.StatusOK); g.str("secret") != "" || g.str("previous_secret") != "" {
		t.Errorf("GET shows secrets without include_secret: %s", g.raw)
	}
	if g := fx.do(t, "GET", "/v1/webhooks/"+id+"?include_secret=true", fx.admin, nil).must(t, http.StatusOK); g.str("secret") != newSecret || g.str("previous_secret") != oldSecret {
		t.Errorf("GET ?include_secret=true by an admin key: got %s, want both secrets", g.raw)
	}

	// During the grace period both secrets sign; each alone verifies.
	fx.publish(t, fx.admin, obj{"type": "a.b", "data": obj{"n": 1}})
	got := rc.waitFor(t, "/r", 1)[0]
	if n := len(strings.Fields(got.header.Get("webhook-signature"))); n != 2 {
		t.Errorf("webhook-signature during the grace period: got %d signatures, want 2", n)
	}
	for _, s := range []string{oldSecret, newSecret} {
		ref, err := standardwebhooks.NewWebhook(s)
		if err != nil {
			t.Fatal(err)
		}
		if err := ref.Verify(got.body, got.header); err != nil {
			t.Errorf("reference library with one of the two secrets: %v", err)
		}
	}

	// Without a grace period the old secret stops at once.
	rot2 := fx.do(t, "POST", "/v1/webhooks/"+id+"/rotate-secret", fx.admin, obj{"grace_period": "0s"}).must(t, http.StatusOK)
	fx.remember(rot2.body)
	fx.publish(t, fx.admin, obj{"type": "a.b", "data": obj{"n": 2}})
	got = rc.waitFor(t, "/r", 2)[1]
	if n := len(strings.Fields(got.header.Get("webhook-signature"))); n != 1 {
		t.Errorf("webhook-signature after a rotation without grace: got %d signatures, want 1", n)
	}
	ref, _ := standardwebhooks.NewWebhook(rot2.str("secret"))
	if err := ref.Verify(got.body, got.header); err != nil {
		t.Errorf("the new secret does not verify: %v", err)
	}
	ref, _ = standardwebhooks.NewWebhook(newSecret)
	if err := ref.Verify(got.body, got.header); err == nil {
		t.Error("the rotated-away secret still verifies after a rotation without grace")
	}

	fx.do(t, "POST", "/v1/webhooks/"+id+"/rotate-secret", fx.admin, obj{"grace_period": "8d"}).problem(t, http.StatusUnprocessableEntity, "grace_period")
	fx.do(t, "POST", "/v1/webhooks/"+id+"/rotate-secret", fx.admin, obj{"secret": "not-whsec"}).problem(t, http.StatusUnprocessableEntity, "secret")
	_, other := fx.createKey(t, obj{"name": "o", "scopes": []string{"webhooks:write"}, "tenant": "other"})
	fx.do(t, "POST", "/v1/webhooks/"+id+"/rotate-secret", other, nil).problem(t, http.StatusNotFound, "")
}

func TestEd25519Profile(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	rc := fx.receiver()
	def := obj{
		"envelope":  obj{"id": "{event.id}", "event": "{event.type}", "data": "{data}"},
		"headers":   obj{"webhook-id": "{event.id}", "webhook-timestamp": "{send.unix}"},
		"signature": obj{"algorithm": "ed25519", "header": "webhook-signature", "payload": "{event.id}.{send.unix}.{body}", "encoding": "base64", "prefix": "v1a,", "separator": " "},
	}
	fx.do(t, "POST", "/v1/profiles", fx.admin, obj{"name": "asym", "definition": def}).must(t, http.StatusCreated)
	wh := fx.createWebhook(t, fx.admin, obj{"url": rc.url + "/a", "profile": "asym"}).must(t, http.StatusCreated)
	fx.remember(wh.body)
	pub := wh.str("public_key")
	if !strings.HasPrefix(wh.str("secret"), "whsk_") || !strings.HasPrefix(pub, "whpk_") {
		t.Fatalf("ed25519 webhook: got secret %.8q…, public key %q; want whsk_ and whpk_", wh.str("secret"), pub)
	}
	if g := fx.do(t, "GET", "/v1/webhooks/"+wh.str("id"), fx.admin, nil).must(t, http.StatusOK); g.str("public_key") != pub || g.str("secret") != "" {
		t.Errorf("GET: got %s, want the public key and no secret", g.raw)
	}
	fx.publish(t, fx.admin, obj{"type": "a.b", "data": obj{"n": 1}})
	got := rc.waitFor(t, "/a", 1)[0]

	// Verified with crypto/ed25519 directly, as a receiver without our package would.
	keyBytes, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(pub, "whpk_"))
	if err != nil || len(keyBytes) != ed25519.PublicKeySize {
		t.Fatalf("public key: %v, %d bytes", err, len(keyBytes))
	}
	sig, ok := strings.CutPrefix(got.header.Get("webhook-signature"), "v1a,")
	raw, err := base64.StdEncoding.DecodeString(sig)
	if !ok || err != nil {
		t.Fatalf("webhook-signature %q is not v1a,<base64>", got.header.Get("webhook-signature"))
	}
	msg := got.header.Get("webhook-id") + "." + got.header.Get("webhook-timestamp") + "." + string(got.body)
	if !ed25519.Verify(keyBytes, []byte(msg), raw) {
		t.Error("the ed25519 signature does not verify with the webhook's public key")
	}
	if err := webhook.StandardAsymmetricScheme().Verify([]string{pub}, got.body, got.header); err != nil {
		t.Errorf("webhook.StandardAsymmetricScheme: %v", err)
	}
}

func TestProfileLimits(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	def := obj{"policy": obj{"max_payload_bytes": 16, "max_webhooks_per_tenant": 1}}
	fx.do(t, "POST", "/v1/profiles", fx.admin, obj{"name": "small", "definition": def}).must(t, http.StatusCreated)
	fx.createWebhook(t, fx.admin, obj{"url": discard, "tenant": "t1", "profile": "small", "secret": "a-raw-secret"})
	fx.do(t, "POST", "/v1/webhooks", fx.admin, obj{"url": discard, "tenant": "t1", "profile": "small"}).
		problem(t, http.StatusUnprocessableEntity, "")

	fx.publish(t, fx.admin, obj{"type": "a.b", "tenant": "t1", "data": json.RawMessage(`{"n":"0123456"}`)})                         // 15 bytes
	r := fx.do(t, "POST", "/v1/events", fx.admin, obj{"type": "a.b", "tenant": "t1", "data": json.RawMessage(`{"n":"012345678"}`)}) // 17 bytes
	r.problem(t, http.StatusRequestEntityTooLarge, "data")
	if !strings.Contains(string(r.raw), `profile \"small\"`) {
		t.Errorf("413: got %s, want the profile named", r.raw)
	}
	// Another tenant's event is not held to that profile's limit.
	fx.publish(t, fx.admin, obj{"type": "a.b", "tenant": "t2", "data": json.RawMessage(`{"n":"0123456789abcdef"}`)})
}
