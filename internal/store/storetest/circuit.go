package storetest

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

// exerciseCircuit covers what holds a failing webhook's backlog: the bulk
// hold of its deliveries and the circuit state on the webhook that paces
// its probes.
func exerciseCircuit(t *testing.T, open func(t *testing.T) store.Store) {
	subtests(t, map[string]func(t *testing.T){
		"Hold": func(t *testing.T) {
			e := newEnv(t, open)
			w, x := e.webhook("acme"), e.webhook("acme")
			ord := e.webhook("acme", func(w *hookline.Webhook) { w.Ordered = true })
			// One delivery attempted already, waiting for its retry: it keeps its
			// schedule.
			retried := e.publish(e.now, w)[0]
			retryLease := e.claim(e.now, "R", 1)
			if len(retryLease) != 1 || retryLease[0].Delivery.ID != retried.ID {
				t.Fatalf("claim the delivery to retry: got %v", claimedIDs(retryLease))
			}
			e.complete(store.DeliveryCompleteParams{
				DeliveryLease: store.DeliveryLease{ID: retried.ID, LeaseToken: "R"}, WebhookID: w.ID, Now: e.now,
				Status: hookline.DeliveryPending, NextAttemptAt: e.now.Add(time.Minute),
				Attempt: &hookline.Attempt{ID: hookline.NewID(hookline.PrefixAttempt), DeliveryID: retried.ID, WebhookID: w.ID,
					EventID: retried.EventID, EventType: "order.created", Tenant: "acme", Number: 1, StartedAt: e.now, StatusCode: 503, Error: "HTTP 503"},
			})
			var ds []hookline.Delivery
			for range 6 {
				ds = append(ds, e.publish(e.now, w)[0])
			}
			later := e.now.Add(time.Second) // out of reach of the claims below
			other := e.publish(later, x)[0]
			ordered := e.publish(later, ord)[0]
			// One is leased (an attempt in flight), one deferred a minute, one
			// under a lease that ran out (its process died): only the live
			// lease is left alone.
			leased := e.claim(e.now, "A", 1)[0].Delivery.ID
			expired, err := e.s.DeliveryClaim(e.ctx, store.DeliveryClaimParams{Now: e.now, LeaseUntil: e.now.Add(-time.Second), LeaseToken: "dead", Limit: 1})
			if err != nil || len(expired) != 1 {
				t.Fatalf("claim under a lease already over: %v, %v", expired, err)
			}
			deferred := e.claim(e.now, "B", 1)[0].Delivery.ID
			if _, err := e.s.DeliveryRenew(e.ctx, []store.DeliveryRenewal{{DeliveryLease: store.DeliveryLease{ID: deferred, LeaseToken: "B"}, Until: e.now.Add(time.Minute), Defer: true}}); err != nil {
				t.Fatal(err)
			}
			hold := func(after string, limit int) (int, string) {
				t.Helper()
				n, last, err := e.s.DeliveryHold(e.ctx, store.DeliveryHoldParams{WebhookID: w.ID, After: after, Span: time.Hour, Limit: limit, Now: e.now})
				if err != nil {
					t.Fatalf("hold: %v", err)
				}
				return n, last
			}
			var want []string
			for _, d := range ds {
				if d.ID != leased {
					want = append(want, d.ID)
				}
			}
			if len(want) != 5 {
				t.Fatalf("the claims took deliveries of other webhooks: leased %s", leased)
			}
			n, last := hold("", 3)
			if n != 3 || last != want[2] {
				t.Fatalf("first chunk of 3: got %d up to %s, want 3 up to %s", n, last, want[2])
			}
			if n, last = hold(last, 3); n != 2 || last != want[4] {
				t.Fatalf("second chunk: got %d up to %s, want the last 2 up to %s", n, last, want[4])
			}
			if n, last = hold("", 10); n != 0 || last != "" {
				t.Errorf("holding again: got %d (%q), want 0: they are held already", n, last)
			}
			for _, id := range want {
				d := e.delivery(id)
				if d.Status != hookline.DeliveryPending || d.Attempts != 0 || !d.NextAttemptAt.Equal(d.CreatedAt.Add(time.Hour)) {
					t.Errorf("held %s: %s, %d attempts, due %s; want pending, 0, due when it expires", id, d.Status, d.Attempts, fmtTime(d.NextAttemptAt))
				}
			}
			if d := e.delivery(retried.ID); !d.NextAttemptAt.Equal(e.now.Add(time.Minute)) {
				t.Errorf("the delivery attempted once: due %s, want its retry time untouched", fmtTime(d.NextAttemptAt))
			}
			if d := e.delivery(leased); !d.NextAttemptAt.Equal(e.now.Add(time.Hour)) {
				t.Errorf("the leased delivery: due %s, want its lease end untouched", fmtTime(d.NextAttemptAt))
			}
			for _, id := range []string{other.ID, ordered.ID} {
				if d := e.delivery(id); !d.NextAttemptAt.Equal(later) {
					t.Errorf("%s of another webhook or an ordered one: due %s, want untouched", id, fmtTime(d.NextAttemptAt))
				}
			}
			// Held deliveries are no claim's: nothing of w is due now.
			got := claimedIDs(e.claim(e.now.Add(time.Minute), "C", 10))
			if slices.ContainsFunc(got, func(id string) bool { return slices.Contains(want, id) }) {
				t.Errorf("claim after the hold: got %v, want none of the held %v", got, want)
			}
			// The holder (the old lease) cannot complete one any more, and a
			// recall brings them back, the earliest to expire first.
			if r := e.complete(store.DeliveryCompleteParams{DeliveryLease: store.DeliveryLease{ID: expired[0].Delivery.ID, LeaseToken: "dead"}, WebhookID: w.ID, Status: hookline.DeliverySucceeded, Now: e.now}); r.Applied {
				t.Error("completion by the lease the hold took over: applied")
			}
			if n, err := e.s.DeliveryRecall(e.ctx, store.DeliveryRecallParams{WebhookID: w.ID, Limit: 10, Now: e.now.Add(2 * time.Minute)}); err != nil || n != 5 {
				t.Errorf("recall: got %d, %v; want the 5 held", n, err)
			}
		},
		"RecallEach": func(t *testing.T) {
			e := newEnv(t, open)
			w, x, held := e.webhook("acme"), e.webhook("acme"), e.webhook("acme")
			for range 3 {
				e.publish(e.now, w, x, held)
			}
			cs := e.claim(e.now, "A", 10)
			var rs []store.DeliveryRenewal
			for i, c := range cs {
				rs = append(rs, store.DeliveryRenewal{DeliveryLease: store.DeliveryLease{ID: c.Delivery.ID, LeaseToken: "A"},
					Until: e.now.Add(time.Duration(i+1) * time.Minute), Defer: true})
			}
			if _, err := e.s.DeliveryRenew(e.ctx, rs); err != nil {
				t.Fatal(err)
			}
			if err := e.s.WebhookCircuitOpen(e.ctx, held.ID, e.now, e.now.Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
			n, err := e.s.DeliveryRecallEach(e.ctx, e.now.Add(time.Second), 2)
			if err != nil || n != 4 {
				t.Fatalf("recall each: got %d, %v; want 2 of each webhook whose circuit is closed", n, err)
			}
			got := map[string]int{}
			for _, c := range e.claim(e.now.Add(time.Second), "B", 10) {
				got[c.Delivery.WebhookID]++
			}
			if got[w.ID] != 2 || got[x.ID] != 2 || got[held.ID] != 0 {
				t.Errorf("claimed after recalling: %v; want 2 of %s, 2 of %s, none of the held %s", got, w.ID, x.ID, held.ID)
			}
		},
		"Probes": func(t *testing.T) {
			e := newEnv(t, open)
			w, off := e.webhook("acme"), e.webhook("acme")
			t0 := e.now
			at := func(d time.Duration) time.Time { return t0.Add(d) }
			due := func(now time.Time) []string {
				t.Helper()
				ids, err := e.s.WebhookProbesDue(e.ctx, store.WebhookProbesParams{Now: now, MinWait: 5 * time.Second, MaxWait: time.Minute})
				if err != nil {
					t.Fatalf("probes due: %v", err)
				}
				return ids
			}
			if got := due(at(time.Hour)); len(got) != 0 {
				t.Fatalf("no circuit open: got %v", got)
			}
			for _, id := range []string{w.ID, off.ID} {
				if err := e.s.WebhookCircuitOpen(e.ctx, id, t0, at(5*time.Second)); err != nil {
					t.Fatal(err)
				}
			}
			off.Active = false
			if err := e.s.WebhookUpdate(e.ctx, off); err != nil {
				t.Fatal(err)
			}
			if got := due(at(4 * time.Second)); len(got) != 0 {
				t.Errorf("before the first probe: got %v", got)
			}
			if got := due(at(5 * time.Second)); !reflect.DeepEqual(got, []string{w.ID}) {
				t.Errorf("at the first probe: got %v, want only the active %s", got, w.ID)
			}
			// Open 5 s: the next probe is 5 s on. Asked again meanwhile, none.
			if got := due(at(9 * time.Second)); len(got) != 0 {
				t.Errorf("a second ask before the next probe: got %v", got)
			}
			if got := due(at(10 * time.Second)); len(got) != 1 {
				t.Errorf("at the second probe: got %v", got)
			}
			// Open 10 s: the next is 10 s on, then the wait grows to a minute.
			if got := due(at(19 * time.Second)); len(got) != 0 {
				t.Errorf("9 s after a probe 10 s into the outage: got %v", got)
			}
			if got := due(at(20 * time.Second)); len(got) != 1 {
				t.Errorf("10 s after: got %v", got)
			}
			// Opening again keeps the outage's start: the wait stays long.
			if err := e.s.WebhookCircuitOpen(e.ctx, w.ID, at(5*time.Minute), at(5*time.Minute)); err != nil {
				t.Fatal(err)
			}
			if got := due(at(5 * time.Minute)); len(got) != 1 {
				t.Errorf("at the probe set by opening again: got %v", got)
			}
			if got := due(at(5*time.Minute + 59*time.Second)); len(got) != 0 {
				t.Errorf("59 s after a probe 5 min into the outage: got %v, want none (a minute's wait)", got)
			}
			if err := e.s.WebhookCircuitClose(e.ctx, w.ID); err != nil {
				t.Fatal(err)
			}
			if got := due(at(time.Hour)); len(got) != 0 {
				t.Errorf("after closing: got %v", got)
			}
			if err := e.s.WebhookCircuitOpen(e.ctx, hookline.NewID(hookline.PrefixWebhook), t0, t0); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("open the circuit of no webhook: got %v, want ErrNotFound", err)
			}
		},
	})
}
