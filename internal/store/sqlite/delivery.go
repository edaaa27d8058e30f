package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

const deliveryColumns = `id, event_id, webhook_id, tenant, event_type, status, attempts, next_attempt_at,
	last_status, last_error, created_at, updated_at`

func scanDelivery(row scanner) (*hookline.Delivery, error) {
	var (
		d                hookline.Delivery
		next             sql.NullInt64
		created, updated int64
	)
	if err := row.Scan(&d.ID, &d.EventID, &d.WebhookID, &d.Tenant, &d.EventType, &d.Status, &d.Attempts,
		&next, &d.LastStatus, &d.LastError, &created, &updated); err != nil {
		return nil, err
	}
	d.NextAttemptAt = nullMS(next)
	d.CreatedAt, d.UpdatedAt = fromMS(created), fromMS(updated)
	return &d, nil
}

type querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

// hotQueries is a querier that runs prepared statements (wtx.queryHot).
type hotQueries struct{ wtx }

func (h hotQueries) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return h.queryHot(ctx, q, args...)
}

func queryDeliveries(ctx context.Context, db querier, q string, args ...any) ([]hookline.Delivery, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []hookline.Delivery{}
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *d)
	}
	return out, rows.Err()
}

// claimSQL leases up to ?4 deliveries due at ?3, oldest due first: due
// unordered deliveries, and the heads of ordered webhooks. An ordered webhook's
// head is its oldest pending delivery, claimable when it is ordered, due, and
// no other ordered delivery of the webhook holds a live lease (a retried older
// one waits for the newer one in flight). The webhooks with ordered deliveries
// pending are walked one index seek at a time (a recursive CTE), so a claim
// costs the same however deep an ordered backlog is (partial indexes of
// migration 006).
const claimSQL = `UPDATE deliveries SET next_attempt_at = ?1, lease_token = ?2, updated_at = ?3
WHERE id IN (
	SELECT id FROM (
		SELECT id, next_attempt_at FROM (
			SELECT d.id, d.next_attempt_at FROM deliveries d
			WHERE d.status = 'pending' AND d.ordered = 0 AND d.next_attempt_at <= ?3
			ORDER BY d.next_attempt_at LIMIT ?4)
		UNION ALL
		SELECT id, next_attempt_at FROM (
			WITH RECURSIVE owh(wid) AS (
				SELECT (SELECT min(webhook_id) FROM deliveries WHERE status = 'pending' AND ordered = 1)
				UNION ALL
				SELECT (SELECT min(webhook_id) FROM deliveries
					WHERE status = 'pending' AND ordered = 1 AND webhook_id > owh.wid)
				FROM owh WHERE owh.wid IS NOT NULL
			)
			SELECT d.id, d.next_attempt_at FROM owh
			JOIN deliveries d ON d.id = (SELECT h.id FROM deliveries h
				WHERE h.webhook_id = owh.wid AND h.status = 'pending' ORDER BY h.id LIMIT 1)
			WHERE owh.wid IS NOT NULL AND d.ordered = 1 AND d.next_attempt_at <= ?3
			  AND NOT EXISTS (SELECT 1 FROM deliveries l
				WHERE l.webhook_id = owh.wid AND l.status = 'pending' AND l.ordered = 1
				  AND l.lease_token IS NOT NULL AND l.next_attempt_at > ?3))
	)
	ORDER BY next_attempt_at LIMIT ?4)
RETURNING ` + deliveryColumns

// DeliveryClaim implements store.Store. The single writer connection serialises
// claims, so no two claims can take the same row. A claim is a lease: its
// commit is relaxed (txRelaxed), since a power loss that undoes it leaves the
// deliveries due, to be claimed and attempted again.
func (s *Store) DeliveryClaim(ctx context.Context, p store.DeliveryClaimParams) ([]store.ClaimedDelivery, error) {
	var out []store.ClaimedDelivery
	err := s.txRelaxed(ctx, func(tx wtx) error {
		ds, err := queryDeliveries(ctx, hotQueries{tx}, claimSQL, ms(p.LeaseUntil), p.LeaseToken, ms(p.Now), p.Limit)
		if err != nil || len(ds) == 0 {
			return err
		}
		ids := make([]any, len(ds))
		for i, d := range ds {
			ids[i] = d.EventID
		}
		rows, err := tx.QueryContext(ctx, "SELECT "+eventColumns+" FROM events WHERE id IN ("+placeholders(len(ids))+")", ids...)
		if err != nil {
			return err
		}
		defer rows.Close()
		events := map[string]*hookline.Event{}
		for rows.Next() {
			e, err := scanEvent(rows)
			if err != nil {
				return err
			}
			events[e.ID] = e
		}
		if err := rows.Err(); err != nil {
			return err
		}
		for _, d := range ds {
			e := events[d.EventID]
			if e == nil {
				return fmt.Errorf("delivery %s: event %s missing", d.ID, d.EventID)
			}
			out = append(out, store.ClaimedDelivery{Delivery: d, Event: *e, LeaseToken: p.LeaseToken})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: claim deliveries: %w", err)
	}
	return out, nil
}

// DeliveryComplete implements store.Store.
func (s *Store) DeliveryComplete(ctx context.Context, ps []store.DeliveryCompleteParams) ([]store.DeliveryCompleteResult, error) {
	return writeEach(ctx, s, "complete deliveries", ps, false, func(tx wtx, succ successes, p store.DeliveryCompleteParams) (store.DeliveryCompleteResult, error) {
		return completeDelivery(ctx, tx, p, succ)
	})
}

// writeEach writes each of ps with one, in order, in one transaction, and
// then the webhooks' successes the outcomes among them gathered; what names
// the operation in errors.
func writeEach[P, R any](ctx context.Context, s *Store, what string, ps []P, durable bool, one func(wtx, successes, P) (R, error)) ([]R, error) {
	out := make([]R, len(ps))
	txf := s.txRelaxed
	if durable {
		txf = s.tx
	}
	err := txf(ctx, func(tx wtx) error {
		succ := successes{}
		for i, p := range ps {
			r, err := one(tx, succ, p)
			if err != nil {
				return err
			}
			out[i] = r
		}
		return succ.flushAll(ctx, tx)
	})
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	return out, nil
}

// successes are the webhooks that had a success in a batch of outcomes, with
// the time of their last one: the webhook row is written once per batch, not
// once per delivery (before a failure of the same webhook, which reads it).
type successes map[string]int64

const recordSuccessSQL = "UPDATE webhooks SET failed_streak = 0, failed_attempts = 0, last_success_at = ? WHERE id = ?"

// flush writes webhook id's pending success, if any.
func (sc successes) flush(ctx context.Context, tx wtx, id string) error {
	at, ok := sc[id]
	if !ok {
		return nil
	}
	delete(sc, id)
	_, err := tx.execHot(ctx, recordSuccessSQL, at, id)
	return err
}

func (sc successes) flushAll(ctx context.Context, tx wtx) error {
	for _, id := range slices.Sorted(maps.Keys(sc)) {
		if err := sc.flush(ctx, tx, id); err != nil {
			return err
		}
	}
	return nil
}

func completeDelivery(ctx context.Context, tx wtx, p store.DeliveryCompleteParams, succ successes) (store.DeliveryCompleteResult, error) {
	var res store.DeliveryCompleteResult
	var number, status any // NULL keeps the column as it is
	lastError := p.Error
	if a := p.Attempt; a != nil {
		number, status, lastError = a.Number, a.StatusCode, a.Error
	}
	var next any
	if p.Status == hookline.DeliveryPending {
		next = ms(p.NextAttemptAt)
	}
	r, err := tx.execHot(ctx, `UPDATE deliveries SET status = ?, attempts = coalesce(?, attempts),
		next_attempt_at = ?, lease_token = NULL, last_status = coalesce(?, last_status), last_error = ?,
		updated_at = ?
		WHERE id = ? AND lease_token = ?`,
		p.Status, number, next, status, lastError, ms(p.Now), p.ID, p.LeaseToken)
	if err != nil {
		return res, err
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return res, nil // stale: another claim holds the delivery, and its attempt is the one that counts
	}
	// A lease is only ever held on a pending delivery.
	tx.slots.Delivery(p.ID, p.WebhookID, "", hookline.DeliveryPending, p.Status)
	if p.Attempt != nil {
		if err := insertAttempt(ctx, tx, p.Attempt); err != nil {
			return res, err
		}
	}
	res.Applied = true
	// A failed attempt counts whether or not it is retried; a failed delivery
	// whether or not it ends with an attempt.
	failedDelivery := p.Status == hookline.DeliveryFailed
	failedAttempt := p.Attempt != nil && p.Status != hookline.DeliverySucceeded
	switch {
	case p.Status == hookline.DeliverySucceeded:
		succ[p.WebhookID] = ms(p.Now)
	case failedDelivery || failedAttempt:
		if err := succ.flush(ctx, tx, p.WebhookID); err != nil {
			return res, err
		}
		var streak, attempts int
		var since int64
		var active int
		err := tx.queryRowHot(ctx, `UPDATE webhooks SET failed_streak = failed_streak + ?,
			failed_attempts = failed_attempts + ? WHERE id = ?
			RETURNING failed_streak, failed_attempts, coalesce(last_success_at, created_at), active`,
			boolInt(failedDelivery), boolInt(failedAttempt), p.WebhookID).Scan(&streak, &attempts, &since, &active)
		if err != nil && err != sql.ErrNoRows {
			return res, err
		}
		rule := p.AutoDisable
		switch {
		case err != nil || active != 1 || p.DisableReason != "":
		case failedDelivery && rule.Failures > 0 && streak >= rule.Failures && !fromMS(since).After(p.Now.Add(-rule.After)):
			p.DisableReason = rule.Reason(streak)
		case failedAttempt && rule.Attempts > 0 && attempts >= rule.Attempts:
			p.DisableReason = rule.AttemptsReason(attempts)
		}
	}
	if p.DisableReason != "" {
		r, err := tx.ExecContext(ctx, "UPDATE webhooks SET active = 0, disabled_reason = ?, updated_at = ? WHERE id = ? AND active = 1",
			p.DisableReason, ms(p.Now), p.WebhookID)
		if err != nil {
			return res, err
		}
		if n, _ := r.RowsAffected(); n > 0 {
			res.WebhookDisabled, res.DisabledReason = true, p.DisableReason
		}
	}
	if ops := p.Ops; ops != nil {
		var events []store.EventInsertParams
		if p.Status == hookline.DeliveryFailed && ops.Failed != nil {
			events = append(events, *ops.Failed)
		}
		if res.WebhookDisabled && ops.Disabled != nil {
			ev := *ops.Disabled.Event
			if ops.DisabledData != nil {
				ev.Data = ops.DisabledData(res.DisabledReason)
			}
			events = append(events, store.EventInsertParams{Event: &ev, Deliveries: ops.Disabled.Deliveries})
		}
		for _, ep := range events {
			r, err := insertEvent(ctx, tx, ep)
			if err != nil {
				return res, err
			}
			res.Ops = append(res.Ops, r)
		}
	}
	return res, nil
}

// DeliveryRelease implements store.Store.
func (s *Store) DeliveryRelease(ctx context.Context, ls []store.DeliveryLease) error {
	now := ms(time.Now())
	err := s.tx(ctx, func(tx wtx) error {
		for _, l := range ls {
			if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET next_attempt_at = ?, lease_token = NULL
				WHERE id = ? AND lease_token = ? AND status = 'pending'`, now, l.ID, l.LeaseToken); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: release deliveries: %w", err)
	}
	return nil
}

// DeliveryReleaseAll implements store.Store.
func (s *Store) DeliveryReleaseAll(ctx context.Context, now time.Time) (int64, error) {
	r, err := s.w.ExecContext(ctx, `UPDATE deliveries SET next_attempt_at = ?, lease_token = NULL
		WHERE status = 'pending' AND lease_token IS NOT NULL AND lease_token <> ?`, ms(now), store.DeferredToken)
	if err != nil {
		return 0, fmt.Errorf("store: release all deliveries: %w", interpretError(err))
	}
	return r.RowsAffected()
}

// DeliveryRecall implements store.Store.
func (s *Store) DeliveryRecall(ctx context.Context, p store.DeliveryRecallParams) (int, error) {
	var n int64
	err := s.tx(ctx, func(tx wtx) error {
		r, err := tx.execHot(ctx, `UPDATE deliveries SET next_attempt_at = ?1, lease_token = NULL
			WHERE id IN (SELECT id FROM deliveries
				WHERE webhook_id = ?2 AND status = 'pending' AND lease_token = ?3
				ORDER BY next_attempt_at LIMIT ?4)`, ms(p.Now), p.WebhookID, store.DeferredToken, p.Limit)
		if err != nil {
			return err
		}
		n, err = r.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: recall deliveries: %w", err)
	}
	return int(n), nil
}

// DeliveryRetry implements store.Store.
func (s *Store) DeliveryRetry(ctx context.Context, p store.DeliveryRetryParams) (*hookline.Delivery, error) {
	var d *hookline.Delivery
	err := s.tx(ctx, func(tx wtx) error {
		var was string
		if err := tx.QueryRowContext(ctx, "SELECT status FROM deliveries WHERE id = ?", p.ID).Scan(&was); err != nil {
			return err
		}
		var err error
		d, err = scanDelivery(tx.QueryRowContext(ctx, `UPDATE deliveries SET status = 'pending', next_attempt_at = ?,
			lease_token = NULL, updated_at = ? WHERE id = ? RETURNING `+deliveryColumns, ms(p.Now), ms(p.Now), p.ID))
		if err == nil {
			tx.slots.Delivery(d.ID, d.WebhookID, "", was, d.Status)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: retry delivery: %w", err)
	}
	return d, nil
}

// DeliveryGet implements store.Store.
func (s *Store) DeliveryGet(ctx context.Context, id string) (*hookline.Delivery, error) {
	d, err := scanDelivery(s.r.QueryRowContext(ctx, "SELECT "+deliveryColumns+" FROM deliveries WHERE id = ?", id))
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
	var f store.Filter
	f.AddIf("tenant", p.Tenant)
	f.AddIf("webhook_id", p.WebhookID)
	f.AddIf("event_id", p.EventID)
	f.AddIf("status", p.Status)
	f.AddIf("event_type", p.EventType)
	f.Created(hookline.PrefixDelivery, p.CreatedAfter, p.CreatedBefore)
	q, args := f.Page("SELECT "+deliveryColumns+" FROM deliveries", pg)
	return queryPage(ctx, s.r, "list deliveries", scanDelivery, pg, q, args...)
}

// DeliveryCountPending implements store.Store.
func (s *Store) DeliveryCountPending(ctx context.Context) (int64, error) {
	var n int64
	err := s.r.QueryRowContext(ctx, "SELECT count(*) FROM deliveries WHERE status = 'pending'").Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: count pending: %w", interpretError(err))
	}
	return n, nil
}

// DeliveryCountRetrying implements store.Store.
func (s *Store) DeliveryCountRetrying(ctx context.Context) (int64, error) {
	var n int64
	err := s.r.QueryRowContext(ctx, "SELECT count(*) FROM deliveries WHERE status = 'pending' AND attempts > 0").Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: count retrying: %w", interpretError(err))
	}
	return n, nil
}

// Purge implements store.Store.
func (s *Store) Purge(ctx context.Context, p store.PurgeParams) (int64, error) {
	var total int64
	err := s.tx(ctx, func(tx wtx) error {
		r, err := tx.ExecContext(ctx, `DELETE FROM attempts WHERE id IN (
			SELECT id FROM attempts WHERE id < ? LIMIT ?)`, hookline.IDAt(hookline.PrefixAttempt, p.Before), store.PageLimit(p.Limit))
		if err != nil {
			return err
		}
		n, _ := r.RowsAffected()
		total += n
		r, err = tx.ExecContext(ctx, `DELETE FROM events WHERE id IN (
			SELECT e.id FROM events e WHERE e.id < ?
			AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.status = 'pending')
			LIMIT ?)`, hookline.IDAt(hookline.PrefixEvent, p.Before), store.PageLimit(p.Limit))
		if err != nil {
			return err
		}
		n, _ = r.RowsAffected()
		total += n
		// Stats keep no further back than the rows: the slots before the one
		// of Before go (pending deliveries older than that are no longer
		// counted).
		for _, table := range []string{"delivery_slots", "attempt_slots"} {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE (webhook_id, slot) IN (
				SELECT webhook_id, slot FROM `+table+` WHERE slot < ? LIMIT ?)`, store.SlotAt(ms(p.Before)), store.PageLimit(p.Limit)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: purge: %w", err)
	}
	return total, nil
}

// DeliveryRenew moves the lease end of each delivery to its Until if its token
// still holds it (no later claim took it, even if the lease ran out meanwhile),
// and reports for each whether it did. The single writer serialises it with
// claims. The engine uses it for a job that waited in its queue until its lease
// was nearly over, so that its own claim loop cannot take the delivery a second
// time, and to defer a job its webhook cannot take yet.
func (s *Store) DeliveryRenew(ctx context.Context, rs []store.DeliveryRenewal) ([]bool, error) {
	return writeEach(ctx, s, "renew leases", rs, false, func(tx wtx, _ successes, r store.DeliveryRenewal) (bool, error) {
		return renewDelivery(ctx, tx, r)
	})
}

func renewDelivery(ctx context.Context, tx wtx, r store.DeliveryRenewal) (bool, error) {
	token := r.LeaseToken
	if r.Defer {
		token = store.DeferredToken
	}
	res, err := tx.execHot(ctx, `UPDATE deliveries SET next_attempt_at = ?, lease_token = ?
		WHERE id = ? AND lease_token = ? AND status = 'pending'`, ms(r.Until), token, r.ID, r.LeaseToken)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// Write implements store.Writer: publishes, attempt outcomes and renewals in
// one transaction, so the single writer pays one commit for all of them.
func (s *Store) Write(ctx context.Context, ws []store.Write) ([]store.WriteResult, error) {
	durable := slices.ContainsFunc(ws, func(w store.Write) bool { return w.Insert != nil })
	return writeEach(ctx, s, "write", ws, durable, func(tx wtx, succ successes, w store.Write) (r store.WriteResult, err error) {
		switch {
		case w.Insert != nil:
			r.Insert, err = insertEvent(ctx, tx, *w.Insert)
		case w.Complete != nil:
			r.Complete, err = completeDelivery(ctx, tx, *w.Complete, succ)
		case w.Renew != nil:
			r.Renewed, err = renewDelivery(ctx, tx, *w.Renew)
		default:
			err = errors.New("a write with nothing to write")
		}
		return r, err
	})
}
