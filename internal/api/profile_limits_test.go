package api_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/hookline/hookline/internal/config"
)

// A profile's max_body_bytes limits the body as sent: the envelope around the
// data counts. One byte over is 413 naming the profile and the setting, and
// nothing is stored; exactly the limit is delivered.
func TestPublishProfileBodyLimit(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	rc := fx.receiver()
	const limit = 200
	fx.do(t, "POST", "/v1/profiles", fx.admin, obj{"name": "onwire", "definition": obj{
		"envelope": obj{"event": "{event.type}", "timestamp": "{event.timestamp}", "attempt": "{attempt}", "data": "{data}"},
		"policy":   obj{"max_body_bytes": limit, "retry_schedule": []string{"0s", "1m", "1m", "1m", "1m", "1m", "1m", "1m", "1m", "1m"}},
	}}).must(t, http.StatusCreated)
	fx.createWebhook(t, fx.admin, obj{"url": rc.url + "/onwire", "tenant": "t1", "profile": "onwire", "secret": "a-raw-secret"})

	// The body is rendered with the largest attempt number (10 here): no retry is larger.
	overhead := len(`{"event":"a.b","timestamp":"2024-12-14T10:30:00Z","attempt":10,"data":}`)
	event := func(size int) obj { // data: compact JSON of exactly size bytes
		return obj{"type": "a.b", "tenant": "t1", "timestamp": "2024-12-14T10:30:00Z",
			"data": json.RawMessage(`{"s":"` + strings.Repeat("a", size-8) + `"}`)}
	}
	r := fx.do(t, "POST", "/v1/events", fx.admin, event(limit-overhead+1))
	r.problem(t, http.StatusRequestEntityTooLarge, "data")
	if want := `the request body a webhook of profile \"onwire\" would get is 201 bytes, more than the 200 its max_body_bytes allows`; !strings.Contains(string(r.raw), want) {
		t.Errorf("413: got %s, want %s", r.raw, want)
	}
	if n := fx.countEvents(t); n != 0 {
		t.Errorf("got %d events stored, want none", n)
	}
	fx.do(t, "POST", "/v1/events", fx.admin, event(limit-overhead)).must(t, http.StatusAccepted)
	if got := rc.waitFor(t, "/onwire", 1); len(got[0].body) != limit-1 { // attempt 1: one digit fewer
		t.Errorf("delivered body of %d bytes, want %d: %s", len(got[0].body), limit-1, got[0].body)
	}

	// Another tenant's event, with no webhook of the profile, is not limited.
	fx.do(t, "POST", "/v1/events", fx.admin, obj{"type": "a.b", "tenant": "t2",
		"data": json.RawMessage(`{"s":"` + strings.Repeat("a", 500) + `"}`)}).must(t, http.StatusAccepted)
}

// With a profile limiting the data (max_payload_bytes), the 413 names the
// profile and the setting; over the server's own limit it names that one.
func TestPublishPayloadLimitNamesTheLimit(t *testing.T) {
	t.Parallel()
	fx := setup(t, func(c *config.Config) { c.MaxPayloadBytes = 64 })
	fx.do(t, "POST", "/v1/profiles", fx.admin, obj{"name": "small", "definition": obj{"policy": obj{"max_payload_bytes": 16}}}).must(t, http.StatusCreated)
	fx.createWebhook(t, fx.admin, obj{"url": discard, "tenant": "t1", "profile": "small", "secret": "a-raw-secret"})
	tests := []struct {
		name, data, want string
	}{
		{"the profile's", `{"n":"012345678"}`, `data is 17 bytes, more than the 16 that profile \"small\" allows (its max_payload_bytes)`},
		{"the server's", `{"n":"` + strings.Repeat("x", 60) + `"}`, `68 bytes, more than the 64 this server allows (--max-payload-bytes)`},
	}
	for _, tt := range tests {
		r := fx.do(t, "POST", "/v1/events", fx.admin, obj{"type": "a.b", "tenant": "t1", "data": json.RawMessage(tt.data)})
		r.problem(t, http.StatusRequestEntityTooLarge, "data")
		if !strings.Contains(string(r.raw), tt.want) {
			t.Errorf("%s limit: got %s, want %s", tt.name, r.raw, tt.want)
		}
	}
	if n := fx.countEvents(t); n != 0 {
		t.Errorf("got %d events stored, want none", n)
	}
}

// A profile's secret format: created and rotated secrets are generated in it;
// with strict, a given secret of another format is refused on create, update
// and rotation, naming secret and the format, and changes nothing.
func TestWebhookSecretFormat(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	fx.do(t, "POST", "/v1/profiles", fx.admin, obj{"name": "vox", "definition": obj{
		"signature": obj{"header": "X-Sig", "payload": "{send.unix}.{body}", "prefix": "v1=", "key": "raw"},
		"secret":    obj{"prefix": "whsec_", "alphabet": "alphanumeric", "length": 32, "strict": true},
	}}).must(t, http.StatusCreated)
	format := regexp.MustCompile(`^whsec_[A-Za-z0-9]{32}$`)
	const want = `must be \"whsec_\" followed by 32 letters and digits (A-Z, a-z, 0-9)`

	r := fx.do(t, "POST", "/v1/webhooks", fx.admin, obj{"url": discard, "profile": "vox", "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2La+/Sw"})
	r.problem(t, http.StatusUnprocessableEntity, "secret")
	if !strings.Contains(string(r.raw), want) {
		t.Errorf("a base64 secret: got %s, want %s", r.raw, want)
	}
	created := fx.createWebhook(t, fx.admin, obj{"url": discard, "profile": "vox"})
	id, first := created.str("id"), created.str("secret")
	if !format.MatchString(first) {
		t.Errorf("generated secret %q, want %s", first, format)
	}
	for _, req := range []struct{ method, path string }{
		{"PATCH", "/v1/webhooks/" + id},
		{"POST", "/v1/webhooks/" + id + "/rotate-secret"},
	} {
		r := fx.do(t, req.method, req.path, fx.admin, obj{"secret": "whsec_short"})
		r.problem(t, http.StatusUnprocessableEntity, "secret")
		if !strings.Contains(string(r.raw), want) {
			t.Errorf("%s %s: got %s, want %s", req.method, req.path, r.raw, want)
		}
	}
	if got := fx.do(t, "GET", "/v1/webhooks/"+id+"?include_secret=true", fx.admin, nil).must(t, http.StatusOK).str("secret"); got != first {
		t.Errorf("after refused changes: secret %q, want %q unchanged", got, first)
	}
	rot := fx.do(t, "POST", "/v1/webhooks/"+id+"/rotate-secret", fx.admin, obj{}).must(t, http.StatusOK).str("secret")
	if !format.MatchString(rot) || rot == first {
		t.Errorf("rotated secret %q, want a new one matching %s", rot, format)
	}
	given := "whsec_0123456789abcdefghijklmnopqrstuv"
	if got := fx.do(t, "PATCH", "/v1/webhooks/"+id, fx.admin, obj{"secret": given}).must(t, http.StatusOK).str("secret"); got != given {
		t.Errorf("a secret of the format: got %q, want %q", got, given)
	}

	// A format the profile cannot have: 422 naming the field.
	fx.do(t, "POST", "/v1/profiles", fx.admin, obj{"name": "weak", "definition": obj{
		"signature": obj{"header": "X-Sig"}, "secret": obj{"alphabet": "hex", "length": 16},
	}}).problem(t, http.StatusUnprocessableEntity, "")
}
