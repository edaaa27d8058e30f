package profile

import (
	"encoding/json"
	"testing"
)

func TestReservedNames(t *testing.T) {
	t.Parallel()
	urlr := compileYAML(t, `envelope: '{"event": "{event.type}", "...": "{data}", "timestamp": "{event.timestamp.unix}"}'`)
	listed := compileYAML(t, "envelope: '{\"data\": \"{data}\"}'\nreserved: [signature]")
	nested := compileYAML(t, `envelope: '{"event": "{event.type}", "link": {"...": "{data.link}"}}'`)
	plain := compileYAML(t, `description: no envelope`)
	cases := []struct {
		name string
		p    *Profile
		data string
		want string // "" for none
	}{
		{"spread: timestamp", urlr, `{"link": {}, "timestamp": 1}`, "timestamp"},
		{"spread: event", urlr, `{"event": "x"}`, "event"},
		{"spread: free names", urlr, `{"link": {}, "country": "FR"}`, ""},
		{"spread: not an object", urlr, `[1]`, ""},
		{"listed", listed, `{"signature": "s"}`, "signature"},
		{"listed: nested names are free", listed, `{"a": {"signature": "s"}}`, ""},
		{"spread of a member reserves nothing at the top", nested, `{"event": 1}`, ""},
		{"no envelope", plain, `{"timestamp": 1}`, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := tc.p.ReservedIn(json.RawMessage(tc.data))
			if got != tc.want || ok != (tc.want != "") {
				t.Errorf("ReservedIn(%s): got %q, %v; want %q", tc.data, got, ok, tc.want)
			}
		})
	}
	if _, err := Compile("x", &Definition{Reserved: []string{""}}, testDefaults); err == nil {
		t.Errorf("reserved [\"\"]: compiled, want an error naming reserved")
	}
}
