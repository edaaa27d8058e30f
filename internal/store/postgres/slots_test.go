package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/store/postgres"
	"github.com/hookline/hookline/internal/store/postgres/pgtest"
)

// The slot counts kept on each write, summed over their shards, are those
// migration 013 counts from the rows: after a workload of every kind of write
// through two nodes, and a purge that folds the shards, dropping them and
// applying 013 again gives the same counts.
func TestSlotsAreWhatMigrationCounts(t *testing.T) {
	t.Parallel()
	url := pgtest.MigratedURL(t)
	box := newBox(t)
	nodes := []*postgres.Store{pgtest.OpenURL(t, url, box), pgtest.OpenURL(t, url, box)}
	s := nodes[0]
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Millisecond)
	var whs []*hookline.Webhook
	for _, tenant := range []string{"acme", "acme", "globex", "acme", "ops"} {
		w := newWebhook(tenant, "whsec_x")
		if err := s.WebhookCreate(ctx, store.WebhookCreateParams{Webhook: w}); err != nil {
			t.Fatal(err)
		}
		whs = append(whs, w)
	}
	ops := whs[4]
	var ps []store.EventInsertParams
	for i := range 300 {
		at := now.Add(-2 * time.Hour).Add(time.Duration(i*i) * 80 * time.Millisecond)
		w := whs[i%4]
		ev := &hookline.Event{ID: hookline.NewIDAt(hookline.PrefixEvent, at), Tenant: w.Tenant, Type: "order.created",
			Data: []byte(`{}`), Timestamp: at, CreatedAt: at}
		ps = append(ps, store.EventInsertParams{Event: ev, Deliveries: []store.DeliveryInsert{
			{ID: hookline.NewIDAt(hookline.PrefixDelivery, at), WebhookID: w.ID, NextAttemptAt: now}}})
	}
	for chunk := range slices.Chunk(ps, 50) {
		if _, err := s.EventInsert(ctx, chunk); err != nil {
			t.Fatal(err)
		}
	}
	cs, err := s.DeliveryClaim(ctx, store.DeliveryClaimParams{Now: now, LeaseUntil: now.Add(time.Hour), LeaseToken: "A", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var done []store.DeliveryCompleteParams
	for i, c := range cs {
		d := c.Delivery
		p := store.DeliveryCompleteParams{DeliveryLease: store.DeliveryLease{ID: d.ID, LeaseToken: "A"}, WebhookID: d.WebhookID, Now: now}
		a := &hookline.Attempt{ID: hookline.NewIDAt(hookline.PrefixAttempt, d.CreatedAt.Add(time.Duration(i)*time.Second)),
			DeliveryID: d.ID, WebhookID: d.WebhookID, EventID: d.EventID, EventType: d.EventType, Tenant: d.Tenant,
			Number: 1, StartedAt: d.CreatedAt, DurationMS: int64(i % 300)}
		switch i % 4 {
		case 0:
			p.Status, p.Attempt, a.StatusCode = hookline.DeliverySucceeded, a, 200
		case 1:
			p.Status, p.Attempt, a.StatusCode, a.Error = hookline.DeliveryFailed, a, 500, "HTTP 500"
			// An operational event with a delivery of its own, stored with the completion.
			ev := &hookline.Event{ID: hookline.NewIDAt(hookline.PrefixEvent, now), Tenant: ops.Tenant, Type: "delivery.failed",
				Data: []byte(`{}`), Timestamp: now, CreatedAt: now}
			p.Ops = &store.OpsEvents{Failed: &store.EventInsertParams{Event: ev, Deliveries: []store.DeliveryInsert{
				{ID: hookline.NewIDAt(hookline.PrefixDelivery, now), WebhookID: ops.ID, NextAttemptAt: now.Add(time.Hour)}}}}
		case 2:
			p.Status, p.Error = hookline.DeliveryCancelled, "webhook disabled"
		default:
			p.Status, p.Attempt, p.NextAttemptAt, a.Error = hookline.DeliveryPending, a, now.Add(time.Hour), "timeout"
		}
		done = append(done, p)
	}
	// Two nodes complete at once, a few deliveries a transaction.
	var wg sync.WaitGroup
	for k, node := range nodes {
		wg.Go(func() {
			for i := k * 7; i < len(done); i += 14 {
				if _, err := node.DeliveryComplete(ctx, done[i:min(i+7, len(done))]); err != nil {
					t.Errorf("DeliveryComplete: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	for i, c := range cs {
		if i%9 == 0 {
			if _, err := nodes[i%2].DeliveryRetry(ctx, store.DeliveryRetryParams{ID: c.Delivery.ID, Now: now}); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, status := range []string{hookline.DeliveryFailed, hookline.DeliveryCancelled} {
		if _, err := nodes[1].DeliveryRecover(ctx, store.DeliveryRecoverParams{WebhookID: whs[1].ID, Status: status,
			Since: now.Add(-90 * time.Minute), Now: now}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.WebhookDelete(ctx, whs[3].ID); err != nil {
		t.Fatal(err)
	}
	for _, w := range whs {
		a := &hookline.Attempt{ID: hookline.NewID(hookline.PrefixAttempt), WebhookID: w.ID, EventID: hookline.NewID(hookline.PrefixEvent),
			EventType: hookline.EventWebhookTest, Tenant: w.Tenant, Number: 1, StartedAt: now, DurationMS: 7, StatusCode: 204}
		if err := nodes[1].AttemptInsert(ctx, a); err != nil {
			t.Fatal(err)
		}
	}

	conn := connect(t, url)
	kept := readSlots(t, conn)
	if len(kept) < 100 {
		t.Fatalf("slots after the workload: got %d, want many", len(kept))
	}
	// Shard 0 moved to 8, so that every slot has rows to fold whatever the
	// nodes' pids were.
	if _, err := conn.Exec(ctx, "UPDATE delivery_slots SET shard = 8 WHERE shard = 0; UPDATE attempt_slots SET shard = 8 WHERE shard = 0"); err != nil {
		t.Fatal(err)
	}
	// A purge that deletes nothing folds the shards of the slots more than
	// ten minutes old into shard 0, leaving the sums as they were.
	if _, err := s.Purge(ctx, store.PurgeParams{Before: now.Add(-30 * 24 * time.Hour), Limit: 1000}); err != nil {
		t.Fatal(err)
	}
	if folded := readSlots(t, conn); !reflect.DeepEqual(folded, kept) {
		t.Errorf("slots after folding:\n got %v\nwant %v", folded, kept)
	}
	cutoff := hookline.IDAt("", now.Add(-10*time.Minute))[:7]
	for _, table := range []string{"delivery_slots", "attempt_slots"} {
		var left int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+table+" WHERE shard <> 0 AND slot < $1", cutoff).Scan(&left); err != nil || left != 0 {
			t.Errorf("%s: rows of shards other than 0 older than ten minutes after a purge: got %d, %v; want 0", table, left, err)
		}
	}
	if counted := recountSlots(t, conn, s); !reflect.DeepEqual(counted, kept) {
		t.Errorf("slots counted by migration 013:\n got %v\nwant %v (kept on writes)", counted, kept)
	}
}

// TestSlotsOfOneShard runs transactions that all write the same rows (one
// shard), each changing several slots of two webhooks in an order of its
// own, from eight goroutines over two nodes: none fails (no deadlock, as
// rows are written in one order) and the counts are those of the rows.
func TestSlotsOfOneShard(t *testing.T) {
	t.Parallel()
	url := pgtest.MigratedURL(t)
	box := newBox(t)
	nodes := []*postgres.Store{pgtest.OpenURL(t, url, box), pgtest.OpenURL(t, url, box)}
	for _, s := range nodes {
		postgres.SetSlotShards(s, 1)
	}
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Millisecond)
	var whs []*hookline.Webhook
	for _, tenant := range []string{"acme", "globex"} {
		w := newWebhook(tenant, "whsec_x")
		if err := nodes[0].WebhookCreate(ctx, store.WebhookCreateParams{Webhook: w}); err != nil {
			t.Fatal(err)
		}
		whs = append(whs, w)
	}
	// Four slots of each webhook, one delivery (and so one event) a row.
	first := time.UnixMilli(now.Add(-time.Hour).UnixMilli() &^ (store.SlotMS - 1))
	var ps []store.EventInsertParams
	for i := range 400 {
		at := first.Add(time.Duration(i%4)*store.SlotMS*time.Millisecond + time.Duration(i)*10*time.Millisecond)
		w := whs[i/4%2]
		ev := &hookline.Event{ID: hookline.NewIDAt(hookline.PrefixEvent, at), Tenant: w.Tenant, Type: "order.created",
			Data: []byte(`{}`), Timestamp: at, CreatedAt: at}
		ps = append(ps, store.EventInsertParams{Event: ev, Deliveries: []store.DeliveryInsert{
			{ID: hookline.NewIDAt(hookline.PrefixDelivery, at), WebhookID: w.ID, NextAttemptAt: now}}})
	}
	if _, err := nodes[0].EventInsert(ctx, ps); err != nil {
		t.Fatal(err)
	}
	cs, err := nodes[0].DeliveryClaim(ctx, store.DeliveryClaimParams{Now: now, LeaseUntil: now.Add(time.Hour), LeaseToken: "A", Limit: 1000})
	if err != nil || len(cs) != len(ps) {
		t.Fatalf("claim: got %d deliveries, %v; want %d", len(cs), err, len(ps))
	}
	rand.Shuffle(len(cs), func(i, j int) { cs[i], cs[j] = cs[j], cs[i] })

	var wg sync.WaitGroup
	const goroutines, batch = 8, 10
	for g := range goroutines {
		wg.Go(func() {
			node := nodes[g%2]
			for i := g * batch; i < len(cs); i += goroutines * batch {
				var done []store.DeliveryCompleteParams
				for k, c := range cs[i:min(i+batch, len(cs))] {
					d := c.Delivery
					at := d.CreatedAt.Add(time.Millisecond)
					// Retries and cancellations: unlike successes and failures,
					// they leave the webhook row alone, whose lock would
					// serialise the transactions before they reach the slots.
					p := store.DeliveryCompleteParams{DeliveryLease: store.DeliveryLease{ID: d.ID, LeaseToken: "A"}, WebhookID: d.WebhookID,
						Status: hookline.DeliveryPending, NextAttemptAt: now.Add(time.Hour), Now: now,
						Attempt: &hookline.Attempt{ID: hookline.NewIDAt(hookline.PrefixAttempt, at), DeliveryID: d.ID, WebhookID: d.WebhookID,
							EventID: d.EventID, EventType: d.EventType, Tenant: d.Tenant, Number: 1, StartedAt: at, DurationMS: int64(i + k), StatusCode: 503}}
					if k%3 == 0 {
						p.Status, p.Attempt, p.Error = hookline.DeliveryCancelled, nil, "webhook disabled"
					}
					done = append(done, p)
				}
				if _, err := node.DeliveryComplete(ctx, done); err != nil {
					var pe *pgconn.PgError
					if errors.As(err, &pe) && pe.Code == "40P01" {
						err = fmt.Errorf("deadlock: %w", err)
					}
					t.Errorf("DeliveryComplete: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	conn := connect(t, url)
	var shards int
	if err := conn.QueryRow(ctx, "SELECT count(DISTINCT shard) FROM delivery_slots").Scan(&shards); err != nil || shards != 1 {
		t.Fatalf("shards of delivery_slots: got %d, %v; want 1", shards, err)
	}
	kept := readSlots(t, conn)
	if len(kept) != 16 { // 8 slots, of deliveries and of attempts
		t.Errorf("slots: got %d, want 16: %v", len(kept), kept)
	}
	if counted := recountSlots(t, conn, nodes[0]); !reflect.DeepEqual(counted, kept) {
		t.Errorf("slots counted from the rows:\n got %v\nwant %v (kept on writes)", counted, kept)
	}
}

// readSlots returns the counts of every (webhook, slot) of both slots
// tables, summed over their shards, that count anything.
func readSlots(t *testing.T, conn *pgx.Conn) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, q := range []string{
		`SELECT 'd ' || webhook_id || ' ' || slot, min(tenant) || ' ' || sum(pending) || ' ' || sum(succeeded) || ' ' || sum(failed)
			FROM delivery_slots GROUP BY webhook_id, slot HAVING sum(pending) <> 0 OR sum(succeeded) <> 0 OR sum(failed) <> 0`,
		`SELECT 'a ' || webhook_id || ' ' || slot, min(tenant) || ' ' || sum(succeeded) || ' ' || sum(failed) || ' ' ||
				sum(latency_sum) || ' ' || max(latency_max)
			FROM attempt_slots GROUP BY webhook_id, slot`,
	} {
		rows, err := conn.Query(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		var k, v string
		if _, err := pgx.ForEachRow(rows, []any{&k, &v}, func() error {
			out[k] = v
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// recountSlots drops the slots tables and migrates s again, so that
// migration 013 counts the rows afresh, and returns what it counted.
func recountSlots(t *testing.T, conn *pgx.Conn, s *postgres.Store) map[string]string {
	t.Helper()
	recount(t, conn, s)
	return readSlots(t, conn)
}

// recount drops the slots tables and migrates s again: migration 013 counts
// the rows afresh.
func recount(tb testing.TB, conn *pgx.Conn, s *postgres.Store) {
	tb.Helper()
	ctx := context.Background()
	if _, err := conn.Exec(ctx, "DROP TABLE delivery_slots, attempt_slots; DELETE FROM schema_migrations WHERE version = 13"); err != nil {
		tb.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
}
