package storetest

import (
	"bytes"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

func exerciseClaims(t *testing.T, open func(t *testing.T) store.Store) {
	subtests(t, map[string]func(t *testing.T){
		"OrderedRetryWaitsForTheLease": func(t *testing.T) {
			// A manual retry makes an older delivery of an ordered webhook pending
			// again while a newer one is being sent: it is the oldest pending, but
			// not due until the newer one's lease ends.
			e := newEnv(t, open)
			w := e.webhook("acme", func(w *hookline.Webhook) { w.Ordered = true })
			d1 := e.publish(e.now, w)[0]
			d2 := e.publish(e.now, w)[0]
			claim := func(token string) []string {
				t.Helper()
				return claimedIDs(e.claim(e.now, token, 10))
			}
			complete := func(id, token, status string) {
				t.Helper()
				if res := e.complete(store.DeliveryCompleteParams{DeliveryLease: store.DeliveryLease{ID: id, LeaseToken: token},
					WebhookID: w.ID, Error: "test", Status: status, Now: e.now}); !res.Applied {
					t.Fatalf("DeliveryComplete %s: not applied", id)
				}
			}
			if got := claim("A"); !reflect.DeepEqual(got, []string{d1.ID}) {
				t.Fatalf("first claim: got %v, want [%s]", got, d1.ID)
			}
			complete(d1.ID, "A", hookline.DeliveryFailed)
			if got := claim("B"); !reflect.DeepEqual(got, []string{d2.ID}) {
				t.Fatalf("claim after the first failed: got %v, want [%s]", got, d2.ID)
			}
			if _, err := e.s.DeliveryRetry(e.ctx, store.DeliveryRetryParams{ID: d1.ID, Now: e.now}); err != nil {
				t.Fatal(err)
			}
			if got := claim("C"); len(got) != 0 {
				t.Fatalf("claim while the newer delivery is leased: got %v, want none", got)
			}
			complete(d2.ID, "B", hookline.DeliverySucceeded)
			if got := claim("D"); !reflect.DeepEqual(got, []string{d1.ID}) {
				t.Errorf("claim once the newer delivery ended: got %v, want the retried [%s]", got, d1.ID)
			}
		},
		"Renew": func(t *testing.T) {
			e := newEnv(t, open)
			r := e.s
			renew := func(id, token string, until time.Time) bool {
				t.Helper()
				ok, err := r.DeliveryRenew(e.ctx, []store.DeliveryRenewal{{DeliveryLease: store.DeliveryLease{ID: id, LeaseToken: token}, Until: until}})
				if err != nil || len(ok) != 1 {
					t.Fatalf("renew: got %v, %v; want one answer", ok, err)
				}
				return ok[0]
			}
			w := e.webhook("acme")
			ds := e.publish(e.now, w, w)
			d := ds[0]
			e.claim(e.now, "A", 10) // both leased for an hour
			later := e.now.Add(2 * time.Hour)
			if renew(d.ID, "B", later) {
				t.Errorf("renew with another token: got true, want false")
			}
			// The holder may renew, until another claim takes the delivery; one call
			// renews several, each answered in order.
			oks, err := r.DeliveryRenew(e.ctx, []store.DeliveryRenewal{
				{DeliveryLease: store.DeliveryLease{ID: d.ID, LeaseToken: "A"}, Until: later},
				{DeliveryLease: store.DeliveryLease{ID: "dlv_missing", LeaseToken: "A"}, Until: later},
				{DeliveryLease: store.DeliveryLease{ID: ds[1].ID, LeaseToken: "A"}, Until: later},
			})
			if err != nil || !reflect.DeepEqual(oks, []bool{true, false, true}) {
				t.Fatalf("renew by the holder: got %v, %v; want [true false true]", oks, err)
			}
			if cs := e.claim(e.now.Add(90*time.Minute), "C", 10); len(cs) != 0 {
				t.Errorf("claim inside the renewed lease: got %v, want none", claimedIDs(cs))
			}
			if cs := e.claim(later, "D", 10); len(cs) != 2 {
				t.Fatalf("claim after the renewed lease: got %d, want 2", len(cs))
			}
			if renew(d.ID, "A", later.Add(time.Hour)) {
				t.Error("renew by a holder whose delivery another claim took: got true")
			}
		},
		"DeferAndRecall": func(t *testing.T) {
			e := newEnv(t, open)
			w, x := e.webhook("acme"), e.webhook("acme")
			ds := e.publish(e.now, w, w, w, x)
			e.claim(e.now, "A", 10)
			deferral := func(i int, token string, until time.Time) store.DeliveryRenewal {
				return store.DeliveryRenewal{DeliveryLease: store.DeliveryLease{ID: ds[i].ID, LeaseToken: token}, Until: until, Defer: true}
			}
			oks, err := e.s.DeliveryRenew(e.ctx, []store.DeliveryRenewal{
				deferral(0, "A", e.now.Add(time.Hour)), deferral(1, "A", e.now.Add(30*time.Minute)),
				deferral(2, "B", e.now.Add(time.Minute)), // not the holder
				deferral(3, "A", e.now.Add(time.Hour)),
			})
			if err != nil || !reflect.DeepEqual(oks, []bool{true, true, false, true}) {
				t.Fatalf("defer: got %v, %v; want [true true false true]", oks, err)
			}
			if d := e.delivery(ds[0].ID); d.Status != hookline.DeliveryPending || d.Attempts != 0 || !d.NextAttemptAt.Equal(e.now.Add(time.Hour)) {
				t.Errorf("a deferred delivery: got %s, %d attempts, due %s; want pending, 0, in an hour", d.Status, d.Attempts, fmtTime(d.NextAttemptAt))
			}
			// The holder's token no longer holds it: no renewal, no completion.
			if oks, _ := e.s.DeliveryRenew(e.ctx, []store.DeliveryRenewal{{DeliveryLease: store.DeliveryLease{ID: ds[0].ID, LeaseToken: "A"}, Until: e.now}}); oks[0] {
				t.Error("renew by the token that deferred it: got true, want false")
			}
			if n, err := e.s.DeliveryReleaseAll(e.ctx, e.now); err != nil || n != 1 {
				t.Fatalf("release all: got %d, %v; want 1 (the one still leased, not the deferred)", n, err)
			}
			recall := func(wh *hookline.Webhook, limit int) int {
				t.Helper()
				n, err := e.s.DeliveryRecall(e.ctx, store.DeliveryRecallParams{WebhookID: wh.ID, Limit: limit, Now: e.now.Add(time.Second)})
				if err != nil {
					t.Fatalf("recall: %v", err)
				}
				return n
			}
			if got := claimedIDs(e.claim(e.now.Add(time.Second), "C", 10)); !reflect.DeepEqual(got, []string{ds[2].ID}) {
				t.Fatalf("claim before any recall: got %v, want only the released %s", got, ds[2].ID)
			}
			if n := recall(w, 1); n != 1 {
				t.Fatalf("recall 1: got %d", n)
			}
			if got := claimedIDs(e.claim(e.now.Add(time.Second), "D", 10)); !reflect.DeepEqual(got, []string{ds[1].ID}) {
				t.Errorf("claim after recalling one: got %v, want the earliest deferred %s", got, ds[1].ID)
			}
			if n := recall(w, 5); n != 1 {
				t.Errorf("recall 5 with one left: got %d, want 1", n)
			}
			if n := recall(w, 5); n != 0 {
				t.Errorf("recall with none left: got %d, want 0", n)
			}
			if d := e.delivery(ds[3].ID); !d.NextAttemptAt.Equal(e.now.Add(time.Hour)) {
				t.Errorf("another webhook's deferred delivery after recalls: due %s, want still in an hour", fmtTime(d.NextAttemptAt))
			}
			if got := claimedIDs(e.claim(e.now.Add(2*time.Hour), "E", 10)); !slices.Contains(got, ds[3].ID) {
				t.Errorf("claim once the other webhook's deferral is due: got %v, want %s among them", got, ds[3].ID)
			}
		},
		"OnlyDue": func(t *testing.T) {
			e := newEnv(t, open)
			w := e.webhook("acme")
			ev := e.newEvent("acme", "order.created")
			ev.Data = []byte(oddJSON)
			past := e.insert(e.insertParams(ev, e.now.Add(-time.Second), w)).Deliveries[0]
			now := e.publish(e.now, w)[0]
			later := e.publish(e.now.Add(time.Minute), w)[0]

			cs := e.claim(e.now, "A", 10)
			if got, want := claimedIDs(cs), sortedIDs(past.ID, now.ID); !reflect.DeepEqual(got, want) {
				t.Fatalf("claim at now: got %v, want %v (the delivery due in a minute is not due)", got, want)
			}
			for _, c := range cs {
				if c.Delivery.Status != hookline.DeliveryPending || c.Delivery.WebhookID != w.ID {
					t.Errorf("claimed %s: got status %q webhook %s, want pending %s", c.Delivery.ID, c.Delivery.Status, c.Delivery.WebhookID, w.ID)
				}
				if c.Event.ID != c.Delivery.EventID {
					t.Errorf("claimed %s: got event %s, want its event %s", c.Delivery.ID, c.Event.ID, c.Delivery.EventID)
				}
				if c.Delivery.ID == past.ID {
					checkEvent(t, &c.Event, ev)
				}
			}
			cs = e.claim(e.now.Add(time.Minute), "B", 10)
			if got, want := claimedIDs(cs), []string{later.ID}; !reflect.DeepEqual(got, want) {
				t.Errorf("claim a minute later: got %v, want %v", got, want)
			}
		},
		"Lease": func(t *testing.T) {
			e := newEnv(t, open)
			w := e.webhook("acme")
			d := e.publish(e.now, w)[0]
			lease := store.DeliveryClaimParams{Now: e.now, LeaseUntil: e.now.Add(30 * time.Second), LeaseToken: "A", Limit: 10}
			cs, err := e.s.DeliveryClaim(e.ctx, lease)
			if err != nil || len(cs) != 1 {
				t.Fatalf("first claim: got %d, %v; want 1, nil", len(cs), err)
			}
			for _, at := range []time.Duration{0, 10 * time.Second, 29 * time.Second} {
				if cs := e.claim(e.now.Add(at), "B", 10); len(cs) != 0 {
					t.Errorf("claim %v into a 30s lease: got %v, want none", at, claimedIDs(cs))
				}
			}
			cs = e.claim(e.now.Add(31*time.Second), "B", 10)
			if got, want := claimedIDs(cs), []string{d.ID}; !reflect.DeepEqual(got, want) {
				t.Fatalf("claim after the lease ended: got %v, want %v", got, want)
			}
			if cs := e.claim(e.now.Add(45*time.Second), "C", 10); len(cs) != 0 {
				t.Errorf("claim during the second lease: got %v, want none", claimedIDs(cs))
			}
		},
		"Limit": func(t *testing.T) {
			e := newEnv(t, open)
			w := e.webhook("acme")
			want := map[string]bool{}
			for range 5 {
				want[e.publish(e.now, w)[0].ID] = true
			}
			seen := map[string]bool{}
			for i, n := range []int{2, 2, 1, 0} {
				cs := e.claim(e.now, fmt.Sprint("tok", i), 2)
				if len(cs) != n {
					t.Fatalf("claim %d with limit 2: got %d deliveries, want %d", i+1, len(cs), n)
				}
				for _, c := range cs {
					if seen[c.Delivery.ID] || !want[c.Delivery.ID] {
						t.Errorf("claim %d: got %s, claimed before or unknown", i+1, c.Delivery.ID)
					}
					seen[c.Delivery.ID] = true
				}
			}
		},
		"Concurrent": func(t *testing.T) {
			e := newEnv(t, open)
			w := e.webhook("acme")
			const total, claimers = 40, 4
			var ps []store.EventInsertParams
			for range total {
				ps = append(ps, e.insertParams(e.newEvent("acme", "order.created"), e.now, w))
			}
			if _, err := e.s.EventInsert(e.ctx, ps); err != nil {
				t.Fatalf("EventInsert: %v", err)
			}
			got := make([][]string, claimers)
			errs := make([]error, claimers)
			var wg sync.WaitGroup
			for i := range claimers {
				wg.Go(func() {
					for range total {
						cs, err := e.s.DeliveryClaim(e.ctx, e.claimParams(e.now, fmt.Sprint("claimer", i), 3))
						if err != nil {
							errs[i] = err
							return
						}
						if len(cs) == 0 {
							return
						}
						got[i] = append(got[i], claimedIDs(cs)...)
					}
				})
			}
			wg.Wait()
			owner := map[string]int{}
			for i := range claimers {
				if errs[i] != nil {
					t.Errorf("claimer %d: %v", i, errs[i])
				}
				for _, id := range got[i] {
					if prev, dup := owner[id]; dup {
						t.Errorf("delivery %s handed to claimers %d and %d", id, prev, i)
					}
					owner[id] = i
				}
			}
			if len(owner) != total {
				t.Errorf("claimed: got %d distinct deliveries, want %d", len(owner), total)
			}
		},
		"Ordered": func(t *testing.T) {
			e := newEnv(t, open)
			wo := e.webhook("acme", func(w *hookline.Webhook) { w.Ordered = true })
			wu := e.webhook("acme")
			var ord, unord []string
			for range 3 {
				ds := e.publish(e.now, wo, wu)
				ord, unord = append(ord, ds[0].ID), append(unord, ds[1].ID)
			}
			cs := e.claim(e.now, "A", 10)
			if got, want := claimedIDs(cs), sortedIDs(ord[0], unord[0], unord[1], unord[2]); !reflect.DeepEqual(got, want) {
				t.Fatalf("claim: got %v, want %v (only the oldest of the ordered webhook)", got, want)
			}
			if cs := e.claim(e.now, "B", 10); len(cs) != 0 {
				t.Fatalf("claim while the oldest ordered delivery is leased: got %v, want none", claimedIDs(cs))
			}
			first := e.delivery(ord[0])
			retryAt := e.now.Add(time.Minute)
			e.complete(store.DeliveryCompleteParams{
				DeliveryLease: store.DeliveryLease{ID: ord[0], LeaseToken: "A"}, WebhookID: wo.ID,
				Attempt: attempt(*first, 1, 503, e.now), Status: hookline.DeliveryPending, NextAttemptAt: retryAt, Now: e.now,
			})
			if cs := e.claim(e.now.Add(30*time.Second), "B", 10); len(cs) != 0 {
				t.Errorf("claim while the oldest ordered delivery waits to retry: got %v, want none", claimedIDs(cs))
			}
			cs = e.claim(retryAt, "C", 10)
			if got, want := claimedIDs(cs), []string{ord[0]}; !reflect.DeepEqual(got, want) {
				t.Fatalf("claim when the retry is due: got %v, want %v", got, want)
			}
			e.complete(store.DeliveryCompleteParams{
				DeliveryLease: store.DeliveryLease{ID: ord[0], LeaseToken: "C"}, WebhookID: wo.ID,
				Attempt: attempt(*first, 2, 200, retryAt), Status: hookline.DeliverySucceeded, Now: retryAt,
			})
			cs = e.claim(retryAt, "D", 10)
			if got, want := claimedIDs(cs), []string{ord[1]}; !reflect.DeepEqual(got, want) {
				t.Fatalf("claim after the oldest succeeded: got %v, want %v", got, want)
			}
			e.complete(store.DeliveryCompleteParams{
				DeliveryLease: store.DeliveryLease{ID: ord[1], LeaseToken: "D"}, WebhookID: wo.ID,
				Attempt: attempt(*e.delivery(ord[1]), 1, 400, retryAt), Status: hookline.DeliveryFailed, Now: retryAt,
			})
			cs = e.claim(retryAt, "E", 10)
			if got, want := claimedIDs(cs), []string{ord[2]}; !reflect.DeepEqual(got, want) {
				t.Errorf("claim after the oldest failed: got %v, want %v", got, want)
			}
		},
		"InsertedLeased": func(t *testing.T) {
			e := newEnv(t, open)
			w := e.webhook("acme")
			leaseEnd := e.now.Add(30 * time.Second)
			p := e.insertParams(e.newEvent("acme", "order.created"), leaseEnd, w, w)
			p.Deliveries[0].LeaseToken = "fast"
			p.Deliveries[1].LeaseToken = "fast"
			e.insert(p)
			if cs := e.claim(e.now, "B", 10); len(cs) != 0 {
				t.Fatalf("claim of deliveries inserted leased: got %v, want none", claimedIDs(cs))
			}
			first := e.delivery(p.Deliveries[0].ID)
			res := e.complete(store.DeliveryCompleteParams{
				DeliveryLease: store.DeliveryLease{ID: first.ID, LeaseToken: "fast"}, WebhookID: w.ID,
				Attempt: attempt(*first, 1, 200, e.now), Status: hookline.DeliverySucceeded, Now: e.now,
			})
			if !res.Applied {
				t.Errorf("completing with the insert's lease token: Applied got false, want true")
			}
			cs := e.claim(leaseEnd.Add(time.Second), "B", 10)
			if got, want := claimedIDs(cs), []string{p.Deliveries[1].ID}; !reflect.DeepEqual(got, want) {
				t.Errorf("claim after the insert's lease ended: got %v, want %v", got, want)
			}
		},
		"ReturnsEvent": func(t *testing.T) {
			e := newEnv(t, open)
			w := e.webhook("acme")
			evs := map[string]*hookline.Event{}
			var ps []store.EventInsertParams
			for i := range 3 {
				ev := e.newEvent("acme", fmt.Sprintf("order.e%d", i))
				ev.Data = []byte(fmt.Sprintf(`{"i":%d, "s":"\u00e9"}`, i))
				ps = append(ps, e.insertParams(ev, e.now, w))
				evs[ps[i].Deliveries[0].ID] = ev
			}
			if _, err := e.s.EventInsert(e.ctx, ps); err != nil {
				t.Fatalf("EventInsert: %v", err)
			}
			for _, c := range e.claim(e.now, "A", 10) {
				want := evs[c.Delivery.ID]
				if want == nil {
					t.Fatalf("claimed unknown delivery %s", c.Delivery.ID)
				}
				if c.Event.ID != want.ID || c.Event.Type != want.Type || !bytes.Equal(c.Event.Data, want.Data) {
					t.Errorf("claimed %s: got event %s %s %q, want %s %s %q", c.Delivery.ID,
						c.Event.ID, c.Event.Type, c.Event.Data, want.ID, want.Type, want.Data)
				}
				if c.Delivery.EventType != want.Type {
					t.Errorf("claimed %s: EventType got %q, want %q", c.Delivery.ID, c.Delivery.EventType, want.Type)
				}
				delete(evs, c.Delivery.ID)
			}
			if len(evs) != 0 {
				t.Errorf("deliveries not claimed: %d", len(evs))
			}
		},
	})
}
