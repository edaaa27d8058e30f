package postgres

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

const deliveryColumns = `id, event_id, webhook_id, tenant, event_type, status, attempts, next_attempt_at,
	last_status, last_error, created_at, updated_at`

func scanDelivery(row scanner) (*hookline.Delivery, error) {
	var (
		d    hookline.Delivery
		next *time.Time
	)
	if err := row.Scan(&d.ID, &d.EventID, &d.WebhookID, &d.Tenant, &d.EventType, &d.Status, &d.Attempts,
		&next, &d.LastStatus, &d.LastError, &d.CreatedAt, &d.UpdatedAt); err != nil {
		return nil, err
	}
	d.NextAttemptAt = utc(next)
	d.CreatedAt, d.UpdatedAt = d.CreatedAt.UTC(), d.UpdatedAt.UTC()
	return &d, nil
}

// DeliveryRelease implements store.Store. Released deliveries are due at the wall
// clock's now, and the other nodes are told so in the same commit.
func (s *Store) DeliveryRelease(ctx context.Context, ls []store.DeliveryLease) error {
	if len(ls) == 0 {
		return nil
	}
	ids, tokens := make([]string, len(ls)), make([]string, len(ls))
	for i, l := range ls {
		ids[i], tokens[i] = l.ID, l.LeaseToken
	}
	err := s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE deliveries d SET next_attempt_at = $1, lease_token = NULL
			FROM unnest($2::text[], $3::text[]) AS l (id, token)
			WHERE d.id = l.id AND d.lease_token = l.token AND d.status = 'pending'`,
			ts(time.Now()), ids, tokens)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		return notifyTx(ctx, tx, store.TopicWork, "")
	})
	if err != nil {
		return fmt.Errorf("store: release deliveries: %w", err)
	}
	return nil
}

// DeliveryRenew moves the lease end of each delivery to its Until if its token
// still holds it: no other claim has taken it, even if the lease ran out
// meanwhile (a claim racing with the renewal either finds the row locked and
// skips it, or sees the renewed lease and finds it not due). It reports for
// each whether it did; one statement renews them all.
func (s *Store) DeliveryRenew(ctx context.Context, rs []store.DeliveryRenewal) ([]bool, error) {
	ids, tokens, until := make([]string, len(rs)), make([]string, len(rs)), make([]time.Time, len(rs))
	next := make([]string, len(rs)) // the token after: the same, or DeferredToken
	for i, r := range rs {
		ids[i], tokens[i], until[i], next[i] = r.ID, r.LeaseToken, ts(r.Until), r.LeaseToken
		if r.Defer {
			next[i] = store.DeferredToken
		}
	}
	rows, err := s.pool.Query(ctx, `UPDATE deliveries d SET next_attempt_at = r.until, lease_token = r.next
		FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[]) AS r(id, token, until, next)
		WHERE d.id = r.id AND d.lease_token = r.token AND d.status = 'pending'
		RETURNING d.id`, ids, tokens, until, next)
	if err != nil {
		return nil, fmt.Errorf("store: renew leases: %w", interpretError(err))
	}
	renewed, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("store: renew leases: %w", interpretError(err))
	}
	out := make([]bool, len(rs))
	for i, r := range rs {
		out[i] = slices.Contains(renewed, r.ID)
	}
	return out, nil
}

// DeliveryRecall implements store.Store.
func (s *Store) DeliveryRecall(ctx context.Context, p store.DeliveryRecallParams) (int, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE deliveries d SET next_attempt_at = $1, lease_token = NULL
		FROM (SELECT id FROM deliveries
			WHERE webhook_id = $2 AND status = 'pending' AND lease_token = $3
			ORDER BY next_attempt_at LIMIT $4
			FOR UPDATE SKIP LOCKED) r
		WHERE d.id = r.id`, ts(p.Now), p.WebhookID, store.DeferredToken, p.Limit)
	if err != nil {
		return 0, fmt.Errorf("store: recall deliveries: %w", interpretError(err))
	}
	return int(tag.RowsAffected()), nil
}

// DeliveryReleaseAll implements store.Store. Hookline calls it on single-node
// stores only; on a shared database it would take the other nodes' work.
func (s *Store) DeliveryReleaseAll(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE deliveries SET next_attempt_at = $1, lease_token = NULL
			WHERE status = 'pending' AND lease_token IS NOT NULL AND lease_token <> $2`, ts(now), store.DeferredToken)
		if err != nil {
			return err
		}
		if n = tag.RowsAffected(); n == 0 {
			return nil
		}
		return notifyTx(ctx, tx, store.TopicWork, "")
	})
	if err != nil {
		return 0, fmt.Errorf("store: release all deliveries: %w", err)
	}
	return n, nil
}

// DeliveryRetry implements store.Store. The other nodes are told of the work in
// the same commit. The delivery is locked before it is read, and updated in
// the same round trip: the status it had, for the slot counts, is the one
// the update changes.
func (s *Store) DeliveryRetry(ctx context.Context, p store.DeliveryRetryParams) (*hookline.Delivery, error) {
	var d *hookline.Delivery
	err := s.slotTx(ctx, func(tx txConn, sd *store.SlotDeltas) error {
		b := &pgx.Batch{}
		b.Queue("SELECT status FROM deliveries WHERE id = $1 FOR UPDATE", p.ID)
		b.Queue(`UPDATE deliveries SET status = 'pending', next_attempt_at = $1,
			lease_token = NULL, updated_at = $1 WHERE id = $2 RETURNING `+deliveryColumns, ts(p.Now), p.ID)
		br := tx.SendBatch(ctx, b)
		var was string
		err := br.QueryRow().Scan(&was)
		if err == nil {
			d, err = scanDelivery(br.QueryRow())
		}
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		sd.Delivery(d.ID, d.WebhookID, d.Tenant, was, d.Status)
		return notifyTx(ctx, tx, store.TopicWork, "")
	})
	if err != nil {
		return nil, fmt.Errorf("store: retry delivery: %w", err)
	}
	return d, nil
}

// DeliveryGet implements store.Store.
func (s *Store) DeliveryGet(ctx context.Context, id string) (*hookline.Delivery, error) {
	d, err := scanDelivery(s.pool.QueryRow(ctx, "SELECT "+deliveryColumns+" FROM deliveries WHERE id = $1", id))
	if err != nil {
		return nil, fmt.Errorf("store: get delivery: %w", interpretError(err))
	}
	return d, nil
}

// DeliveryList implements store.Store.
func (s *Store) DeliveryList(ctx context.Context, p store.DeliveryListParams) ([]hookline.Delivery, error) {
	pg, err := p.Page("id", true)
	if err != nil {
		return nil, fmt.Errorf("store: list deliveries: %w", err)
	}
	f := store.Filter{Numbered: true}
	f.AddIf("tenant", p.Tenant)
	f.AddIf("webhook_id", p.WebhookID)
	f.AddIf("event_id", p.EventID)
	f.AddIf("status", p.Status)
	f.AddIf("event_type", p.EventType)
	f.Created(hookline.PrefixDelivery, p.CreatedAfter, p.CreatedBefore)
	q, args := f.Page("SELECT "+deliveryColumns+" FROM deliveries", pg)
	return queryPage(ctx, s.pool, "list deliveries", scanDelivery, pg, q, args...)
}

// DeliveryCountPending implements store.Store. Split by ordered, the count
// reads the partial indexes of pending deliveries (migrations 001 and 006),
// not the table, which "status = 'pending'" alone would scan whole: the
// pending are a few of the deliveries the retention keeps.
func (s *Store) DeliveryCountPending(ctx context.Context) (int64, error) {
	var n int64
	if err := s.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM deliveries WHERE status = 'pending' AND NOT ordered)
		+ (SELECT count(*) FROM deliveries WHERE status = 'pending' AND ordered)`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count pending: %w", interpretError(err))
	}
	return n, nil
}

// DeliveryCountRetrying implements store.Store, through the same partial
// indexes as DeliveryCountPending.
func (s *Store) DeliveryCountRetrying(ctx context.Context) (int64, error) {
	var n int64
	if err := s.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM deliveries WHERE status = 'pending' AND NOT ordered AND attempts > 0)
		+ (SELECT count(*) FROM deliveries WHERE status = 'pending' AND ordered AND attempts > 0)`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count retrying: %w", interpretError(err))
	}
	return n, nil
}

// Purge implements store.Store. The deletes are one transaction; deliveries go
// with their events (ON DELETE CASCADE). Rows another node is purging are
// skipped, not waited for, so nodes purging together neither wait nor deadlock.
// The slot counts are trimmed and folded in the same transaction (tidySlots).
func (s *Store) Purge(ctx context.Context, p store.PurgeParams) (int64, error) {
	var total int64
	err := s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM attempts WHERE id IN (
			SELECT id FROM attempts WHERE id < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`, hookline.IDAt(hookline.PrefixAttempt, p.Before), store.PageLimit(p.Limit))
		if err != nil {
			return err
		}
		total += tag.RowsAffected()
		tag, err = tx.Exec(ctx, `DELETE FROM events WHERE id IN (
			SELECT e.id FROM events e WHERE e.id < $1
			AND NOT EXISTS (SELECT FROM deliveries d WHERE d.event_id = e.id AND d.status = 'pending')
			LIMIT $2 FOR UPDATE SKIP LOCKED)`, hookline.IDAt(hookline.PrefixEvent, p.Before), store.PageLimit(p.Limit))
		if err != nil {
			return err
		}
		total += tag.RowsAffected()
		return tidySlots(ctx, tx, p.Before, time.Now().Add(-foldAfter), store.PageLimit(p.Limit))
	})
	if err != nil {
		return 0, fmt.Errorf("store: purge: %w", err)
	}
	return total, nil
}
