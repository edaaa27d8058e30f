package delivery

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/profile"
)

// BenchmarkCheckEvent is what a profile's limits add to publishing, per event
// and webhook (checkEvent): "data" only compares the data's length (max_payload_bytes),
// "body" renders the body once (max_body_bytes, Formulr's envelope, 1 KiB of
// data), "body, again" is the next webhook of the same profile.
func BenchmarkCheckEvent(b *testing.B) {
	env := json.RawMessage(`{"event": "{event.type}", "timestamp": "{event.timestamp}", "data": "{data}"}`)
	ev := &hookline.Event{ID: hookline.NewID(hookline.PrefixEvent), Type: "response.created", Tenant: "t",
		Data: json.RawMessage(`{"s":"` + strings.Repeat("a", 1016) + `"}`), Timestamp: time.Now().UTC()}
	wh := &hookline.Webhook{ID: hookline.NewID(hookline.PrefixWebhook)}
	for _, c := range []struct {
		name   string
		policy profile.PolicyDefinition
		sized  []string
	}{
		{"data", profile.PolicyDefinition{MaxPayloadBytes: 1 << 20}, nil},
		{"body", profile.PolicyDefinition{MaxBodyBytes: 1 << 20}, nil},
		{"body, again", profile.PolicyDefinition{MaxBodyBytes: 1 << 20}, []string{"p"}},
	} {
		prof, err := profile.Compile("p", &profile.Definition{Envelope: env, Policy: c.policy},
			profile.Defaults{RetrySchedule: []time.Duration{0, time.Minute}, MaxPayloadBytes: 1 << 20})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := checkEvent(prof, ev, wh, ev.Timestamp, c.sized); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
