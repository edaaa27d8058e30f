package postgres

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

// Slots are the counts per webhook, 2^15 ms of id time and shard that stats
// add up (migration 013). A write transaction gathers what it changes in
// slotDeltas and writes them with its COMMIT (slotTx), one statement a table,
// into the rows of its shard: the backend's pid modulo slotShards, so that
// concurrent transactions, each on a connection of its own, seldom wait for
// the same row, and one connection's transactions, one after the other,
// keep updating the same rows. The rows are sorted by (webhook, slot), so
// that two transactions of one shard lock them in the same order and cannot
// deadlock: a transaction locks no other row after them.

// slotShards is how many rows each (webhook, slot) may have.
const slotShards = 8

// slotKey names a (webhook, slot) of a slots table.
type slotKey struct{ webhook, slot string }

func (a slotKey) compare(b slotKey) int {
	return cmp.Or(strings.Compare(a.webhook, b.webhook), strings.Compare(a.slot, b.slot))
}

// deliveryDelta is a change to the delivery_slots of a (webhook, slot).
// created says it counts a new delivery, which may make the slot's first
// row; otherwise it changes a slot that has rows already, and one trimmed by
// Purge stays gone.
type deliveryDelta struct {
	tenant                     string
	created                    bool
	pending, succeeded, failed int32
}

// attemptDelta is what new attempts add to a (webhook, slot) of attempt_slots.
type attemptDelta struct {
	tenant                 string
	succeeded, failed      int32
	latencySum, latencyMax int64
}

// slotDeltas are a transaction's changes to the slots tables; the zero
// value has none.
type slotDeltas struct {
	deliveries map[slotKey]*deliveryDelta
	attempts   map[slotKey]*attemptDelta
}

// column returns the counter of delivery_slots that status counts in.
func (d *deliveryDelta) column(status string) *int32 {
	switch status {
	case hookline.DeliveryPending:
		return &d.pending
	case hookline.DeliverySucceeded:
		return &d.succeeded
	default:
		return &d.failed
	}
}

// delivery records that delivery id of webhook (of tenant) went from status
// from to status to; from is "" for a new delivery.
func (sd *slotDeltas) delivery(id, webhook, tenant, from, to string) {
	if from == to {
		return
	}
	if sd.deliveries == nil {
		sd.deliveries = map[slotKey]*deliveryDelta{}
	}
	k := slotKey{webhook, store.SlotOf(id)}
	d := sd.deliveries[k]
	if d == nil {
		d = &deliveryDelta{tenant: tenant}
		sd.deliveries[k] = d
	}
	if from == "" {
		d.created = true
	} else {
		*d.column(from)--
	}
	*d.column(to)++
}

// attempt records a new attempt.
func (sd *slotDeltas) attempt(a *hookline.Attempt) {
	if sd.attempts == nil {
		sd.attempts = map[slotKey]*attemptDelta{}
	}
	k := slotKey{a.WebhookID, store.SlotOf(a.ID)}
	d := sd.attempts[k]
	if d == nil {
		d = &attemptDelta{tenant: a.Tenant}
		sd.attempts[k] = d
	}
	if a.Succeeded() {
		d.succeeded++
	} else {
		d.failed++
	}
	d.latencySum += a.DurationMS
	d.latencyMax = max(d.latencyMax, a.DurationMS)
}

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

// queue queues the statements that add the deltas to the rows of the shard
// of the transaction's backend (its pid modulo shards), and forgets them.
func (sd *slotDeltas) queue(b *pgx.Batch, shards int32) {
	if keys := sortedKeys(sd.deliveries); len(keys) > 0 {
		n := len(keys)
		webhooks, slots, tenants := make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
		created, pending, succeeded, failed := make([]bool, 0, n), make([]int32, 0, n), make([]int32, 0, n), make([]int32, 0, n)
		for _, k := range keys {
			d := sd.deliveries[k]
			if d.pending == 0 && d.succeeded == 0 && d.failed == 0 {
				continue
			}
			webhooks, slots, tenants = append(webhooks, k.webhook), append(slots, k.slot), append(tenants, d.tenant)
			created, pending = append(created, d.created), append(pending, d.pending)
			succeeded, failed = append(succeeded, d.succeeded), append(failed, d.failed)
		}
		if len(webhooks) > 0 {
			b.Queue(upsertDeliverySlotsSQL, shards, webhooks, slots, tenants, created, pending, succeeded, failed)
		}
	}
	if keys := sortedKeys(sd.attempts); len(keys) > 0 {
		n := len(keys)
		webhooks, slots, tenants := make([]string, n), make([]string, n), make([]string, n)
		succeeded, failed, sums, maxes := make([]int32, n), make([]int32, n), make([]int64, n), make([]int64, n)
		for i, k := range keys {
			d := sd.attempts[k]
			webhooks[i], slots[i], tenants[i] = k.webhook, k.slot, d.tenant
			succeeded[i], failed[i], sums[i], maxes[i] = d.succeeded, d.failed, d.latencySum, d.latencyMax
		}
		b.Queue(upsertAttemptSlotsSQL, shards, webhooks, slots, tenants, succeeded, failed, sums, maxes)
	}
	clear(sd.deliveries)
	clear(sd.attempts)
}

// sortedKeys returns the keys of m in the order rows are locked in.
func sortedKeys[V any](m map[slotKey]V) []slotKey {
	return slices.SortedFunc(maps.Keys(m), slotKey.compare)
}

// slotTx runs fn in a READ COMMITTED transaction, as tx does, and commits it
// with the slot counts fn's changes moved: the counts and the COMMIT go in
// one round trip, so that the rows they lock, and the webhook rows a
// completion locked before them, are held no longer than a commit without
// counts would hold them.
func (s *Store) slotTx(ctx context.Context, fn func(tx pgx.Tx, sd *slotDeltas) error) error {
	c, err := s.pool.Acquire(ctx)
	if err != nil {
		return interpretError(err)
	}
	defer c.Release() // the connection is dropped unless its transaction ended
	tx, err := c.Begin(ctx)
	if err != nil {
		return interpretError(err)
	}
	var sd slotDeltas
	if err := fn(tx, &sd); err != nil {
		tx.Rollback(ctx)
		return interpretError(err)
	}
	b := &pgx.Batch{}
	sd.queue(b, s.slotShards)
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
		if c.Conn().PgConn().TxStatus() != 'I' {
			tx.Rollback(ctx)
		}
		return interpretError(err)
	}
	return nil
}

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
