package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

// Stats add up the slot counts of whole slots (slots.go) and read rows only
// where a bucket's bound cuts a slot: a day in 48 buckets is some 2,600 slots
// and at most 49 slots' rows, whatever the number of rows in the day.

// attemptSucceeded is true (1) for an attempt with no error and a 2xx status.
const attemptSucceeded = "(a.error = '' AND a.status_code BETWEEN 200 AND 299)"

// rangesCTE returns "r(b, lo, hi) AS (VALUES …)" for rs, the bounds as slots
// or as ids of prefix, and appends its arguments to args.
func rangesCTE(rs []store.StatsRange, prefix string, args []any) (string, []any) {
	vals := make([]string, len(rs))
	for i, r := range rs {
		vals[i] = "(?, ?, ?)"
		if r.Slots {
			args = append(args, r.Bucket, store.SlotAt(r.Lo), store.SlotAt(r.Hi))
		} else {
			args = append(args, r.Bucket, hookline.IDAt(prefix, fromMS(r.Lo)), hookline.IDAt(prefix, fromMS(r.Hi)))
		}
	}
	return "r(b, lo, hi) AS (VALUES " + strings.Join(vals, ", ") + ")", args
}

// statsQuery returns the UNION ALL of, for the slot ranges and the row
// ranges that have any, "WITH r … SELECT r.b, <aggregates> FROM r CROSS JOIN
// <table> WHERE <scope> AND <key> in r GROUP BY r.b", with its arguments.
// CROSS JOIN keeps r, a few dozen ranges, the outer loop: one index seek per
// range.
func statsQuery(w store.StatsWindow, prefix string, slotSQL, rowSQL func(args []any) (string, []any)) (string, []any) {
	slots, rows := store.PlanStats(w)
	var arms []string
	var args []any
	for _, part := range []struct {
		rs  []store.StatsRange
		sql func(args []any) (string, []any)
	}{{slots, slotSQL}, {rows, rowSQL}} {
		if len(part.rs) == 0 {
			continue
		}
		var cte, body string
		cte, args = rangesCTE(part.rs, prefix, args)
		body, args = part.sql(args)
		arms = append(arms, "SELECT * FROM (WITH "+cte+" "+body+" GROUP BY r.b)")
	}
	return strings.Join(arms, " UNION ALL "), args
}

// webhooksOf returns the condition on webhooks (as w) of a stats scope, and
// appends its arguments.
func webhooksOf(tenant, webhookID string, args []any) (string, []any) {
	conds := []string{"1"}
	if webhookID != "" {
		conds, args = append(conds, "w.id = ?"), append(args, webhookID)
	}
	if tenant != "" {
		conds, args = append(conds, "w.tenant = ?"), append(args, tenant)
	}
	return strings.Join(conds, " AND "), args
}

// slotScope returns the condition on a slots table (as s) of a stats scope.
func slotScope(tenant, webhookID string, args []any) (string, []any) {
	conds := []string{"1"}
	if webhookID != "" {
		conds, args = append(conds, "s.webhook_id = ?"), append(args, webhookID)
	}
	if tenant != "" {
		conds, args = append(conds, "s.tenant = ?"), append(args, tenant)
	}
	return strings.Join(conds, " AND "), args
}

// AttemptStats implements store.Store.
func (s *Store) AttemptStats(ctx context.Context, p store.AttemptStatsParams) ([]store.AttemptBucket, error) {
	w, err := store.StatsWindowOf(p.Since, p.Until, p.Buckets)
	if err != nil {
		return nil, fmt.Errorf("store: attempt stats: %w", err)
	}
	q, args := statsQuery(w, hookline.PrefixAttempt, func(args []any) (string, []any) {
		scope, args := slotScope(p.Tenant, p.WebhookID, args)
		return `SELECT r.b, sum(s.succeeded), sum(s.failed), sum(s.latency_sum), max(s.latency_max)
			FROM r CROSS JOIN attempt_slots s WHERE ` + scope + ` AND s.slot >= r.lo AND s.slot < r.hi`, args
	}, func(args []any) (string, []any) {
		// Attempts have no tenant index: the webhooks of the scope lead to
		// theirs (a tenant has a few dozen at most), and those of deleted
		// webhooks are left out.
		scope := "EXISTS (SELECT 1 FROM webhooks w WHERE w.id = a.webhook_id)"
		if p.Tenant != "" || p.WebhookID != "" {
			var conds string
			conds, args = webhooksOf(p.Tenant, p.WebhookID, args)
			scope = "a.webhook_id IN (SELECT w.id FROM webhooks w WHERE " + conds + ")"
		}
		return `SELECT r.b, sum(` + attemptSucceeded + `), sum(NOT ` + attemptSucceeded + `), sum(a.duration_ms), max(a.duration_ms)
			FROM r CROSS JOIN attempts a WHERE ` + scope + ` AND a.id >= r.lo AND a.id < r.hi`, args
	})
	out := make([]store.AttemptBucket, w.Buckets)
	sums := make([]int64, w.Buckets)
	for i := range out {
		out[i].Start = w.Start(i)
	}
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: attempt stats: %w", interpretError(err))
	}
	defer rows.Close()
	for rows.Next() {
		var b int
		var succeeded, failed, sum, maxMS sql.NullInt64
		if err := rows.Scan(&b, &succeeded, &failed, &sum, &maxMS); err != nil {
			return nil, fmt.Errorf("store: attempt stats: %w", err)
		}
		o := &out[b]
		o.Succeeded += int(succeeded.Int64)
		o.Failed += int(failed.Int64)
		o.LatencyMaxMS = max(o.LatencyMaxMS, maxMS.Int64)
		sums[b] += sum.Int64
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: attempt stats: %w", interpretError(err))
	}
	store.SetLatencyAvg(out, sums)
	return out, nil
}

// DeliveryStats implements store.Store.
func (s *Store) DeliveryStats(ctx context.Context, p store.DeliveryStatsParams) ([]store.DeliveryBucket, error) {
	w, err := store.StatsWindowOf(p.Since, p.Until, p.Buckets)
	if err != nil {
		return nil, fmt.Errorf("store: delivery stats: %w", err)
	}
	q, args := statsQuery(w, hookline.PrefixDelivery, func(args []any) (string, []any) {
		scope, args := slotScope(p.Tenant, p.WebhookID, args)
		return `SELECT r.b, sum(s.pending), sum(s.succeeded), sum(s.failed)
			FROM r CROSS JOIN delivery_slots s WHERE ` + scope + ` AND s.slot >= r.lo AND s.slot < r.hi`, args
	}, func(args []any) (string, []any) {
		conds := []string{"1"}
		if p.WebhookID != "" {
			// Every status named: deliveries_webhook (webhook_id, status, id)
			// then seeks to the range once per status, and holds it all.
			conds = append(conds, "d.webhook_id = ? AND d.status IN ('pending', 'succeeded', 'failed', 'cancelled')")
			args = append(args, p.WebhookID)
		}
		if p.Tenant != "" {
			conds, args = append(conds, "d.tenant = ?"), append(args, p.Tenant)
		}
		return `SELECT r.b, sum(d.status = 'pending'), sum(d.status = 'succeeded'), sum(d.status IN ('failed', 'cancelled'))
			FROM r CROSS JOIN deliveries d WHERE ` + strings.Join(conds, " AND ") + ` AND d.id >= r.lo AND d.id < r.hi`, args
	})
	out := make([]store.DeliveryBucket, w.Buckets)
	for i := range out {
		out[i].Start = w.Start(i)
	}
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: delivery stats: %w", interpretError(err))
	}
	defer rows.Close()
	for rows.Next() {
		var b int
		var pending, succeeded, failed sql.NullInt64
		if err := rows.Scan(&b, &pending, &succeeded, &failed); err != nil {
			return nil, fmt.Errorf("store: delivery stats: %w", err)
		}
		out[b].Pending += int(pending.Int64)
		out[b].Succeeded += int(succeeded.Int64)
		out[b].Failed += int(failed.Int64)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: delivery stats: %w", interpretError(err))
	}
	return out, nil
}

// WebhookHealth implements store.Store: each webhook's last attempt is one
// seek in attempts_webhook; its counts are its slots since the first whole
// one after since, and the rows before it.
func (s *Store) WebhookHealth(ctx context.Context, ids []string, since time.Time) (map[string]store.WebhookHealth, error) {
	if len(ids) > store.MaxHealthIDs {
		return nil, fmt.Errorf("store: webhook health: %w", hookline.Invalid("ids", "at most %d webhooks, got %d", store.MaxHealthIDs, len(ids)))
	}
	out := map[string]store.WebhookHealth{}
	if len(ids) == 0 {
		return out, nil
	}
	from := max(ms(since), 0)
	first := (from + store.SlotMS - 1) &^ (store.SlotMS - 1)
	// One read transaction: both queries see the same rows.
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("store: webhook health: %w", interpretError(err))
	}
	defer tx.Rollback()
	list := store.EncodeJSON(ids)
	rows, err := tx.QueryContext(ctx, `SELECT w.id, a.started_at, a.status_code, a.error
		FROM webhooks w JOIN attempts a ON a.id = (SELECT l.id FROM attempts l WHERE l.webhook_id = w.id ORDER BY l.id DESC LIMIT 1)
		WHERE w.id IN (SELECT value FROM json_each(?))`, list)
	if err != nil {
		return nil, fmt.Errorf("store: webhook health: %w", interpretError(err))
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var started int64
		var h store.WebhookHealth
		if err := rows.Scan(&id, &started, &h.LastStatus, &h.LastError); err != nil {
			return nil, fmt.Errorf("store: webhook health: %w", err)
		}
		at := fromMS(started)
		h.LastAttemptAt = &at
		out[id] = h
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: webhook health: %w", interpretError(err))
	}
	rows.Close()
	if len(out) == 0 {
		return out, nil
	}

	rows, err = tx.QueryContext(ctx, `SELECT webhook_id, sum(succeeded), sum(failed) FROM (
			SELECT s.webhook_id, s.succeeded, s.failed FROM attempt_slots s
			WHERE s.webhook_id IN (SELECT value FROM json_each(?1)) AND s.slot >= ?2
			UNION ALL
			SELECT a.webhook_id, `+attemptSucceeded+`, NOT `+attemptSucceeded+` FROM attempts a
			WHERE a.webhook_id IN (SELECT value FROM json_each(?1)) AND a.id >= ?3 AND a.id < ?4)
		GROUP BY webhook_id`,
		list, store.SlotAt(first), hookline.IDAt(hookline.PrefixAttempt, fromMS(from)), hookline.IDAt(hookline.PrefixAttempt, fromMS(first)))
	if err != nil {
		return nil, fmt.Errorf("store: webhook health: %w", interpretError(err))
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var succeeded, failed int
		if err := rows.Scan(&id, &succeeded, &failed); err != nil {
			return nil, fmt.Errorf("store: webhook health: %w", err)
		}
		if h, ok := out[id]; ok { // not deleted, with a last attempt
			h.Succeeded, h.Failed = succeeded, failed
			out[id] = h
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: webhook health: %w", interpretError(err))
	}
	return out, nil
}
