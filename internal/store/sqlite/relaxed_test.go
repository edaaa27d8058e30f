package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/secrets"
	"github.com/hookline/hookline/internal/store"
)

// TestOutcomesCommitRelaxed holds the durability split of issue 16: a commit
// that stores an event waits for the disk (synchronous FULL); one that only
// stores attempt outcomes or lease renewals does not (NORMAL), and the write
// connection is FULL again after it, whatever happened in it.
func TestOutcomesCommitRelaxed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hookline.db")
	key := newKey(t)
	ctx := t.Context()
	box, err := secrets.New(key)
	if err != nil {
		t.Fatal(err)
	}
	var commits []bool
	opts := Options{Secrets: box, OnCommit: func(relaxed bool) { commits = append(commits, relaxed) }}
	s, err := Open(ctx, path, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close() }()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	commits = nil
	check := func(what string, want ...bool) {
		t.Helper()
		if len(commits) != len(want) {
			t.Fatalf("%s: got commits %v (true: relaxed), want %v", what, commits, want)
		}
		for i := range want {
			if commits[i] != want[i] {
				t.Fatalf("%s: got commits %v (true: relaxed), want %v", what, commits, want)
			}
		}
		var level int
		if err := s.w.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&level); err != nil {
			t.Fatal(err)
		}
		if level != 2 {
			t.Fatalf("%s: the write connection is left at synchronous %d, want 2 (FULL)", what, level)
		}
		commits = nil
	}

	w := newWebhook("acme", "whsec_x")
	if err := s.WebhookCreate(ctx, store.WebhookCreateParams{Webhook: w}); err != nil {
		t.Fatal(err)
	}
	check("create a webhook", false)

	now := time.Now().UTC().Truncate(time.Millisecond)
	event := func() (*hookline.Event, store.DeliveryInsert) {
		ev := &hookline.Event{ID: hookline.NewID(hookline.PrefixEvent), Tenant: "acme", Type: "a.b", Data: []byte(`{}`), Timestamp: now, CreatedAt: now}
		return ev, store.DeliveryInsert{ID: hookline.NewID(hookline.PrefixDelivery), WebhookID: w.ID, NextAttemptAt: now.Add(time.Minute), LeaseToken: "L"}
	}
	complete := func(ev *hookline.Event, d store.DeliveryInsert) *store.DeliveryCompleteParams {
		a := &hookline.Attempt{ID: hookline.NewID(hookline.PrefixAttempt), DeliveryID: d.ID, WebhookID: w.ID, EventID: ev.ID,
			EventType: ev.Type, Tenant: "acme", Number: 1, StartedAt: now, DurationMS: 3, StatusCode: 200}
		return &store.DeliveryCompleteParams{DeliveryLease: store.DeliveryLease{ID: d.ID, LeaseToken: "L"},
			WebhookID: w.ID, Attempt: a, Status: hookline.DeliverySucceeded, Now: now}
	}

	ev1, d1 := event()
	if _, err := s.EventInsert(ctx, []store.EventInsertParams{{Event: ev1, Deliveries: []store.DeliveryInsert{d1}}}); err != nil {
		t.Fatal(err)
	}
	check("publish", false)
	if _, err := s.DeliveryRenew(ctx, []store.DeliveryRenewal{{DeliveryLease: store.DeliveryLease{ID: d1.ID, LeaseToken: "L"}, Until: now.Add(2 * time.Minute)}}); err != nil {
		t.Fatal(err)
	}
	check("renew", true)
	if _, err := s.DeliveryComplete(ctx, []store.DeliveryCompleteParams{*complete(ev1, d1)}); err != nil {
		t.Fatal(err)
	}
	check("complete", true)

	// Through Writer: relaxed only when no event is in the batch.
	ev2, d2 := event()
	ev3, d3 := event()
	if _, err := s.Write(ctx, []store.Write{{Insert: &store.EventInsertParams{Event: ev2, Deliveries: []store.DeliveryInsert{d2}}}}); err != nil {
		t.Fatal(err)
	}
	check("write: a publish", false)
	if _, err := s.Write(ctx, []store.Write{{Complete: complete(ev2, d2)}, {Insert: &store.EventInsertParams{Event: ev3, Deliveries: []store.DeliveryInsert{d3}}}}); err != nil {
		t.Fatal(err)
	}
	check("write: an outcome and a publish", false)
	if _, err := s.Write(ctx, []store.Write{{Complete: complete(ev3, d3)}}); err != nil {
		t.Fatal(err)
	}
	check("write: an outcome", true)

	// A claim is a lease: relaxed too.
	ev4, d4 := event()
	d4.LeaseToken = ""
	if _, err := s.EventInsert(ctx, []store.EventInsertParams{{Event: ev4, Deliveries: []store.DeliveryInsert{d4}}}); err != nil {
		t.Fatal(err)
	}
	check("publish a delivery to claim", false)
	claimed, err := s.DeliveryClaim(ctx, store.DeliveryClaimParams{Now: now.Add(2 * time.Minute), LeaseUntil: now.Add(3 * time.Minute), LeaseToken: "C", Limit: 10})
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: got %d, %v; want the one delivery", len(claimed), err)
	}
	check("claim", true)

	// A relaxed transaction that fails, or whose context ends, still puts
	// FULL back (or discards the connection).
	boom := errors.New("boom")
	if err := s.txRelaxed(ctx, func(wtx) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("got %v, want boom", err)
	}
	check("a failed relaxed transaction")
	cctx, cancel := context.WithCancel(ctx)
	err = s.txRelaxed(cctx, func(tx wtx) error {
		cancel()
		_, err := tx.ExecContext(cctx, "UPDATE webhooks SET description = 'x'")
		return err
	})
	if err == nil {
		t.Fatal("a relaxed transaction whose context ended: got no error")
	}
	check("a relaxed transaction whose context ended")

	// What relaxed commits wrote survives the process: reopen and read.
	s.Close()
	if s, err = Open(ctx, path, opts); err != nil {
		t.Fatal(err)
	}
	for _, d := range []store.DeliveryInsert{d1, d2, d3} {
		got, err := s.DeliveryGet(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != hookline.DeliverySucceeded {
			t.Errorf("delivery %s after reopening: got %s, want succeeded", d.ID, got.Status)
		}
	}

	// With synchronous NORMAL configured, nothing is switched.
	n, err := Open(ctx, filepath.Join(t.TempDir(), "normal.db"), Options{Secrets: box, Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if n.relax {
		t.Error("a store opened with synchronous NORMAL relaxes its commits again")
	}
}
