package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

// Stats read the rows of their window, bucket by bucket: each bucket is a
// range of ids (store.DeliveryListParams), one index range scan, so no row
// is sorted or hashed.

// attemptSucceeded is true for an attempt with no error and a 2xx status.
const attemptSucceeded = "a.error = '' AND a.status_code BETWEEN 200 AND 299"

// params collects the arguments of a statement and names them $1, $2…
type params []any

// add appends v and returns its placeholder.
func (ps *params) add(v any) string {
	*ps = append(*ps, v)
	return "$" + strconv.Itoa(len(*ps))
}

// bucketsOf returns "unnest(…) AS r(b, lo, hi)": the buckets of w as ranges
// of ids of prefix.
func bucketsOf(ps *params, prefix string, w store.StatsWindow) string {
	bs, los, his := make([]int32, w.Buckets), make([]string, w.Buckets), make([]string, w.Buckets)
	for i := range w.Buckets {
		bs[i] = int32(i)
		los[i] = hookline.IDAt(prefix, time.UnixMilli(w.Bound(i)))
		his[i] = hookline.IDAt(prefix, time.UnixMilli(w.Bound(i+1)))
	}
	return "unnest(" + ps.add(bs) + "::int[], " + ps.add(los) + "::text[], " + ps.add(his) + "::text[]) AS r(b, lo, hi)"
}

// AttemptStats implements store.Store.
func (s *Store) AttemptStats(ctx context.Context, p store.AttemptStatsParams) ([]store.AttemptBucket, error) {
	w, err := store.StatsWindowOf(p.Since, p.Until, p.Buckets)
	if err != nil {
		return nil, fmt.Errorf("store: attempt stats: %w", err)
	}
	var ps params
	// Attempts have no tenant index: the webhooks lead to theirs, and those
	// of deleted webhooks are left out.
	conds := []string{"true"}
	if p.WebhookID != "" {
		conds = append(conds, "w.id = "+ps.add(p.WebhookID))
	}
	if p.Tenant != "" {
		conds = append(conds, "w.tenant = "+ps.add(p.Tenant))
	}
	q := `SELECT r.b, s.ok, s.n, s.sum, s.max FROM ` + bucketsOf(&ps, hookline.PrefixAttempt, w) + `
		CROSS JOIN LATERAL (
			SELECT count(*) FILTER (WHERE ` + attemptSucceeded + `) AS ok, count(*) AS n,
				coalesce(sum(a.duration_ms), 0)::bigint AS sum, coalesce(max(a.duration_ms), 0) AS max
			FROM attempts a
			WHERE a.webhook_id IN (SELECT w.id FROM webhooks w WHERE ` + strings.Join(conds, " AND ") + `)
			  AND a.id >= r.lo AND a.id < r.hi) s`
	out := make([]store.AttemptBucket, w.Buckets)
	rows, err := s.pool.Query(ctx, q, ps...)
	if err != nil {
		return nil, fmt.Errorf("store: attempt stats: %w", interpretError(err))
	}
	var b, succeeded, n int
	var sum, maxMS int64
	_, err = pgx.ForEachRow(rows, []any{&b, &succeeded, &n, &sum, &maxMS}, func() error {
		o := &out[b]
		o.Succeeded, o.Failed, o.LatencyMaxMS = succeeded, n-succeeded, maxMS
		if n > 0 {
			o.LatencyAvgMS = (sum + int64(n)/2) / int64(n)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: attempt stats: %w", interpretError(err))
	}
	for i := range out {
		out[i].Start = w.Start(i)
	}
	return out, nil
}

// DeliveryStats implements store.Store.
func (s *Store) DeliveryStats(ctx context.Context, p store.DeliveryStatsParams) ([]store.DeliveryBucket, error) {
	w, err := store.StatsWindowOf(p.Since, p.Until, p.Buckets)
	if err != nil {
		return nil, fmt.Errorf("store: delivery stats: %w", err)
	}
	var ps params
	conds := []string{"true"}
	if p.WebhookID != "" {
		// Every status named: deliveries_webhook (webhook_id, status, id)
		// then holds all the scan needs.
		conds = append(conds, "d.webhook_id = "+ps.add(p.WebhookID)+" AND d.status IN ('pending', 'succeeded', 'failed', 'cancelled')")
	}
	if p.Tenant != "" {
		conds = append(conds, "d.tenant = "+ps.add(p.Tenant))
	}
	q := `SELECT r.b, s.pending, s.succeeded, s.failed FROM ` + bucketsOf(&ps, hookline.PrefixDelivery, w) + `
		CROSS JOIN LATERAL (
			SELECT count(*) FILTER (WHERE d.status = 'pending') AS pending,
				count(*) FILTER (WHERE d.status = 'succeeded') AS succeeded,
				count(*) FILTER (WHERE d.status IN ('failed', 'cancelled')) AS failed
			FROM deliveries d
			WHERE ` + strings.Join(conds, " AND ") + ` AND d.id >= r.lo AND d.id < r.hi) s`
	out := make([]store.DeliveryBucket, w.Buckets)
	rows, err := s.pool.Query(ctx, q, ps...)
	if err != nil {
		return nil, fmt.Errorf("store: delivery stats: %w", interpretError(err))
	}
	var b, pending, succeeded, failed int
	_, err = pgx.ForEachRow(rows, []any{&b, &pending, &succeeded, &failed}, func() error {
		out[b].Pending, out[b].Succeeded, out[b].Failed = pending, succeeded, failed
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: delivery stats: %w", interpretError(err))
	}
	for i := range out {
		out[i].Start = w.Start(i)
	}
	return out, nil
}

// webhookHealthSQL finds, for each of the webhooks $1 that exist, its last
// attempt (one backward seek in attempts_webhook) and its counts of
// attempts from id $2 on (one range of it), in one statement and so one
// snapshot.
const webhookHealthSQL = `SELECT w.id, l.started_at, l.status_code, l.error, c.ok, c.n
FROM webhooks w
CROSS JOIN LATERAL (SELECT a.started_at, a.status_code, a.error FROM attempts a
	WHERE a.webhook_id = w.id ORDER BY a.id DESC LIMIT 1) l
CROSS JOIN LATERAL (SELECT count(*) FILTER (WHERE ` + attemptSucceeded + `) AS ok, count(*) AS n FROM attempts a
	WHERE a.webhook_id = w.id AND a.id >= $2) c
WHERE w.id = ANY($1)`

// WebhookHealth implements store.Store.
func (s *Store) WebhookHealth(ctx context.Context, ids []string, since time.Time) (map[string]store.WebhookHealth, error) {
	if len(ids) > store.MaxHealthIDs {
		return nil, fmt.Errorf("store: webhook health: %w", hookline.Invalid("ids", "at most %d webhooks, got %d", store.MaxHealthIDs, len(ids)))
	}
	out := map[string]store.WebhookHealth{}
	if len(ids) == 0 {
		return out, nil
	}
	if since.Before(time.UnixMilli(0)) {
		since = time.UnixMilli(0)
	}
	rows, err := s.pool.Query(ctx, webhookHealthSQL, ids, hookline.IDAt(hookline.PrefixAttempt, since))
	if err != nil {
		return nil, fmt.Errorf("store: webhook health: %w", interpretError(err))
	}
	var (
		id, lastError     string
		at                time.Time
		status, ok, total int
	)
	_, err = pgx.ForEachRow(rows, []any{&id, &at, &status, &lastError, &ok, &total}, func() error {
		at := at.UTC()
		out[id] = store.WebhookHealth{LastAttemptAt: &at, LastStatus: status, LastError: lastError,
			Succeeded: ok, Failed: total - ok}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: webhook health: %w", interpretError(err))
	}
	return out, nil
}
