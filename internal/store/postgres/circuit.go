package postgres

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookline/hookline/internal/store"
)

// DeliveryHold implements store.Store. The chunk is found on the index of a
// webhook's deliveries by status and id, from After on, so holding a backlog
// chunk by chunk reads each row once; rows another transaction has locked (a
// claim, say) are skipped, not waited for.
func (s *Store) DeliveryHold(ctx context.Context, p store.DeliveryHoldParams) (int, string, error) {
	rows, err := s.pool.Query(ctx, `UPDATE deliveries d SET next_attempt_at = d.created_at + $3::interval, lease_token = $4
		FROM (SELECT id FROM deliveries
			WHERE webhook_id = $1 AND status = 'pending' AND id > $2 AND NOT ordered AND attempts = 0
			  AND (lease_token IS NULL OR lease_token = $4 OR next_attempt_at <= $5)
			  AND next_attempt_at < created_at + $3::interval
			ORDER BY id LIMIT $6
			FOR UPDATE SKIP LOCKED) h
		WHERE d.id = h.id
		RETURNING d.id`, p.WebhookID, p.After, p.Span, store.DeferredToken, ts(p.Now), p.Limit)
	if err != nil {
		return 0, "", fmt.Errorf("store: hold deliveries: %w", interpretError(err))
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 0, "", fmt.Errorf("store: hold deliveries: %w", interpretError(err))
	}
	if len(ids) == 0 {
		return 0, "", nil
	}
	return len(ids), slices.Max(ids), nil
}

// WebhookCircuitOpen implements store.Store.
func (s *Store) WebhookCircuitOpen(ctx context.Context, id string, now, probeAt time.Time) error {
	return s.execOne(ctx, "open webhook circuit",
		"UPDATE webhooks SET held_since = coalesce(held_since, $1), probe_at = $2 WHERE id = $3", ts(now), ts(probeAt), id)
}

// WebhookCircuitClose implements store.Store.
func (s *Store) WebhookCircuitClose(ctx context.Context, id string) error {
	return s.execOne(ctx, "close webhook circuit",
		"UPDATE webhooks SET held_since = NULL, probe_at = NULL WHERE id = $1", id)
}

// WebhookProbesDue implements store.Store. Each row is updated once: a node
// that finds it locked by another's update re-reads it, sees the new probe
// time, and leaves it.
func (s *Store) WebhookProbesDue(ctx context.Context, p store.WebhookProbesParams) ([]string, error) {
	rows, err := s.pool.Query(ctx, `UPDATE webhooks
		SET probe_at = $1 + greatest($2::interval, least($3::interval, $1 - held_since))
		WHERE probe_at <= $1 AND active AND held_since IS NOT NULL
		RETURNING id`, ts(p.Now), p.MinWait, p.MaxWait)
	if err != nil {
		return nil, fmt.Errorf("store: due probes: %w", interpretError(err))
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("store: due probes: %w", interpretError(err))
	}
	slices.Sort(ids)
	return ids, nil
}

// DeliveryRecallEach implements store.Store.
func (s *Store) DeliveryRecallEach(ctx context.Context, now time.Time, perWebhook int) (int, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE deliveries d SET next_attempt_at = $1, lease_token = NULL
		FROM (SELECT id FROM (
			SELECT d.id, row_number() OVER (PARTITION BY d.webhook_id ORDER BY d.next_attempt_at) AS rn
			FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id
			WHERE d.status = 'pending' AND d.lease_token = $2 AND w.held_since IS NULL) f
			WHERE rn <= $3) r
		WHERE d.id = r.id AND d.lease_token = $2`, ts(now), store.DeferredToken, perWebhook)
	if err != nil {
		return 0, fmt.Errorf("store: recall deliveries: %w", interpretError(err))
	}
	return int(tag.RowsAffected()), nil
}
