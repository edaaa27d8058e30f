package storetest

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

// exerciseWebhookHealth covers the health of webhooks a list page shows: each
// one's last attempt and its counts since a time, for the ids asked only.
func exerciseWebhookHealth(t *testing.T, open func(t *testing.T) store.Store) {
	subtests(t, map[string]func(t *testing.T){
		"LastAttemptAndCounts": func(t *testing.T) {
			e := newEnv(t, open)
			w1, w2, quiet := e.webhook("acme"), e.webhook("acme"), e.webhook("acme")
			g := e.webhook("globex")
			since := e.now.Add(-time.Hour)
			for _, a := range []*hookline.Attempt{
				e.attemptAt(w1, since.Add(-time.Hour), 200, "", 10),
				e.attemptAt(w1, since.Add(-time.Millisecond), 200, "", 10), // before since: not counted
				e.attemptAt(w1, since, 500, "HTTP 500", 10),                // at since: counted
				e.attemptAt(w1, since.Add(10*time.Minute), 200, "", 10),
				e.attemptAt(w1, since.Add(15*time.Minute), 201, "read body: EOF", 10),
				e.attemptAt(w1, since.Add(20*time.Minute), 0, "timeout after 30s", 30000),
				e.attemptAt(w2, since.Add(-2*time.Hour), 204, "", 10), // nothing since
				e.attemptAt(g, since.Add(30*time.Minute), 410, "HTTP 410", 10),
			} {
				if err := e.s.AttemptInsert(e.ctx, a); err != nil {
					t.Fatalf("AttemptInsert: %v", err)
				}
			}
			at := func(d time.Duration) *time.Time { return ptr(since.Add(d)) }
			healthOfW1 := store.WebhookHealth{LastAttemptAt: at(20 * time.Minute), LastError: "timeout after 30s", Succeeded: 1, Failed: 3}
			healthOfW2 := store.WebhookHealth{LastAttemptAt: at(-2 * time.Hour), LastStatus: 204}
			cases := []struct {
				name string
				ids  []string
				want map[string]store.WebhookHealth
			}{
				{"tenant's webhooks", []string{w1.ID, w2.ID, quiet.ID}, map[string]store.WebhookHealth{w1.ID: healthOfW1, w2.ID: healthOfW2}},
				{"one", []string{w2.ID}, map[string]store.WebhookHealth{w2.ID: healthOfW2}},
				{"repeated", []string{w1.ID, w1.ID}, map[string]store.WebhookHealth{w1.ID: healthOfW1}},
				{"other tenant", []string{g.ID}, map[string]store.WebhookHealth{
					g.ID: {LastAttemptAt: at(30 * time.Minute), LastStatus: 410, LastError: "HTTP 410", Failed: 1}}},
				{"no attempt", []string{quiet.ID, hookline.NewID(hookline.PrefixWebhook)}, map[string]store.WebhookHealth{}},
				{"none", nil, map[string]store.WebhookHealth{}},
			}
			for _, c := range cases {
				got, err := e.s.WebhookHealth(e.ctx, c.ids, since)
				if err != nil {
					t.Fatalf("WebhookHealth %s: %v", c.name, err)
				}
				if !reflect.DeepEqual(got, c.want) {
					t.Errorf("WebhookHealth %s:\n got %s\nwant %s", c.name, fmtHealth(got), fmtHealth(c.want))
				}
			}
			got, err := e.s.WebhookHealth(e.ctx, []string{w1.ID}, since.Add(time.Millisecond))
			if err != nil || got[w1.ID].Failed != 2 || got[w1.ID].Succeeded != 1 {
				t.Errorf("WebhookHealth a millisecond later: got %s, %v; want 1 succeeded, 2 failed", fmtHealth(got), err)
			}
		},
		"TooManyIDs": func(t *testing.T) {
			e := newEnv(t, open)
			ids := make([]string, store.MaxHealthIDs+1)
			for i := range ids {
				ids[i] = hookline.NewID(hookline.PrefixWebhook)
			}
			_, err := e.s.WebhookHealth(e.ctx, ids, e.now)
			wantInvalid(t, "WebhookHealth of too many ids", err, "ids")
			if got, err := e.s.WebhookHealth(e.ctx, ids[:store.MaxHealthIDs], e.now); err != nil || len(got) != 0 {
				t.Errorf("WebhookHealth of %d ids without attempts: got %v, %v; want an empty map", store.MaxHealthIDs, got, err)
			}
		},
	})
}

// fmtHealth shows a health map with its times.
func fmtHealth(m map[string]store.WebhookHealth) string {
	out := "{"
	for id, h := range m {
		out += fmt.Sprintf("%s: last %s status %d error %q, %d succeeded, %d failed; ",
			id, fmtTime(h.LastAttemptAt), h.LastStatus, h.LastError, h.Succeeded, h.Failed)
	}
	return out + "}"
}
