package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hookline/hookline/internal/store"
)

// Slots are the counts per webhook, 2^15 ms of id time and shard that stats
// add up (migration 013). A write transaction gathers what it changes in
// store.SlotDeltas and writes them with its COMMIT (slotTx), one statement a table,
// into the rows of its shard: the backend's pid modulo slotShards, so that
// concurrent transactions, each on a connection of its own, seldom wait for
// the same row, and one connection's transactions, one after the other,
// keep updating the same rows. The rows are sorted by (webhook, slot), so
// that two transactions of one shard lock them in the same order and cannot
// deadlock: a transaction locks no other row after them.

// slotShards is how many rows each (webhook, slot) may have.
const slotShards = 8

// A slot that is not created must have a row in some shard already: one
// Purge trimmed stays gone. Rows are written in the order of the arrays.
const (
	upsertDeliverySlotsSQL = `INSERT INTO delivery_slots AS t (webhook_id, slot, shard, tenant, pending, succeeded, failed)
	SELECT v.webhook_id, v.slot, pg_backend_pid() % $1, v.tenant, v.pending, v.succeeded, v.failed
	FROM unnest($2::text[], $3::text[], $4::text[], $5::boolean[], $6::int[], $7::int[], $8::int[])
		AS v (webhook_id, slot, tenant, created, pending, succeeded, failed)
	WHERE v.created OR EXISTS (SELECT FROM delivery_slots s WHERE s.webhook_id = v.webhook_id AND s.slot = v.slot)
	ON CONFLICT (webhook_id, slot, shard) DO UPDATE SET pending = t.pending + EXCLUDED.pending,
		succeeded = t.succeeded + EXCLUDED.succeeded, failed = t.failed + EXCLUDED.failed`
	upsertAttemptSlotsSQL = `INSERT INTO attempt_slots AS t (webhook_id, slot, shard, tenant, succeeded, failed, latency_sum, latency_max)
	SELECT v.webhook_id, v.slot, pg_backend_pid() % $1, v.tenant, v.succeeded, v.failed, v.latency_sum, v.latency_max
	FROM unnest($2::text[], $3::text[], $4::text[], $5::int[], $6::int[], $7::bigint[], $8::bigint[])
		AS v (webhook_id, slot, tenant, succeeded, failed, latency_sum, latency_max)
	ON CONFLICT (webhook_id, slot, shard) DO UPDATE SET succeeded = t.succeeded + EXCLUDED.succeeded,
		failed = t.failed + EXCLUDED.failed, latency_sum = t.latency_sum + EXCLUDED.latency_sum,
		latency_max = GREATEST(t.latency_max, EXCLUDED.latency_max)`
)

// queueSlots queues the statements that add the deltas to the rows of the
// shard of the transaction's backend (its pid modulo shards), and forgets
// them.
func queueSlots(b *pgx.Batch, sd *store.SlotDeltas, shards int32) {
	if keys := store.SortedSlotKeys(sd.Deliveries); len(keys) > 0 {
		n := len(keys)
		webhooks, slots, tenants := make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
		created, pending, succeeded, failed := make([]bool, 0, n), make([]int32, 0, n), make([]int32, 0, n), make([]int32, 0, n)
		for _, k := range keys {
			d := sd.Deliveries[k]
			if d.Zero() {
				continue
			}
			webhooks, slots, tenants = append(webhooks, k.Webhook), append(slots, k.Slot), append(tenants, d.Tenant)
			created, pending = append(created, d.Created), append(pending, int32(d.Pending))
			succeeded, failed = append(succeeded, int32(d.Succeeded)), append(failed, int32(d.Failed))
		}
		if len(webhooks) > 0 {
			b.Queue(upsertDeliverySlotsSQL, shards, webhooks, slots, tenants, created, pending, succeeded, failed)
		}
	}
	if keys := store.SortedSlotKeys(sd.Attempts); len(keys) > 0 {
		n := len(keys)
		webhooks, slots, tenants := make([]string, n), make([]string, n), make([]string, n)
		succeeded, failed, sums, maxes := make([]int32, n), make([]int32, n), make([]int64, n), make([]int64, n)
		for i, k := range keys {
			d := sd.Attempts[k]
			webhooks[i], slots[i], tenants[i] = k.Webhook, k.Slot, d.Tenant
			succeeded[i], failed[i], sums[i], maxes[i] = int32(d.Succeeded), int32(d.Failed), d.LatencySum, d.LatencyMax
		}
		b.Queue(upsertAttemptSlotsSQL, shards, webhooks, slots, tenants, succeeded, failed, sums, maxes)
	}
	sd.Clear()
}

// slotTx runs fn in a READ COMMITTED transaction, as tx does, and commits it
// with the slot counts fn's changes moved: the counts and the COMMIT go in
// one round trip, so that the rows they lock, and the webhook rows a
// completion locked before them, are held no longer than a commit without
// counts would hold them.
func (s *Store) slotTx(ctx context.Context, fn func(tx txConn, sd *store.SlotDeltas) error) error {
	return s.commitSlots(ctx, false, fn)
}

// relaxedSlotTx is slotTx for writes that a crash of the database server may
// undo without breaking a promise: attempt outcomes, whose loss means one more
// attempt, which at-least-once delivery allows. Its COMMIT does not wait for
// the WAL to reach the disk (SET LOCAL synchronous_commit = off, in the same
// round trip): PostgreSQL flushes it within a few wal_writer_delay, and a
// crash before that loses the transaction whole, never part of it. Events,
// which were answered 202, never go through it.
func (s *Store) relaxedSlotTx(ctx context.Context, fn func(tx txConn, sd *store.SlotDeltas) error) error {
	return s.commitSlots(ctx, true, fn)
}

func (s *Store) commitSlots(ctx context.Context, relaxed bool, fn func(tx txConn, sd *store.SlotDeltas) error) error {
	c, err := s.pool.Acquire(ctx)
	if err != nil {
		return interpretError(err)
	}
	defer c.Release() // the connection is dropped unless its transaction ended
	tx := &lazyTx{c: c}
	var sd store.SlotDeltas
	if err := fn(tx, &sd); err != nil {
		tx.rollback(ctx)
		return interpretError(err)
	}
	b := &pgx.Batch{}
	queueSlots(b, &sd, s.slotShards)
	if relaxed {
		b.Queue("SET LOCAL synchronous_commit = off")
	}
	b.Queue("COMMIT")
	br := tx.SendBatch(ctx, b)
	var tag pgconn.CommandTag
	for range b.Len() {
		if tag, err = br.Exec(); err != nil {
			break
		}
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err == nil && tag.String() == "ROLLBACK" {
		err = pgx.ErrTxCommitRollback
	}
	if err != nil {
		tx.rollback(ctx)
		return interpretError(err)
	}
	return nil
}

// txConn is what the statements of a transaction are sent through: a
// pgx.Tx, or the lazyTx of slotTx.
type txConn interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// lazyTx is a transaction whose BEGIN is sent with its first statements: in
// front of the first batch (one round trip fewer than a BEGIN of its own,
// which was a sixth of the round trips of a publish and its delivery), or on
// its own before a first single statement. The batch then runs inside the
// transaction it opens, as it would after a separate BEGIN.
type lazyTx struct {
	c     *pgxpool.Conn
	begun bool
}

var _ txConn = (*lazyTx)(nil)
var _ txConn = pgx.Tx(nil)

func (t *lazyTx) begin(ctx context.Context) error {
	if t.begun {
		return nil
	}
	t.begun = true
	_, err := t.c.Exec(ctx, "BEGIN")
	return err
}

func (t *lazyTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if err := t.begin(ctx); err != nil {
		return pgconn.CommandTag{}, err
	}
	return t.c.Exec(ctx, sql, args...)
}

func (t *lazyTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if err := t.begin(ctx); err != nil {
		return nil, err
	}
	return t.c.Query(ctx, sql, args...)
}

func (t *lazyTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if err := t.begin(ctx); err != nil {
		return errRow{err}
	}
	return t.c.QueryRow(ctx, sql, args...)
}

// SendBatch sends b, with BEGIN in front when it is the transaction's first.
// BEGIN's result is read here: the caller reads b's results, as always.
func (t *lazyTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	if t.begun {
		return t.c.SendBatch(ctx, b)
	}
	t.begun = true
	first := &pgx.Batch{}
	first.Queue("BEGIN")
	first.QueuedQueries = append(first.QueuedQueries, b.QueuedQueries...)
	br := t.c.SendBatch(ctx, first)
	// A BEGIN that failed fails the statements after it too (or the
	// connection is gone): their results say so.
	br.Exec()
	return br
}

// rollback ends a transaction that failed, if one is open; when even that
// fails, the connection is dropped on release (it is not idle).
func (t *lazyTx) rollback(ctx context.Context) {
	if t.c.Conn().PgConn().TxStatus() != 'I' {
		t.c.Exec(ctx, "ROLLBACK")
	}
}

// errRow is a pgx.Row whose Scan returns err.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// foldAfter is how old a slot's last millisecond is before Purge folds its
// shards into one row: by then its deliveries are rarely changed, but it is
// read by every stats window that holds it.
const foldAfter = 10 * time.Minute

// Purge trims, and folds, at most limit rows of each slots table.
const (
	// Stats keep no further back than the rows: the slots before the one of
	// Before go (pending deliveries older than that are no longer counted),
	// every shard of them, but for rows a transaction is writing, which the
	// next purge takes.
	trimSlotsSQL = `DELETE FROM %[1]s WHERE (webhook_id, slot, shard) IN (
	SELECT webhook_id, slot, shard FROM %[1]s WHERE slot < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`
	// The rows of shards other than 0 of slots before $1 are added to shard
	// 0 and deleted, so that the slots of the past are a row each to read.
	// Rows a transaction is writing are left for the next purge; shard 0 is
	// written in (webhook, slot) order, as slotTx writes it.
	foldDeliverySlotsSQL = `WITH moved AS (
	DELETE FROM delivery_slots WHERE (webhook_id, slot, shard) IN (
		SELECT webhook_id, slot, shard FROM delivery_slots WHERE shard <> 0 AND slot < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)
	RETURNING webhook_id, slot, tenant, pending, succeeded, failed
)
INSERT INTO delivery_slots AS t (webhook_id, slot, shard, tenant, pending, succeeded, failed)
SELECT webhook_id, slot, 0, min(tenant), sum(pending), sum(succeeded), sum(failed)
FROM moved GROUP BY webhook_id, slot ORDER BY webhook_id, slot
ON CONFLICT (webhook_id, slot, shard) DO UPDATE SET pending = t.pending + EXCLUDED.pending,
	succeeded = t.succeeded + EXCLUDED.succeeded, failed = t.failed + EXCLUDED.failed`
	foldAttemptSlotsSQL = `WITH moved AS (
	DELETE FROM attempt_slots WHERE (webhook_id, slot, shard) IN (
		SELECT webhook_id, slot, shard FROM attempt_slots WHERE shard <> 0 AND slot < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)
	RETURNING webhook_id, slot, tenant, succeeded, failed, latency_sum, latency_max
)
INSERT INTO attempt_slots AS t (webhook_id, slot, shard, tenant, succeeded, failed, latency_sum, latency_max)
SELECT webhook_id, slot, 0, min(tenant), sum(succeeded), sum(failed), sum(latency_sum), max(latency_max)
FROM moved GROUP BY webhook_id, slot ORDER BY webhook_id, slot
ON CONFLICT (webhook_id, slot, shard) DO UPDATE SET succeeded = t.succeeded + EXCLUDED.succeeded,
	failed = t.failed + EXCLUDED.failed, latency_sum = t.latency_sum + EXCLUDED.latency_sum,
	latency_max = GREATEST(t.latency_max, EXCLUDED.latency_max)`
)

// tidySlots deletes the slots before the one of before and folds the shards
// of those that ended by foldBefore, at most limit rows of each table for
// each, in one round trip.
func tidySlots(ctx context.Context, tx pgx.Tx, before, foldBefore time.Time, limit int) error {
	b := &pgx.Batch{}
	first := store.SlotAt(before.UnixMilli())
	for _, table := range []string{"delivery_slots", "attempt_slots"} {
		b.Queue(fmt.Sprintf(trimSlotsSQL, table), first, limit)
	}
	// Before the slot that holds foldBefore: those that ended by then.
	fold := store.SlotAt(foldBefore.UnixMilli())
	b.Queue(foldDeliverySlotsSQL, fold, limit)
	b.Queue(foldAttemptSlotsSQL, fold, limit)
	return tx.SendBatch(ctx, b).Close()
}
