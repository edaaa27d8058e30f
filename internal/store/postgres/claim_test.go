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
