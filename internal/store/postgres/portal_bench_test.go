package postgres_test

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookline/hookline/internal/secrets"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/store/postgres"
	"github.com/hookline/hookline/internal/store/postgres/pgtest"
	"github.com/hookline/hookline/internal/store/storetest"
)

// BenchmarkPortal measures the queries of the tenant portal's pages on a log
// of storetest.PortalLogSize deliveries and attempts, as the SQLite driver's
// benchmark of the same name does.
//
//	go test ./internal/store/postgres -run '^$' -bench Portal -benchtime 100x
func BenchmarkPortal(b *testing.B) {
	benchPortal(b, 1)
}

// BenchmarkPortalSharded is BenchmarkPortal with the counts of every slot in
// eight rows, one a shard, as a busy webhook's are when several connections
// write them and Purge has not folded them yet: the worst case of the stats.
func BenchmarkPortalSharded(b *testing.B) {
	benchPortal(b, 8)
}

// benchPortal stores the log, its slot counts spread over shards shards, and
// runs storetest.BenchPortal.
func benchPortal(b *testing.B, shards int) {
	url := pgtest.MigratedURL(b)
	key := make([]byte, 32)
	rand.Read(key)
	box, err := secrets.New(key)
	if err != nil {
		b.Fatal(err)
	}
	s := pgtest.OpenURL(b, url, box)
	l := storetest.NewPortalLog(time.Now())
	for _, w := range l.Webhooks {
		if err := s.WebhookCreate(b.Context(), store.WebhookCreateParams{Webhook: w}); err != nil {
			b.Fatal(err)
		}
	}
	fillPortalLog(b, url, s, l, shards)
	storetest.BenchPortal(b, s, l)
}

// fillPortalLog copies l straight into the tables, has migration 013 count
// the slots of its rows (as s would have kept them, but in one shard), adds
// rows of zeros for the other shards up to shards, then analyses the tables
// as autovacuum would.
func fillPortalLog(b *testing.B, url string, s *postgres.Store, l *storetest.PortalLog, shards int) {
	b.Helper()
	ctx := b.Context()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(context.Background())
	copyRows := func(table string, cols []string, n int, row func(i int) []any) {
		b.Helper()
		if _, err := conn.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromSlice(n, func(i int) ([]any, error) {
			return row(i), nil
		})); err != nil {
			b.Fatalf("copy %s: %v", table, err)
		}
	}
	copyRows("events", []string{"id", "tenant", "type", "data", "occurred_at", "created_at"}, len(l.Events), func(i int) []any {
		e := l.Events[i]
		return []any{e.ID, e.Tenant, e.Type, string(e.Data), e.Timestamp, e.CreatedAt}
	})
	copyRows("deliveries", []string{"id", "event_id", "webhook_id", "tenant", "event_type", "status", "attempts",
		"next_attempt_at", "last_status", "last_error", "created_at", "updated_at"}, len(l.Deliveries), func(i int) []any {
		d := l.Deliveries[i]
		return []any{d.ID, d.EventID, d.WebhookID, d.Tenant, d.EventType, d.Status, d.Attempts,
			d.NextAttemptAt, d.LastStatus, d.LastError, d.CreatedAt, d.UpdatedAt}
	})
	copyRows("attempts", []string{"id", "delivery_id", "webhook_id", "event_id", "event_type", "tenant", "number", "started_at",
		"duration_ms", "status_code", "request_headers", "response_headers", "response_body", "error"}, len(l.Attempts), func(i int) []any {
		a := l.Attempts[i]
		return []any{a.ID, a.DeliveryID, a.WebhookID, a.EventID, a.EventType, a.Tenant, a.Number, a.StartedAt,
			a.DurationMS, a.StatusCode, store.EncodeJSON(a.RequestHeaders), store.EncodeJSON(a.ResponseHeaders), []byte(a.ResponseBody), a.Error}
	})
	recount(b, conn, s)
	if shards > 1 {
		// In slot order, as a slot's shards are written in its 32 s.
		for _, table := range []string{"delivery_slots", "attempt_slots"} {
			if _, err := conn.Exec(ctx, `INSERT INTO `+table+` (webhook_id, slot, shard, tenant)
				SELECT webhook_id, slot, k, tenant FROM `+table+`, generate_series(1, $1 - 1) k`, shards); err != nil {
				b.Fatal(err)
			}
			if _, err := conn.Exec(ctx, "CLUSTER "+table+" USING "+table+"_slot"); err != nil {
				b.Fatal(err)
			}
		}
	}
	if _, err := conn.Exec(ctx, "VACUUM ANALYZE events, deliveries, attempts, delivery_slots, attempt_slots"); err != nil {
		b.Fatal(err)
	}
}
