package profile

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

var testDefaults = Defaults{
	RetrySchedule: []time.Duration{0, time.Second}, Timeout: 30 * time.Second,
	AutoDisable: AutoDisableRule{Failures: 5, After: 24 * time.Hour}, MaxPayloadBytes: 1 << 20,
	MaxWebhooksPerTenant: 50, Jitter: 0.1,
}

func testMessage(data string) Message {
	return Message{
		Event: &hookline.Event{
			ID: "evt_1", Type: "response.created", Tenant: "acme", Data: json.RawMessage(data),
			Timestamp: time.Date(2026, 1, 27, 10, 30, 0, 0, time.UTC),
		},
		Webhook:    &hookline.Webhook{ID: "wh_1", Secret: "s3cret-s3cret"},
		DeliveryID: "dlv_1", Attempt: 2,
		SentAt:  time.Date(2026, 1, 27, 10, 30, 5, 0, time.UTC),
		Secrets: []string{"s3cret-s3cret"},
	}
}

func compileYAML(t *testing.T, src string) *Profile {
	t.Helper()
	d, err := ParseYAML([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Compile("test", d, testDefaults)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEnvelopes(t *testing.T) {
	t.Parallel()
	data := `{"form":{"title":"Avis / clients"},"response":{"id":"r1","n":1.0},"z":[1,2]}`
	tests := []struct {
		name     string
		envelope string
		want     string
	}{
		{"raw data", `"{data}"`, data},
		{"standard-like", `{"id": "{event.id}", "event": "{event.type}", "timestamp": "{event.timestamp}", "data": "{data}"}`,
			`{"id":"evt_1","event":"response.created","timestamp":"2026-01-27T10:30:00Z","data":` + data + `}`},
		{"data paths", `{"event": "{event.type}", "form": "{data.form}", "data": "{data.response}"}`,
			`{"event":"response.created","form":{"title":"Avis / clients"},"data":{"id":"r1","n":1.0}}`},
		{"array index and missing", `{"second": "{data.z.1}", "none": "{data.nope.x}"}`, `{"second":2,"none":null}`},
		{"numbers and literals", `{"ts": "{event.timestamp.unix}", "attempt": "{attempt}", "v": 2, "ok": true, "x": null}`,
			`{"ts":1769509800,"attempt":2,"v":2,"ok":true,"x":null}`},
		{"interpolation", `{"ref": "evt:{event.id}/{data.form.title}", "braces": "{{literal}}"}`,
			`{"ref":"evt:evt_1/Avis / clients","braces":"{literal}"}`},
		{"ids", `{"webhook_id": "{delivery.id}", "hook": "{webhook.id}", "tenant": "{event.tenant}"}`,
			`{"webhook_id":"dlv_1","hook":"wh_1","tenant":"acme"}`},
		{"spread", `{"event": "{event.type}", "...": "{data.response}", "timestamp": "{event.timestamp.unix}"}`,
			`{"event":"response.created","id":"r1","n":1.0,"timestamp":1769509800}`},
		{"spread first", `{"...": "{data}", "event": "{event.type}"}`, `{"form":{"title":"Avis / clients"},"response":{"id":"r1","n":1.0},"z":[1,2],"event":"response.created"}`},
		{"spread of absent", `{"...": "{data.nope}", "a": 1}`, `{"a":1}`},
		{"key order kept", `{"z": 1, "a": 2, "m": "{data.z}"}`, `{"z":1,"a":2,"m":[1,2]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := Compile("t", &Definition{Envelope: json.RawMessage(tt.envelope)}, testDefaults)
			if err != nil {
				t.Fatal(err)
			}
			req, err := p.Render(testMessage(data))
			if err != nil {
				t.Fatal(err)
			}
			if string(req.Body) != tt.want {
				t.Errorf("body:\n got %s\nwant %s", req.Body, tt.want)
			}
			if !json.Valid(req.Body) {
				t.Errorf("body is not valid JSON: %s", req.Body)
			}
		})
	}
}

func TestSpreadOfANonObjectFails(t *testing.T) {
	t.Parallel()
	p, err := Compile("t", &Definition{Envelope: json.RawMessage(`{"...": "{data.z}"}`)}, testDefaults)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Render(testMessage(`{"z":[1]}`)); err == nil || !strings.Contains(err.Error(), "not a JSON object") {
		t.Errorf("got %v, want an error saying the spread value is not an object", err)
	}
}

func TestHeadersAndSendTime(t *testing.T) {
	t.Parallel()
	p := compileYAML(t, `
headers:
  User-Agent: FormVox-Webhook/1.0
  X-FormVox-Event: "{event.type}"
  X-FormVox-Timestamp: "{send.unix}"
  date: "{send.http}"
  X-Sent: "{send.rfc3339}"
  x-literal: "a {{b}}"
`)
	m := testMessage(`{}`)
	m.Webhook.Headers = map[string]string{"user-agent": "Custom/2", "X-Extra": "1"}
	req, err := p.Render(m)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"Content-Type":        "application/json",
		"user-agent":          "Custom/2",
		"X-FormVox-Event":     "response.created",
		"X-FormVox-Timestamp": "1769509805",
		"date":                "Tue, 27 Jan 2026 10:30:05 GMT",
		"X-Sent":              "2026-01-27T10:30:05Z",
		"x-literal":           "a {b}",
		"X-Extra":             "1",
	}
	for k, v := range want {
		if got := req.Header[k]; len(got) != 1 || got[0] != v {
			t.Errorf("header %s: got %q, want %q", k, got, v)
		}
	}
	if len(req.Header) != len(want) {
		t.Errorf("headers: got %v, want exactly %v", req.Header, want)
	}
}

func TestCompileErrorsNameTheField(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		def   Definition
		field string
	}{
		{"bad envelope json", Definition{Envelope: json.RawMessage(`{"a":`)}, "envelope"},
		{"unknown placeholder", Definition{Envelope: json.RawMessage(`{"a":"{evnt.type}"}`)}, "envelope"},
		{"body in envelope", Definition{Envelope: json.RawMessage(`"{body}"`)}, "envelope"},
		{"unclosed brace", Definition{Envelope: json.RawMessage(`{"a":"{event.type"}`)}, "envelope"},
		{"lone closing brace", Definition{Envelope: json.RawMessage(`{"a":"x}"}`)}, "envelope"},
		{"bad spread", Definition{Envelope: json.RawMessage(`{"...":"{event.type}"}`)}, "envelope"},
		{"bad json form", Definition{JSON: "pretty"}, "json"},
		{"bad header name", Definition{Headers: map[string]string{"Bad Header": "x"}}, "headers"},
		{"bad header template", Definition{Headers: map[string]string{"X": "{nope}"}}, "headers"},
		{"body in header", Definition{Headers: map[string]string{"X": "{body}"}}, "headers"},
		{"signature payload placeholder", Definition{Signature: &Signature{Header: "X-Sig", Payload: "{event.type}.{body}"}}, "signature.payload"},
		{"bad schedule", Definition{Policy: PolicyDefinition{RetrySchedule: []string{"0s", "soon"}}}, "policy.retry_schedule"},
		{"bad retry_on", Definition{Policy: PolicyDefinition{RetryOn: []string{"6xx"}}}, "policy.retry_on"},
		{"bad timeout", Definition{Policy: PolicyDefinition{Timeout: "1h"}}, "policy.timeout"},
		{"bad auto disable", Definition{Policy: PolicyDefinition{AutoDisable: &AutoDisable{Failures: -1}}}, "policy.auto_disable.failures"},
		{"bad auto disable attempts", Definition{Policy: PolicyDefinition{AutoDisable: &AutoDisable{Attempts: -1}}}, "policy.auto_disable.attempts"},
		{"bad test data", Definition{TestData: json.RawMessage(`{`)}, "test_data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			def := tt.def
			_, err := Compile("t", &def, testDefaults)
			var ve *hookline.ValidationError
			if !errors.As(err, &ve) || ve.Field != tt.field {
				t.Errorf("got %v, want a validation error on %s", err, tt.field)
			}
		})
	}
}

func TestPolicy(t *testing.T) {
	t.Parallel()
	p := compileYAML(t, `
policy:
  retry_schedule: [0s, 1m, 5m, 30m]
  retry_on: [4xx, 5xx, 3xx]
  disable_on_gone: false
  timeout: 10s
  auto_disable: {failures: 1, after: 0s, attempts: 5}
  max_payload_bytes: 1000
  max_webhooks_per_tenant: 7
  jitter: 0
`)
	pol := p.Policy
	if len(pol.RetrySchedule) != 4 || pol.RetrySchedule[3] != 30*time.Minute {
		t.Errorf("schedule: got %v", pol.RetrySchedule)
	}
	for code, want := range map[int]bool{301: true, 400: true, 410: true, 499: true, 500: true, 200: false, 102: false} {
		if got := pol.RetryOn.Has(code); got != want {
			t.Errorf("retry_on.Has(%d) = %v, want %v", code, got, want)
		}
	}
	if pol.DisableOnGone || pol.Timeout != 10*time.Second || pol.AutoDisable != (AutoDisableRule{Failures: 1, Attempts: 5}) ||
		pol.MaxPayloadBytes != 1000 || pol.MaxWebhooksPerTenant != 7 || pol.Jitter != 0 {
		t.Errorf("policy: got %+v", pol)
	}

	def := compileYAML(t, `description: defaults`).Policy
	if def.Timeout != testDefaults.Timeout || def.AutoDisable != testDefaults.AutoDisable || !def.DisableOnGone || def.Jitter != 0.1 ||
		len(def.RetrySchedule) != 2 || def.MaxPayloadBytes != 1<<20 || def.MaxWebhooksPerTenant != 50 {
		t.Errorf("defaults: got %+v", def)
	}
	for code, want := range map[int]bool{302: true, 408: true, 429: true, 503: true, 400: false, 404: false, 410: false} {
		if got := def.RetryOn.Has(code); got != want {
			t.Errorf("default retry_on.Has(%d) = %v, want %v", code, got, want)
		}
	}
}

func TestParseYAMLRejectsUnknownKeys(t *testing.T) {
	t.Parallel()
	if _, err := ParseYAML([]byte("envelop: '{}'\n")); err == nil || !strings.Contains(err.Error(), "envelop") {
		t.Errorf("got %v, want an error naming the unknown key", err)
	}
	d, err := ParseYAML([]byte("envelope: '{data}'\n"))
	if err != nil {
		t.Fatal(err)
	}
	if string(d.Envelope) != `"{data}"` {
		t.Errorf("a non-JSON envelope string: got %s, want the JSON string \"{data}\"", d.Envelope)
	}
}

func TestStandardProfileIsData(t *testing.T) {
	t.Parallel()
	d := StandardDefinition()
	if d.Signature == nil || d.Signature.Header != "webhook-signature" || d.Signature.Key != "whsec" {
		t.Fatalf("built-in standard: got %+v", d.Signature)
	}
	reg, err := NewRegistry(nil, testDefaults)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := reg.Fixed(Standard)
	if !ok || p.Source != SourceBuiltIn || p.SecretKind() != "whsec" {
		t.Fatalf("registry's standard: %+v", p)
	}
	if err := p.ValidateSecret("not-a-whsec-secret"); err == nil {
		t.Error("standard accepted a secret that is not whsec_")
	}
	_ = http.Header{}
}
