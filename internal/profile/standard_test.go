package profile

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/webhook"
)

func standardProfile(t *testing.T) *Profile {
	t.Helper()
	p, err := Compile(Standard, StandardDefinition(), testDefaults)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRenderStandard(t *testing.T) {
	t.Parallel()
	secret := webhook.NewSecret()
	data := `{"z":1,"a":[1.0,0.10,12345678901234567890],"url":"https://x.test/a/b","name":"Zoë \u00e9"}`
	ev := &hookline.Event{
		ID:        "evt_01jcz8t5a2b3c4d5e6f7g8h9jk",
		Type:      "invoice.paid",
		Data:      json.RawMessage(data),
		Timestamp: time.Date(2026, 11, 23, 10, 0, 0, 123000000, time.UTC),
	}
	wh := &hookline.Webhook{Secret: secret, Headers: map[string]string{"X-Team": "billing", "User-Agent": "Acme/2"}}
	sentAt := time.Now().Add(-time.Second)
	req, err := standardProfile(t).Render(Message{Event: ev, Webhook: wh, DeliveryID: "dlv_x", Attempt: 1, SentAt: sentAt, Secrets: []string{secret}})
	if err != nil {
		t.Fatal(err)
	}

	// Headers go on the wire as written (lower case, like the Standard Webhooks
	// examples); a receiver's server canonicalises them, as received does here.
	received := http.Header{}
	for k, vs := range req.Header {
		for _, v := range vs {
			received.Add(k, v)
		}
	}

	want := `{"id":"evt_01jcz8t5a2b3c4d5e6f7g8h9jk","event":"invoice.paid","timestamp":"2026-11-23T10:00:00.123Z","data":` + data + `}`
	if string(req.Body) != want {
		t.Errorf("body:\n got %s\nwant %s", req.Body, want)
	}
	for k, v := range map[string]string{
		"Content-Type":      "application/json",
		"User-Agent":        "Acme/2",
		"X-Team":            "billing",
		"webhook-id":        ev.ID,
		"webhook-timestamp": strconv.FormatInt(sentAt.Unix(), 10),
	} {
		if got := received.Get(k); got != v {
			t.Errorf("header %s: got %q, want %q", k, got, v)
		}
	}
	for _, k := range []string{"webhook-id", "webhook-timestamp", "webhook-signature"} {
		if _, ok := req.Header[k]; !ok {
			t.Errorf("header %s not sent in lower case: %v", k, req.Header)
		}
	}

	// The reference implementation accepts what we sent.
	ref, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := ref.Verify(req.Body, received); err != nil {
		t.Errorf("reference library rejects our signature: %v", err)
	}
	tampered := append([]byte(nil), req.Body...)
	tampered[len(tampered)-2] = '0'
	if err := ref.Verify(tampered, received); err == nil {
		t.Error("reference library accepts a tampered body")
	}
}

func TestRenderStandardDefaultsAndBadSecret(t *testing.T) {
	t.Parallel()
	ev := &hookline.Event{ID: "evt_1", Type: "a.b", Data: json.RawMessage(`null`), Timestamp: time.Unix(0, 0)}
	secret := webhook.NewSecret()
	req, err := standardProfile(t).Render(Message{Event: ev, Webhook: &hookline.Webhook{Secret: secret}, SentAt: time.Now(), Secrets: []string{secret}})
	if err != nil {
		t.Fatal(err)
	}
	if got := req.Header.Get("User-Agent"); got != UserAgent {
		t.Errorf("User-Agent: got %q, want %q", got, UserAgent)
	}
	if _, err := standardProfile(t).Render(Message{Event: ev, Webhook: &hookline.Webhook{}, SentAt: time.Now(), Secrets: []string{"not-a-secret"}}); err == nil {
		t.Error("a secret without whsec_ prefix rendered, want an error")
	}
}
