package storetest

import (
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

func exercisePurge(t *testing.T, open func(t *testing.T) store.Store) {
	subtests(t, map[string]func(t *testing.T){
		"OldEventsAndAttempts": func(t *testing.T) {
			e := newEnv(t, open)
			w := e.webhook("acme")
			old := e.now.Add(-48 * time.Hour)
			before := e.now.Add(-24 * time.Hour)

			// Five old events whose deliveries ended, one old event nobody
			// subscribed to, one old event still pending, two recent events.
			var oldEvents, oldAttempts, keptAttempts []string
			var oldDeliveries, keptDeliveries []hookline.Delivery
			var ps []store.EventInsertParams
			// An event's or attempt's age is that of its id, made at the time it
			// was (hookline.IDAt).
			aged := func(ev *hookline.Event) *hookline.Event {
				ev.ID, ev.CreatedAt = hookline.NewIDAt(hookline.PrefixEvent, old), old
				return ev
			}
			for range 5 {
				ev := aged(e.newEvent("acme", "order.created"))
				ps = append(ps, e.insertParams(ev, e.now, w))
			}
			lonely := aged(e.newEvent("acme", "order.created"))
			ps = append(ps, store.EventInsertParams{Event: lonely})
			pendingOld := aged(e.newEvent("acme", "order.created"))
			ps = append(ps, e.insertParams(pendingOld, e.now.Add(time.Hour), w))
			for range 2 {
				ps = append(ps, e.insertParams(e.newEvent("acme", "order.created"), e.now, w))
			}
			res, err := e.s.EventInsert(e.ctx, ps)
			if err != nil {
				t.Fatalf("EventInsert: %v", err)
			}
			if cs := e.claim(e.now, "A", 100); len(cs) != 7 {
				t.Fatalf("claim: got %d, want 7", len(cs))
			}
			statuses := []string{hookline.DeliverySucceeded, hookline.DeliveryFailed, hookline.DeliveryCancelled}
			for i, r := range res {
				switch {
				case i < 5:
					oldEvents = append(oldEvents, r.Event.ID)
					oldDeliveries = append(oldDeliveries, r.Deliveries...)
				case i == 5:
					oldEvents = append(oldEvents, r.Event.ID)
					continue
				default:
					keptDeliveries = append(keptDeliveries, r.Deliveries...)
				}
				if i == 6 {
					continue // still pending
				}
				d := r.Deliveries[0]
				at := e.now
				if i < 5 {
					at = old
				}
				a := attempt(d, 1, 200, at)
				if i < 5 {
					a.ID = hookline.NewIDAt(hookline.PrefixAttempt, at)
					oldAttempts = append(oldAttempts, a.ID)
				} else {
					keptAttempts = append(keptAttempts, a.ID)
				}
				e.complete(store.DeliveryCompleteParams{
					DeliveryLease: store.DeliveryLease{ID: d.ID, LeaseToken: "A"}, WebhookID: w.ID,
					Attempt: a, Status: statuses[i%len(statuses)], Now: at,
				})
			}
			test := &hookline.Attempt{
				ID: hookline.NewIDAt(hookline.PrefixAttempt, old), WebhookID: w.ID, EventID: hookline.NewID(hookline.PrefixEvent),
				EventType: hookline.EventWebhookTest, Tenant: "acme", Number: 1, StartedAt: old,
			}
			if err := e.s.AttemptInsert(e.ctx, test); err != nil {
				t.Fatalf("AttemptInsert: %v", err)
			}
			oldAttempts = append(oldAttempts, test.ID)

			// Pass by pass, at most Limit rows of each kind go.
			const limit = 2
			var total int64
			for pass := 1; ; pass++ {
				if pass > 10 {
					t.Fatal("Purge keeps reporting deletions")
				}
				eventsLeft, attemptsLeft := countEvents(t, e, oldEvents), countAttempts(t, e, w.ID, oldAttempts)
				n, err := e.s.Purge(e.ctx, store.PurgeParams{Before: before, Limit: limit})
				if err != nil {
					t.Fatalf("Purge pass %d: %v", pass, err)
				}
				if n == 0 {
					break
				}
				total += n
				gotEvents, gotAttempts := eventsLeft-countEvents(t, e, oldEvents), attemptsLeft-countAttempts(t, e, w.ID, oldAttempts)
				if gotEvents > limit || gotAttempts > limit || int64(gotEvents+gotAttempts) != n {
					t.Errorf("Purge pass %d with limit %d: deleted %d events and %d attempts, reported %d",
						pass, limit, gotEvents, gotAttempts, n)
				}
			}
			if want := int64(len(oldEvents) + len(oldAttempts)); total != want {
				t.Errorf("Purge: got %d rows in total, want %d", total, want)
			}

			for _, id := range oldEvents {
				_, err := e.s.EventGet(e.ctx, id)
				wantNotFound(t, "EventGet of a purged event", err)
			}
			for _, d := range oldDeliveries {
				_, err := e.s.DeliveryGet(e.ctx, d.ID)
				wantNotFound(t, "DeliveryGet of a purged event's delivery", err)
			}
			if n := countAttempts(t, e, w.ID, oldAttempts); n != 0 {
				t.Errorf("old attempts after Purge: got %d, want 0", n)
			}
			if n := countAttempts(t, e, w.ID, keptAttempts); n != len(keptAttempts) {
				t.Errorf("recent attempts after Purge: got %d, want %d", n, len(keptAttempts))
			}
			if _, err := e.s.EventGet(e.ctx, pendingOld.ID); err != nil {
				t.Errorf("EventGet of an old event with a pending delivery: got %v, want it kept", err)
			}
			for _, d := range keptDeliveries {
				e.delivery(d.ID)
				if _, err := e.s.EventGet(e.ctx, d.EventID); err != nil {
					t.Errorf("EventGet of a kept event: %v", err)
				}
			}
		},
	})
}

// countEvents counts how many of ids still exist.
func countEvents(t *testing.T, e *env, ids []string) int {
	t.Helper()
	n := 0
	for _, id := range ids {
		if _, err := e.s.EventGet(e.ctx, id); err == nil {
			n++
		} else if !isNotFound(err) {
			t.Fatalf("EventGet: %v", err)
		}
	}
	return n
}

// countAttempts counts how many of ids are still among the webhook's attempts.
func countAttempts(t *testing.T, e *env, webhookID string, ids []string) int {
	t.Helper()
	as, err := e.s.AttemptList(e.ctx, store.AttemptListParams{ListParams: store.ListParams{Limit: 1000}, WebhookID: webhookID})
	if err != nil {
		t.Fatalf("AttemptList: %v", err)
	}
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	n := 0
	for _, a := range as {
		if want[a.ID] {
			n++
		}
	}
	return n
}
