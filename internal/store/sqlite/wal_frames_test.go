package sqlite

import (
	"os"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

// walFrameBounds bound the pages a delivery's two commits write to the WAL
// (each a 4 KiB frame, written and later checkpointed: most of the disk
// writes and of the system-call CPU at everyday rates), measured in
// TestWALFramesPerDelivery; each just under twice the figure measured
// when it was set (issue 16's regression guards, docs/benchmarks.md).
var walFrameBounds = map[string]struct{ measured, bound float64 }{
	"publish": {measured: 12.2, bound: 23.9},
	"outcome": {measured: 12.2, bound: 23.9},
}

// TestWALFramesPerDelivery counts the WAL frames (pages) that one publish of
// an event to one webhook and its successful outcome write, as the engine
// writes them (the delivery stored already leased, then completed with its
// attempt), with automatic checkpoints off so that the WAL only grows.
func TestWALFramesPerDelivery(t *testing.T) {
	s := openTemp(t)
	ctx := t.Context()
	if _, err := s.w.ExecContext(ctx, "PRAGMA wal_autocheckpoint=0"); err != nil {
		t.Fatal(err)
	}
	var pageSize int64
	if err := s.w.QueryRowContext(ctx, "PRAGMA page_size").Scan(&pageSize); err != nil {
		t.Fatal(err)
	}
	frames := func() int64 {
		fi, err := os.Stat(s.path + "-wal")
		if err != nil {
			t.Fatal(err)
		}
		return (fi.Size() - 32) / (pageSize + 24)
	}
	w := newWebhook("acme", "whsec_x")
	if err := s.WebhookCreate(ctx, store.WebhookCreateParams{Webhook: w}); err != nil {
		t.Fatal(err)
	}
	data := []byte(`{"form":{"id":"f-81","title":"Customer survey"},"response":{"id":"r-1","score":4}}`)
	one := func() (publish, outcome int64) {
		now := time.Now().UTC().Truncate(time.Millisecond)
		ev := &hookline.Event{ID: hookline.NewID(hookline.PrefixEvent), Tenant: "acme", Type: "response.created", Data: data, Timestamp: now, CreatedAt: now}
		d := store.DeliveryInsert{ID: hookline.NewID(hookline.PrefixDelivery), WebhookID: w.ID, NextAttemptAt: now.Add(30 * time.Second), LeaseToken: "L"}
		before := frames()
		if _, err := s.EventInsert(ctx, []store.EventInsertParams{{Event: ev, Deliveries: []store.DeliveryInsert{d}}}); err != nil {
			t.Fatal(err)
		}
		mid := frames()
		a := &hookline.Attempt{ID: hookline.NewID(hookline.PrefixAttempt), DeliveryID: d.ID, WebhookID: w.ID, EventID: ev.ID,
			EventType: ev.Type, Tenant: "acme", Number: 1, StartedAt: now, DurationMS: 3, StatusCode: 200,
			RequestHeaders:  map[string]string{"Content-Type": "application/json", "Webhook-Id": ev.ID, "Webhook-Signature": "v1,abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG="},
			ResponseHeaders: map[string]string{"Content-Length": "2"}, ResponseBody: "ok"}
		if _, err := s.DeliveryComplete(ctx, []store.DeliveryCompleteParams{{DeliveryLease: store.DeliveryLease{ID: d.ID, LeaseToken: "L"},
			WebhookID: w.ID, Attempt: a, Status: hookline.DeliverySucceeded, Now: now}}); err != nil {
			t.Fatal(err)
		}
		return mid - before, frames() - mid
	}
	for range 300 { // warm up: tables and indexes past their first pages
		one()
	}
	const n = 300
	var pub, out int64
	for range n {
		p, o := one()
		pub, out = pub+p, out+o
	}
	got := map[string]float64{"publish": float64(pub) / n, "outcome": float64(out) / n}
	for name, g := range got {
		b := walFrameBounds[name]
		t.Logf("%s: %.2f WAL frames (pages of %d bytes) per delivery (measured %v when the bound was set, bound %v)", name, g, pageSize, b.measured, b.bound)
		if g > b.bound {
			t.Errorf("%s: got %.2f WAL frames per delivery, want at most %v", name, g, b.bound)
		}
	}
}
