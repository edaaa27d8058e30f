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

// Stats add up the slot counts of whole slots (slots.go), every shard of
// them, and read rows only where a bucket's bound cuts a slot: a day in 48
// buckets is some 2,600 slots and at most 49 slots' rows, whatever the number
// of rows in the day. Each range of slots or of ids is one index range scan,
// so no row is sorted or hashed.

// attemptSucceeded is true for an attempt with no error and a 2xx status.
const attemptSucceeded = "a.error = '' AND a.status_code BETWEEN 200 AND 299"

// params collects the arguments of a statement and names them $1, $2…
type params []any

// add appends v and returns its placeholder.
func (ps *params) add(v any) string {
	*ps = append(*ps, v)
	return "$" + strconv.Itoa(len(*ps))
}

// rangesOf returns "unnest(…) AS r(b, lo, hi)": rs, their bounds as slots
// or as ids of prefix.
func rangesOf(ps *params, rs []store.StatsRange, prefix string) string {
	bs, los, his := make([]int32, len(rs)), make([]string, len(rs)), make([]string, len(rs))
	for i, r := range rs {
		bs[i] = int32(r.Bucket)
		if r.Slots {
			los[i], his[i] = store.SlotAt(r.Lo), store.SlotAt(r.Hi)
		} else {
			los[i], his[i] = hookline.IDAt(prefix, time.UnixMilli(r.Lo)), hookline.IDAt(prefix, time.UnixMilli(r.Hi))
		}
	}
	return "unnest(" + ps.add(bs) + "::int[], " + ps.add(los) + "::text[], " + ps.add(his) + "::text[]) AS r(b, lo, hi)"
}

// statsQuery returns the statement that adds up w: "SELECT r.b, x.* FROM
// <ranges> CROSS JOIN LATERAL (<aggregates>) x" for the slot ranges, then
// for the row ranges, the two as one (UNION ALL), with its arguments. slotSQL
// and rowSQL return the aggregates of one range r, of a slots table and of
// the rows; a bucket may have up to three rows of results to add up.
func statsQuery(w store.StatsWindow, prefix string, slotSQL, rowSQL func(ps *params) string) (string, params) {
	slots, rows := store.PlanStats(w)
	var ps params
	q := "SELECT r.b, x.* FROM " + rangesOf(&ps, slots, prefix) + " CROSS JOIN LATERAL (" + slotSQL(&ps) + ") x"
	return q + " UNION ALL SELECT r.b, x.* FROM " + rangesOf(&ps, rows, prefix) + " CROSS JOIN LATERAL (" + rowSQL(&ps) + ") x", ps
}

// slotScope returns the condition on a slots table (as s) of a stats scope.
func slotScope(ps *params, tenant, webhookID string) string {
	conds := []string{"true"}
	if webhookID != "" {
		conds = append(conds, "s.webhook_id = "+ps.add(webhookID))
	}
	if tenant != "" {
		conds = append(conds, "s.tenant = "+ps.add(tenant))
	}
	return strings.Join(conds, " AND ")
}

// AttemptStats implements store.Store.
func (s *Store) AttemptStats(ctx context.Context, p store.AttemptStatsParams) ([]store.AttemptBucket, error) {
	w, err := store.StatsWindowOf(p.Since, p.Until, p.Buckets)
	if err != nil {
		return nil, fmt.Errorf("store: attempt stats: %w", err)
	}
	q, ps := attemptStatsQuery(w, p)
	out := make([]store.AttemptBucket, w.Buckets)
	sums := make([]int64, w.Buckets)
	rows, err := s.pool.Query(ctx, q, ps...)
	if err != nil {
		return nil, fmt.Errorf("store: attempt stats: %w", interpretError(err))
	}
	var b, succeeded, n int
	var sum, maxMS int64
	_, err = pgx.ForEachRow(rows, []any{&b, &succeeded, &n, &sum, &maxMS}, func() error {
		o := &out[b]
		o.Succeeded += succeeded
		o.Failed += n - succeeded
		o.LatencyMaxMS = max(o.LatencyMaxMS, maxMS)
		sums[b] += sum
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: attempt stats: %w", interpretError(err))
	}
	for i := range out {
		out[i].Start = w.Start(i)
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
	q, ps := deliveryStatsQuery(w, p)
	out := make([]store.DeliveryBucket, w.Buckets)
	rows, err := s.pool.Query(ctx, q, ps...)
	if err != nil {
		return nil, fmt.Errorf("store: delivery stats: %w", interpretError(err))
	}
	var b, pending, succeeded, failed int
	_, err = pgx.ForEachRow(rows, []any{&b, &pending, &succeeded, &failed}, func() error {
		out[b].Pending += pending
		out[b].Succeeded += succeeded
		out[b].Failed += failed
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

// attemptStatsQuery returns the statement of AttemptStats and its arguments.
func attemptStatsQuery(w store.StatsWindow, p store.AttemptStatsParams) (string, params) {
	return statsQuery(w, hookline.PrefixAttempt, func(ps *params) string {
		return `SELECT coalesce(sum(s.succeeded), 0)::bigint AS ok, coalesce(sum(s.succeeded + s.failed), 0)::bigint AS n,
				coalesce(sum(s.latency_sum), 0)::bigint AS sum, coalesce(max(s.latency_max), 0) AS max
			FROM attempt_slots s WHERE ` + slotScope(ps, p.Tenant, p.WebhookID) + ` AND s.slot >= r.lo AND s.slot < r.hi`
	}, func(ps *params) string {
		// Attempts have no tenant index: the webhooks lead to theirs, and those
		// of deleted webhooks are left out.
		conds := []string{"true"}
		if p.WebhookID != "" {
			conds = append(conds, "w.id = "+ps.add(p.WebhookID))
		}
		if p.Tenant != "" {
			conds = append(conds, "w.tenant = "+ps.add(p.Tenant))
		}
		return `SELECT count(*) FILTER (WHERE ` + attemptSucceeded + `) AS ok, count(*) AS n,
				coalesce(sum(a.duration_ms), 0)::bigint AS sum, coalesce(max(a.duration_ms), 0) AS max
			FROM attempts a
			WHERE a.webhook_id IN (SELECT w.id FROM webhooks w WHERE ` + strings.Join(conds, " AND ") + `)
			  AND a.id >= r.lo AND a.id < r.hi`
	})
}

// deliveryStatsQuery returns the statement of DeliveryStats and its arguments.
func deliveryStatsQuery(w store.StatsWindow, p store.DeliveryStatsParams) (string, params) {
	return statsQuery(w, hookline.PrefixDelivery, func(ps *params) string {
		return `SELECT coalesce(sum(s.pending), 0)::bigint AS pending, coalesce(sum(s.succeeded), 0)::bigint AS succeeded,
				coalesce(sum(s.failed), 0)::bigint AS failed
			FROM delivery_slots s WHERE ` + slotScope(ps, p.Tenant, p.WebhookID) + ` AND s.slot >= r.lo AND s.slot < r.hi`
	}, func(ps *params) string {
		conds := []string{"true"}
		if p.WebhookID != "" {
			// Every status named: deliveries_webhook (webhook_id, status, id)
			// then holds all the scan needs.
			conds = append(conds, "d.webhook_id = "+ps.add(p.WebhookID)+" AND d.status IN ('pending', 'succeeded', 'failed', 'cancelled')")
		}
		if p.Tenant != "" {
			conds = append(conds, "d.tenant = "+ps.add(p.Tenant))
		}
		return `SELECT count(*) FILTER (WHERE d.status = 'pending') AS pending,
				count(*) FILTER (WHERE d.status = 'succeeded') AS succeeded,
				count(*) FILTER (WHERE d.status IN ('failed', 'cancelled')) AS failed
			FROM deliveries d
			WHERE ` + strings.Join(conds, " AND ") + ` AND d.id >= r.lo AND d.id < r.hi`
	})
}

// webhookHealthSQL finds, for each of the webhooks $1 that exist, its last
// attempt (one backward seek in attempts_webhook) and its counts of attempts
// from id $2 on: the rows up to id $3, the first of a slot, and the slots
// from $4, that one, on. One statement, so one snapshot.
const webhookHealthSQL = `SELECT w.id, l.started_at, l.status_code, l.error, c.ok + k.ok, c.n + k.n
FROM webhooks w
CROSS JOIN LATERAL (SELECT a.started_at, a.status_code, a.error FROM attempts a
	WHERE a.webhook_id = w.id ORDER BY a.id DESC LIMIT 1) l
CROSS JOIN LATERAL (SELECT count(*) FILTER (WHERE ` + attemptSucceeded + `) AS ok, count(*) AS n FROM attempts a
	WHERE a.webhook_id = w.id AND a.id >= $2 AND a.id < $3) c
CROSS JOIN LATERAL (SELECT coalesce(sum(s.succeeded), 0)::bigint AS ok, coalesce(sum(s.succeeded + s.failed), 0)::bigint AS n
	FROM attempt_slots s WHERE s.webhook_id = w.id AND s.slot >= $4) k
WHERE w.id = ANY($1)`

// WebhookHealth implements store.Store. Its statement is planned for its
// arguments each time (an unnamed statement): the generic plan of a cached
// one, not knowing how far back the slot bound reaches, can read the slots
// of every webhook, through attempt_slots_slot, for each webhook's (40 to
// 80 ms instead of 5 with 20 webhooks).
func (s *Store) WebhookHealth(ctx context.Context, ids []string, since time.Time) (map[string]store.WebhookHealth, error) {
	if len(ids) > store.MaxHealthIDs {
		return nil, fmt.Errorf("store: webhook health: %w", hookline.Invalid("ids", "at most %d webhooks, got %d", store.MaxHealthIDs, len(ids)))
	}
	out := map[string]store.WebhookHealth{}
	if len(ids) == 0 {
		return out, nil
	}
	from := max(since.UnixMilli(), 0)
	first := (from + store.SlotMS - 1) &^ (store.SlotMS - 1)
	rows, err := s.pool.Query(ctx, webhookHealthSQL, pgx.QueryExecModeCacheDescribe, ids, hookline.IDAt(hookline.PrefixAttempt, time.UnixMilli(from)),
		hookline.IDAt(hookline.PrefixAttempt, time.UnixMilli(first)), store.SlotAt(first))
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
