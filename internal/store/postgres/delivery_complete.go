package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

// completeSQL applies one completion if the lease token still matches: the
// delivery's new state, its attempt (when there is one) and the webhook's
// success record or failure streaks (of deliveries; of attempts, retried or
// not), in one statement. A stale completion writes nothing, not even its
// attempt. It returns whether it applied, the delivery's tenant (for its slot
// counts) and, after a failure, the webhook's new streaks, the time its
// streak is counted from, and whether it is active ($1 status, $2
// attempt number or NULL, $3 next attempt or NULL, $4 HTTP status or NULL, $5
// last error, $6 now, $7 delivery, $8 token, $9 webhook; the attempt's other
// columns $10 id or NULL when there is none, $11 event, $12 event type, $13
// tenant, $14 start, $15 duration, $16 request headers, $17 response headers,
// $18 response body).
const completeSQL = `WITH d AS (
	UPDATE deliveries SET status = $1, attempts = coalesce($2, attempts), next_attempt_at = $3,
		lease_token = NULL, last_status = coalesce($4, last_status), last_error = $5, updated_at = $6
	WHERE id = $7 AND lease_token = $8
	RETURNING id, tenant
), a AS (
	INSERT INTO attempts (` + attemptColumns + `)
	SELECT $10, d.id, $9, $11, $12, $13, $2, $14, $15, $4, $16, $17, $18, $5 FROM d WHERE $10::text IS NOT NULL
), w AS (
	UPDATE webhooks SET
		failed_streak = CASE WHEN $1 = 'succeeded' THEN 0 WHEN $1 = 'failed' THEN failed_streak + 1 ELSE failed_streak END,
		failed_attempts = CASE WHEN $1 = 'succeeded' THEN 0 WHEN $10::text IS NOT NULL THEN failed_attempts + 1 ELSE failed_attempts END,
		last_success_at = CASE WHEN $1 = 'succeeded' THEN $6 ELSE last_success_at END
	WHERE id = $9 AND ($1 IN ('succeeded', 'failed') OR $10::text IS NOT NULL) AND EXISTS (SELECT FROM d)
	RETURNING failed_streak, failed_attempts, coalesce(last_success_at, created_at) AS since, active
)
SELECT EXISTS (SELECT FROM d), (SELECT tenant FROM d), w.failed_streak, w.failed_attempts, w.since, w.active
FROM (VALUES (1)) AS one LEFT JOIN w ON true`

// DeliveryComplete implements store.Store. The batch is one transaction of at most
// three pipelined round trips: the attempts and completions; the webhooks to turn
// off, if any; the operational events, if any. Completions are applied in
// webhook order (keeping the batch's order within a webhook), so two nodes
// completing batches at once lock webhooks in the same order and cannot
// deadlock. The slot counts go with the commit, which does not wait for the
// disk (relaxedSlotTx).
func (s *Store) DeliveryComplete(ctx context.Context, ps []store.DeliveryCompleteParams) ([]store.DeliveryCompleteResult, error) {
	out := make([]store.DeliveryCompleteResult, len(ps))
	err := s.relaxedSlotTx(ctx, func(tx txConn, sd *store.SlotDeltas) error {
		clear(out)
		return completeDeliveries(ctx, tx, sd, ps, out)
	})
	if err != nil {
		return nil, fmt.Errorf("store: complete deliveries: %w", err)
	}
	return out, nil
}

func completeDeliveries(ctx context.Context, tx txConn, sd *store.SlotDeltas, ps []store.DeliveryCompleteParams, out []store.DeliveryCompleteResult) error {
	order := make([]int, len(ps))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return strings.Compare(ps[a].WebhookID, ps[b].WebhookID) })

	b := &pgx.Batch{}
	for _, i := range order {
		p := ps[i]
		var number, status any // NULL keeps the column as it is
		lastError := p.Error
		attempt := make([]any, 9) // NULLs: no attempt
		if a := p.Attempt; a != nil {
			number, status, lastError = a.Number, a.StatusCode, a.Error
			attempt = []any{a.ID, a.EventID, a.EventType, a.Tenant, ts(a.StartedAt), a.DurationMS,
				store.EncodeJSON(a.RequestHeaders), store.EncodeJSON(a.ResponseHeaders), []byte(a.ResponseBody)}
		}
		var next any
		if p.Status == hookline.DeliveryPending {
			next = ts(p.NextAttemptAt)
		}
		b.Queue(completeSQL, append([]any{p.Status, number, next, status, lastError, ts(p.Now), p.ID, p.LeaseToken, p.WebhookID}, attempt...)...)
	}
	br := tx.SendBatch(ctx, b)
	disable := make([]string, len(ps)) // the reason to turn each completion's webhook off
	for _, i := range order {
		p := ps[i]
		var (
			applied bool
			tenant  *string
			streak  *int
			tries   *int
			since   *time.Time
			active  *bool
		)
		if err := br.QueryRow().Scan(&applied, &tenant, &streak, &tries, &since, &active); err != nil {
			br.Close()
			return err
		}
		if !applied {
			continue
		}
		out[i].Applied = true
		// A lease is only ever held on a pending delivery.
		sd.Delivery(p.ID, p.WebhookID, *tenant, hookline.DeliveryPending, p.Status)
		if p.Attempt != nil {
			sd.Attempt(p.Attempt)
		}
		disable[i] = p.DisableReason
		rule := p.AutoDisable
		switch {
		case streak == nil || !*active || disable[i] != "" || p.Status == hookline.DeliverySucceeded:
		case p.Status == hookline.DeliveryFailed && rule.Failures > 0 && *streak >= rule.Failures && !since.After(p.Now.Add(-rule.After)):
			disable[i] = rule.Reason(*streak)
		case p.Attempt != nil && rule.Attempts > 0 && *tries >= rule.Attempts:
			disable[i] = rule.AttemptsReason(*tries)
		}
	}
	if err := br.Close(); err != nil {
		return err
	}
	if err := disableWebhooks(ctx, tx, ps, order, disable, out); err != nil {
		return err
	}
	return storeOps(ctx, tx, sd, ps, order, out)
}

// disableWebhooks turns off the webhooks completions asked to, in order; only the
// first completion to turn a webhook off reports it.
func disableWebhooks(ctx context.Context, tx txConn, ps []store.DeliveryCompleteParams, order []int, reason []string, out []store.DeliveryCompleteResult) error {
	b := &pgx.Batch{}
	var asked []int
	for _, i := range order {
		if reason[i] == "" {
			continue
		}
		asked = append(asked, i)
		b.Queue("UPDATE webhooks SET active = false, disabled_reason = $1, updated_at = $2 WHERE id = $3 AND active",
			reason[i], ts(ps[i].Now), ps[i].WebhookID)
	}
	if len(asked) == 0 {
		return nil
	}
	br := tx.SendBatch(ctx, b)
	for _, i := range asked {
		tag, err := br.Exec()
		if err != nil {
			br.Close()
			return err
		}
		if tag.RowsAffected() > 0 {
			out[i].WebhookDisabled, out[i].DisabledReason = true, reason[i]
		}
	}
	return br.Close()
}

// storeOps stores the operational events of the completions that applied: the
// failure, and the webhook turned off. Other nodes are told of their deliveries.
func storeOps(ctx context.Context, tx txConn, sd *store.SlotDeltas, ps []store.DeliveryCompleteParams, order []int, out []store.DeliveryCompleteResult) error {
	var events []store.EventInsertParams
	var owner []int // index in ps of each event
	for _, i := range order {
		p, res := ps[i], out[i]
		if p.Ops == nil || !res.Applied {
			continue
		}
		if p.Status == hookline.DeliveryFailed && p.Ops.Failed != nil {
			events, owner = append(events, *p.Ops.Failed), append(owner, i)
		}
		if res.WebhookDisabled && p.Ops.Disabled != nil {
			ev := *p.Ops.Disabled.Event
			if p.Ops.DisabledData != nil {
				ev.Data = p.Ops.DisabledData(res.DisabledReason)
			}
			events = append(events, store.EventInsertParams{Event: &ev, Deliveries: p.Ops.Disabled.Deliveries})
			owner = append(owner, i)
		}
	}
	if len(events) == 0 {
		return nil
	}
	results, err := insertEvents(ctx, tx, sd, events)
	if err != nil {
		return err
	}
	work := false
	for k, r := range results {
		out[owner[k]].Ops = append(out[owner[k]].Ops, r)
		for _, d := range events[k].Deliveries {
			work = work || r.Created && d.LeaseToken == ""
		}
	}
	if work {
		return notifyTx(ctx, tx, store.TopicWork, "")
	}
	return nil
}
