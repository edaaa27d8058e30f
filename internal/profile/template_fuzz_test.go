package profile

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzEnvelope: any envelope either fails to compile with an error, or renders
// valid JSON for any valid data, without panicking.
func FuzzEnvelope(f *testing.F) {
	for _, s := range []string{
		`"{data}"`, `{"id":"{event.id}","data":"{data}"}`, `{"...":"{data}","e":"{event.type}"}`,
		`{"a":"x{data.a}y","b":["{attempt}",1.5e3,null]}`, `{"a":"{{}}","b":"{data.0.1}"}`, `[]`, `"{"`, `{"...":"{data.x}"}`,
	} {
		f.Add(s, `{"a":{"b":"c/d"},"x":{"y":1},"0":[1,{"1":2}]}`)
	}
	f.Fuzz(func(t *testing.T, envelope, data string) {
		if !json.Valid([]byte(data)) {
			return
		}
		p, err := Compile("f", &Definition{Envelope: json.RawMessage(envelope)}, testDefaults)
		if err != nil {
			return
		}
		req, err := p.Render(testMessage(data))
		if err != nil {
			if !strings.Contains(err.Error(), "not a JSON object") {
				t.Fatalf("render failed with an unexpected error: %v", err)
			}
			return
		}
		if !json.Valid(req.Body) {
			t.Fatalf("envelope %q with data %q rendered invalid JSON %q", envelope, data, req.Body)
		}
	})
}

// FuzzTextTemplate: parsing never panics, and a literal-only template renders
// its text with "{{" and "}}" unescaped.
func FuzzTextTemplate(f *testing.F) {
	for _, s := range []string{"plain", "{event.type}", "a{{b}}c", "{", "}", "{send.unix}.{body}", "{data.a.b}x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tt, err := parseText(s, nil)
		if err != nil {
			return
		}
		out, err := tt.render(nil, &values{m: func() *Message { m := testMessage(`{"a":{"b":1}}`); return &m }()})
		if err != nil {
			t.Fatalf("render %q: %v", s, err)
		}
		if !strings.Contains(s, "{") && !strings.Contains(s, "}") && string(out) != s {
			t.Fatalf("literal %q rendered %q", s, out)
		}
	})
}
