package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/store/postgres"
	"github.com/hookline/hookline/internal/store/postgres/pgtest"
)

// TestClaimAcrossNodes runs workers on three stores, each with its own pool, as
// three Hookline nodes would: every delivery is handed out exactly once, an
// ordered webhook never has two deliveries leased at once, and its deliveries
// end in order.
func TestClaimAcrossNodes(t *testing.T) {
	t.Parallel()
	url := pgtest.MigratedURL(t)
	box := newBox(t)
	nodes := make([]*postgres.Store, 3)
	for i := range nodes {
		nodes[i] = pgtest.OpenURL(t, url, box)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	now := time.Now().UTC().Truncate(time.Millisecond)

	const unorderedHooks, orderedHooks, events = 3, 3, 12
	var hooks []*hookline.Webhook
	for i := range unorderedHooks + orderedHooks {
		w := newWebhook("acme", "whsec_c")
		w.Ordered = i >= unorderedHooks
		if err := nodes[0].WebhookCreate(ctx, store.WebhookCreateParams{Webhook: w}); err != nil {
			t.Fatal(err)
		}
		hooks = append(hooks, w)
	}
	wantOrder := map[string][]string{} // ordered webhook → its deliveries, oldest first
	total := 0
	for range events {
		ev := &hookline.Event{ID: hookline.NewID(hookline.PrefixEvent), Tenant: "acme", Type: "order.created",
			Data: []byte(`{}`), Timestamp: now, CreatedAt: now}
		p := store.EventInsertParams{Event: ev}
		for _, w := range hooks {
			d := store.DeliveryInsert{ID: hookline.NewID(hookline.PrefixDelivery), WebhookID: w.ID, Ordered: w.Ordered, NextAttemptAt: now}
			p.Deliveries = append(p.Deliveries, d)
			if w.Ordered {
				wantOrder[w.ID] = append(wantOrder[w.ID], d.ID)
			}
			total++
		}
		if _, err := nodes[0].EventInsert(ctx, []store.EventInsertParams{p}); err != nil {
			t.Fatal(err)
		}
	}

	var (
		mu       sync.Mutex
		owner    = map[string]string{}   // delivery → worker that got it
		inFlight = map[string]string{}   // ordered webhook → its delivery being sent
		ended    = map[string][]string{} // ordered webhook → deliveries in the order they ended
		done     int
	)
	fail := func(format string, args ...any) {
		t.Errorf(format, args...)
		cancel()
	}
	worker := func(node *postgres.Store, name string) {
		for n := 0; ctx.Err() == nil; n++ {
			mu.Lock()
			finished := done == total
			mu.Unlock()
			if finished {
				return
			}
			token := fmt.Sprintf("%s.%d", name, n)
			at := time.Now()
			cs, err := node.DeliveryClaim(ctx, store.DeliveryClaimParams{Now: at, LeaseUntil: at.Add(time.Minute),
				LeaseToken: token, Limit: 1 + rand.IntN(4)})
			if err != nil {
				if ctx.Err() == nil {
					fail("%s: DeliveryClaim: %v", name, err)
				}
				return
			}
			mu.Lock()
			for _, c := range cs {
				d := c.Delivery
				if prev, dup := owner[d.ID]; dup {
					fail("delivery %s handed to %s and to %s", d.ID, prev, name)
				}
				owner[d.ID] = name
				if _, ordered := wantOrder[d.WebhookID]; ordered {
					if other, busy := inFlight[d.WebhookID]; busy {
						fail("ordered webhook %s: %s claimed while %s is leased", d.WebhookID, d.ID, other)
					}
					inFlight[d.WebhookID] = d.ID
				}
			}
			mu.Unlock()
			if len(cs) == 0 {
				time.Sleep(time.Millisecond)
				continue
			}
			time.Sleep(time.Duration(rand.IntN(2000)) * time.Microsecond) // "sending"
			var ps []store.DeliveryCompleteParams
			mu.Lock()
			for _, c := range cs {
				d := c.Delivery
				// Out of flight before the commit that ends the lease, so the next
				// claim cannot be seen before this one is cleared.
				if inFlight[d.WebhookID] == d.ID {
					delete(inFlight, d.WebhookID)
					ended[d.WebhookID] = append(ended[d.WebhookID], d.ID)
				}
				ps = append(ps, store.DeliveryCompleteParams{
					DeliveryLease: store.DeliveryLease{ID: d.ID, LeaseToken: token}, WebhookID: d.WebhookID,
					Attempt: &hookline.Attempt{ID: hookline.NewID(hookline.PrefixAttempt), DeliveryID: d.ID,
						WebhookID: d.WebhookID, EventID: d.EventID, EventType: d.EventType, Tenant: d.Tenant,
						Number: 1, StartedAt: at, StatusCode: 200},
					Status: hookline.DeliverySucceeded, Now: time.Now(),
				})
			}
			mu.Unlock()
			res, err := node.DeliveryComplete(ctx, ps)
			if err != nil {
				if ctx.Err() == nil {
					fail("%s: DeliveryComplete: %v", name, err)
				}
				return
			}
			for i, r := range res {
				if !r.Applied {
					fail("%s: completion of %s not applied", name, ps[i].ID)
				}
			}
			mu.Lock()
			done += len(cs)
			mu.Unlock()
		}
	}

	// A watcher checks the database itself: never two live leases on one
	// ordered webhook in any snapshot.
	watcher := connect(t, url)
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		for ctx.Err() == nil {
			var webhook string
			var n int
			err := watcher.QueryRow(ctx, `SELECT webhook_id, count(*) FROM deliveries
				WHERE ordered AND status = 'pending' AND lease_token IS NOT NULL AND next_attempt_at > now()
				GROUP BY webhook_id HAVING count(*) > 1 LIMIT 1`).Scan(&webhook, &n)
			if err == nil {
				fail("ordered webhook %s has %d deliveries leased at once", webhook, n)
				return
			}
			mu.Lock()
			finished := done == total
			mu.Unlock()
			if finished {
				return
			}
		}
	}()

	var wg sync.WaitGroup
	for i, node := range nodes {
		for k := range 2 {
			wg.Go(func() { worker(node, fmt.Sprintf("node%d.w%d", i, k)) })
		}
	}
	wg.Wait()
	<-watchDone
	if t.Failed() {
		return
	}
	if done != total || len(owner) != total {
		t.Fatalf("deliveries done: got %d (%d distinct), want %d", done, len(owner), total)
	}
	for w, want := range wantOrder {
		if got := ended[w]; !slices.Equal(got, want) {
			t.Errorf("ordered webhook %s: deliveries ended in order %v, want %v", w, got, want)
		}
	}
	workers := map[string]bool{}
	for _, w := range owner {
		workers[w] = true
	}
	t.Logf("%d deliveries over %d workers", total, len(workers))
}

// TestOrderedFollowsStoreOrder: an ordered webhook's deliveries go in the order
// they were stored, whatever their ids say. Ids begin with the clock of the node
// that made them, so an event published through a node whose clock is behind
// (or in the same millisecond) can get the smaller id although it came second.
// Deliveries stored before the sequence existed keep their ids' order.
func TestOrderedFollowsStoreOrder(t *testing.T) {
	t.Parallel()
	url := pgtest.MigratedURL(t)
	s := pgtest.OpenURL(t, url, newBox(t))
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Millisecond)
	w := newWebhook("acme", "whsec_o")
	w.Ordered = true
	if err := s.WebhookCreate(ctx, store.WebhookCreateParams{Webhook: w}); err != nil {
		t.Fatal(err)
	}
	// ids made in the order a, b, c; stored in the order given.
	ids := map[string]string{}
	for _, name := range []string{"a", "b", "c", "d"} {
		ids[name] = hookline.NewID(hookline.PrefixDelivery)
	}
	store1 := func(names ...string) {
		t.Helper()
		for _, name := range names {
			ev := &hookline.Event{ID: hookline.NewID(hookline.PrefixEvent), Tenant: "acme", Type: "t",
				Data: []byte(`{}`), Timestamp: now, CreatedAt: now}
			if _, err := s.EventInsert(ctx, []store.EventInsertParams{{Event: ev, Deliveries: []store.DeliveryInsert{
				{ID: ids[name], WebhookID: w.ID, Ordered: true, NextAttemptAt: now}}}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Drain claims and completes the webhook's deliveries one at a time and
	// returns them in the order they were handed out.
	drain := func() []string {
		t.Helper()
		var got []string
		for i := range 10 {
			cs, err := s.DeliveryClaim(ctx, store.DeliveryClaimParams{Now: now, LeaseUntil: now.Add(time.Minute),
				LeaseToken: fmt.Sprint("t", i), Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			if len(cs) == 0 {
				return got
			}
			if len(cs) > 1 {
				t.Fatalf("claim of an ordered webhook returned %d deliveries", len(cs))
			}
			for name, id := range ids {
				if id == cs[0].Delivery.ID {
					got = append(got, name)
				}
			}
			if _, err := s.DeliveryComplete(ctx, []store.DeliveryCompleteParams{{
				DeliveryLease: store.DeliveryLease{ID: cs[0].Delivery.ID, LeaseToken: cs[0].LeaseToken},
				WebhookID:     w.ID, Status: hookline.DeliverySucceeded, Now: now,
			}}); err != nil {
				t.Fatal(err)
			}
		}
		return got
	}

	store1("b", "a")
	if got, want := drain(), []string{"b", "a"}; !slices.Equal(got, want) {
		t.Errorf("stored b then a (a's id is smaller): delivered %v, want %v", got, want)
	}

	// The upgrade: deliveries stored without the sequence, then migration 4.
	conn := connect(t, url)
	if _, err := conn.Exec(ctx, `ALTER TABLE deliveries DROP COLUMN seq;
		DELETE FROM schema_migrations WHERE version = 4`); err != nil {
		t.Fatal(err)
	}
	store1("d", "c")
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := drain(), []string{"c", "d"}; !slices.Equal(got, want) {
		t.Errorf("stored before the upgrade: delivered %v, want %v (their ids' order)", got, want)
	}
}

// TestDeliveryRenew: a lease is renewed only while its token holds the delivery,
// even once it has run out, and a renewed lease keeps other claims away.
func TestDeliveryRenew(t *testing.T) {
	t.Parallel()
	url := pgtest.MigratedURL(t)
	box := newBox(t)
	a, b := pgtest.OpenURL(t, url, box), pgtest.OpenURL(t, url, box)
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Millisecond)
	w := newWebhook("acme", "whsec_r")
	if err := a.WebhookCreate(ctx, store.WebhookCreateParams{Webhook: w}); err != nil {
		t.Fatal(err)
	}
	var ids []string // in id order
	for range 2 {
		ev := &hookline.Event{ID: hookline.NewID(hookline.PrefixEvent), Tenant: "acme", Type: "t", Data: []byte(`{}`), Timestamp: now, CreatedAt: now}
		d := store.DeliveryInsert{ID: hookline.NewID(hookline.PrefixDelivery), WebhookID: w.ID, NextAttemptAt: now}
		ids = append(ids, d.ID)
		if _, err := a.EventInsert(ctx, []store.EventInsertParams{{Event: ev, Deliveries: []store.DeliveryInsert{d}}}); err != nil {
			t.Fatal(err)
		}
	}
	claim := func(s *postgres.Store, at time.Time, token string) []string {
		t.Helper()
		cs, err := s.DeliveryClaim(ctx, store.DeliveryClaimParams{Now: at, LeaseUntil: at.Add(time.Second), LeaseToken: token, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, c := range cs {
			got = append(got, c.Delivery.ID)
		}
		slices.Sort(got)
		return got
	}
	renew := func(id, token string, until time.Time) bool {
		t.Helper()
		ok, err := a.DeliveryRenew(ctx, []store.DeliveryRenewal{{DeliveryLease: store.DeliveryLease{ID: id, LeaseToken: token}, Until: until}})
		if err != nil {
			t.Fatal(err)
		}
		return ok[0]
	}
	if got := claim(a, now, "a1"); len(got) != 2 {
		t.Fatalf("first claim: got %v, want both deliveries", got)
	}
	// Both leases run out at now+1s. The first is renewed after that, before
	// anyone claimed it; the second is claimed by b first.
	later := now.Add(2 * time.Second)
	if !renew(ids[0], "a1", later.Add(time.Minute)) {
		t.Error("renewing a lease that ran out, with nobody else holding it: got false, want true")
	}
	if got := claim(b, later, "b1"); !slices.Equal(got, ids[1:]) {
		t.Errorf("claim after the renewal: got %v, want only the delivery not renewed %v", got, ids[1:])
	}
	if renew(ids[1], "a1", later.Add(time.Minute)) {
		t.Error("renewing a lease another claim has taken: got true, want false")
	}
	if renew(ids[0], "nobody", later.Add(time.Minute)) {
		t.Error("renewing with a token that never held the delivery: got true, want false")
	}
}
