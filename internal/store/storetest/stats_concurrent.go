package storetest

import (
	"maps"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

// statsConcurrentCompletes: two goroutines complete, each in transactions of
// a few deliveries, the deliveries of one webhook made in one slot of time
// (2^15 ms: drivers that keep counts per slot read a window of whole slots
// from them alone), while a third publishes more into the slot. Once they
// are done, the stats of the slot and the webhook's health are exact.
func statsConcurrentCompletes(t *testing.T, open func(t *testing.T) store.Store) {
	e := newEnv(t, open)
	w := e.webhook("acme")
	const slotMS = 1 << 15
	start := time.UnixMilli(e.now.Add(-time.Hour).UnixMilli() &^ (slotMS - 1)).UTC()
	const n, published = 120, 20
	for i := range n {
		e.publishAt(start.Add(time.Duration(i)*100*time.Millisecond), "order.created", w)
	}
	var (
		halves [2][]store.DeliveryCompleteParams
		ended  = map[string]string{} // delivery → its status once completed
		as     []*hookline.Attempt
	)
	for i, c := range e.claim(e.now, "A", 1000) {
		d := c.Delivery
		p := store.DeliveryCompleteParams{DeliveryLease: store.DeliveryLease{ID: d.ID, LeaseToken: "A"}, WebhookID: d.WebhookID, Now: e.now}
		at := idTime(d.ID).Add(time.Millisecond)
		switch i % 4 {
		case 0:
			p.Status, p.Attempt = hookline.DeliverySucceeded, attempt(d, 1, 200, at)
		case 1:
			p.Status, p.Attempt = hookline.DeliveryFailed, attempt(d, 1, 500, at)
		case 2:
			p.Status, p.Error = hookline.DeliveryCancelled, "webhook disabled"
		default:
			p.Status, p.Attempt, p.NextAttemptAt = hookline.DeliveryPending, attempt(d, 1, 503, at), e.now.Add(time.Hour)
		}
		if a := p.Attempt; a != nil {
			a.ID, a.DurationMS = hookline.NewIDAt(hookline.PrefixAttempt, at), int64(i%50)
			as = append(as, a)
		}
		ended[d.ID] = p.Status
		halves[i%2] = append(halves[i%2], p)
	}
	if len(ended) != n {
		t.Fatalf("claimed %d deliveries, want %d", len(ended), n)
	}
	var mu sync.Mutex // guards ended, for the publisher
	ready := make(chan struct{})
	var wg sync.WaitGroup
	for _, half := range halves {
		wg.Go(func() {
			<-ready
			for chunk := range slices.Chunk(half, 3) {
				res, err := e.s.DeliveryComplete(e.ctx, chunk)
				if err != nil {
					t.Errorf("DeliveryComplete: %v", err)
					return
				}
				for i, r := range res {
					if !r.Applied {
						t.Errorf("DeliveryComplete %s: not applied", chunk[i].ID)
					}
				}
			}
		})
	}
	wg.Go(func() {
		<-ready
		for i := range published {
			at := start.Add(n*100*time.Millisecond + time.Duration(i)*100*time.Millisecond)
			ev := e.newEvent(w.Tenant, "order.created")
			ev.ID, ev.CreatedAt = hookline.NewIDAt(hookline.PrefixEvent, at), at
			p := e.insertParams(ev, e.now.Add(time.Hour), w)
			p.Deliveries[0].ID = hookline.NewIDAt(hookline.PrefixDelivery, at)
			if _, err := e.s.EventInsert(e.ctx, []store.EventInsertParams{p}); err != nil {
				t.Errorf("EventInsert: %v", err)
				return
			}
			mu.Lock()
			ended[p.Deliveries[0].ID] = hookline.DeliveryPending
			mu.Unlock()
		}
	})
	close(ready)
	wg.Wait()
	if t.Failed() {
		return
	}

	windows := []struct {
		name         string
		since, until time.Time
		buckets      int
	}{
		{"the slot", start, start.Add(slotMS * time.Millisecond), 1},
		{"two hours", start.Add(-time.Hour), start.Add(time.Hour), 2},
		{"within the slot", start.Add(50 * time.Millisecond), start.Add(20 * time.Second), 3},
		{"a day", start.Add(-12 * time.Hour), start.Add(12 * time.Hour), 48},
	}
	for _, win := range windows {
		gotD, err := e.s.DeliveryStats(e.ctx, store.DeliveryStatsParams{WebhookID: w.ID, Since: win.since, Until: win.until, Buckets: win.buckets})
		if err != nil {
			t.Fatalf("DeliveryStats: %v", err)
		}
		wantD := wantDeliveryStats(win.since, win.until, win.buckets, maps.All(ended))
		if !reflect.DeepEqual(gotD, wantD) {
			t.Errorf("DeliveryStats of %s:\n got %+v\nwant %+v", win.name, gotD, wantD)
		}
		gotA, err := e.s.AttemptStats(e.ctx, store.AttemptStatsParams{Tenant: w.Tenant, Since: win.since, Until: win.until, Buckets: win.buckets})
		if err != nil {
			t.Fatalf("AttemptStats: %v", err)
		}
		wantA := wantAttemptStats(win.since, win.until, win.buckets, slices.Values(as))
		if !reflect.DeepEqual(gotA, wantA) {
			t.Errorf("AttemptStats of %s:\n got %+v\nwant %+v", win.name, gotA, wantA)
		}
	}
	succeeded, failed := 0, 0
	for _, a := range as {
		if a.StatusCode == 200 {
			succeeded++
		} else {
			failed++
		}
	}
	health, err := e.s.WebhookHealth(e.ctx, []string{w.ID}, start)
	if err != nil {
		t.Fatalf("WebhookHealth: %v", err)
	}
	if h := health[w.ID]; h.Succeeded != succeeded || h.Failed != failed || h.LastAttemptAt == nil {
		t.Errorf("WebhookHealth since the slot: got %+v, want %d succeeded, %d failed and a last attempt", h, succeeded, failed)
	}
}
