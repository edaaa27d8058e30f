package profile

import (
	"encoding/json"
	"testing"
	"time"
)

// TestTimestampFormats: every format of the event's time and of the send time,
// in the envelope (unix forms as numbers) and in a header.
func TestTimestampFormats(t *testing.T) {
	t.Parallel()
	tests := []struct {
		placeholder string
		at          time.Time // the event's time
		want        string    // in the envelope
	}{
		{"event.timestamp", time.Date(2026, 1, 27, 10, 30, 0, 0, time.UTC), `"2026-01-27T10:30:00Z"`},
		{"event.timestamp", time.Date(2026, 1, 27, 10, 30, 0, 250e6, time.UTC), `"2026-01-27T10:30:00.25Z"`},
		{"event.timestamp.rfc3339", time.Date(2026, 1, 27, 10, 30, 0, 123e6, time.UTC), `"2026-01-27T10:30:00.123Z"`},
		{"event.timestamp.rfc3339_offset", time.Date(2026, 1, 27, 10, 30, 0, 0, time.UTC), `"2026-01-27T10:30:00+00:00"`},
		{"event.timestamp.rfc3339_offset", time.Date(2026, 1, 27, 10, 30, 0, 123e6, time.UTC), `"2026-01-27T10:30:00.123+00:00"`},
		// Another zone is written in UTC all the same.
		{"event.timestamp.rfc3339_offset", time.Date(2026, 1, 27, 11, 30, 0, 0, time.FixedZone("CET", 3600)), `"2026-01-27T10:30:00+00:00"`},
		{"event.timestamp.unix", time.Date(2026, 1, 27, 10, 30, 0, 999e6, time.UTC), `1769509800`},
		{"event.timestamp.unix_ms", time.Date(2026, 1, 27, 10, 30, 0, 123e6, time.UTC), `1769509800123`},
		{"event.timestamp.http", time.Date(2026, 1, 27, 10, 30, 0, 123e6, time.UTC), `"Tue, 27 Jan 2026 10:30:00 GMT"`},
		{"send.unix", time.Time{}, `1769509805`},
		{"send.unix_ms", time.Time{}, `1769509805250`},
		{"send.rfc3339", time.Time{}, `"2026-01-27T10:30:05Z"`},
		{"send.rfc3339_offset", time.Time{}, `"2026-01-27T10:30:05+00:00"`},
		{"send.http", time.Time{}, `"Tue, 27 Jan 2026 10:30:05 GMT"`},
	}
	for _, tt := range tests {
		t.Run(tt.placeholder+" "+tt.want, func(t *testing.T) {
			t.Parallel()
			p, err := Compile("t", &Definition{
				Envelope: json.RawMessage(`{"t": "{` + tt.placeholder + `}", "s": "at {` + tt.placeholder + `}"}`),
				Headers:  map[string]string{"X-T": "{" + tt.placeholder + "}"},
			}, testDefaults)
			if err != nil {
				t.Fatal(err)
			}
			m := testMessage(`{}`)
			m.SentAt = time.Date(2026, 1, 27, 10, 30, 5, 250e6, time.UTC)
			if !tt.at.IsZero() {
				m.Event.Timestamp = tt.at
			}
			req, err := p.Render(m)
			if err != nil {
				t.Fatal(err)
			}
			text := tt.want
			if text[0] == '"' {
				text = text[1 : len(text)-1]
			}
			if want := `{"t":` + tt.want + `,"s":"at ` + text + `"}`; string(req.Body) != want {
				t.Errorf("body: got %s, want %s", req.Body, want)
			}
			if got := req.Header.Get("X-T"); got != text {
				t.Errorf("header: got %q, want %q", got, text)
			}
		})
	}
}

// TestTimestampFormatsAllocations: formatting a time allocates nothing beyond
// the body itself.
func TestTimestampFormatsAllocations(t *testing.T) {
	p, err := Compile("t", &Definition{Envelope: json.RawMessage(
		`{"a": "{event.timestamp}", "b": "{event.timestamp.rfc3339_offset}", "c": "{event.timestamp.unix_ms}", "d": "{event.timestamp.http}", "data": "{data}"}`,
	)}, testDefaults)
	if err != nil {
		t.Fatal(err)
	}
	m := testMessage(`{"x":1}`)
	if n := testing.AllocsPerRun(100, func() {
		if _, err := p.Body(m); err != nil {
			t.Fatal(err)
		}
	}); n > 1 {
		t.Errorf("rendering a body with four timestamps: %v allocations, want 1 (the body)", n)
	}
}
