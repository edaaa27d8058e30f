package sqlite

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/hookline/hookline/internal/store"
)

// DeliveryHold implements store.Store. The chunk is found on the index of a
// webhook's deliveries by status and id, from After on, so holding a backlog
// chunk by chunk reads each row once.
func (s *Store) DeliveryHold(ctx context.Context, p store.DeliveryHoldParams) (int, string, error) {
	var ids []string
	err := s.tx(ctx, func(tx wtx) (err error) {
		ids, err = queryIDs(ctx, tx, `UPDATE deliveries SET next_attempt_at = created_at + ?3, lease_token = ?4
			WHERE id IN (SELECT id FROM deliveries
				WHERE webhook_id = ?1 AND status = 'pending' AND id > ?2 AND ordered = 0 AND attempts = 0
				  AND (lease_token IS NULL OR lease_token = ?4 OR next_attempt_at <= ?5)
				  AND next_attempt_at < created_at + ?3
				ORDER BY id LIMIT ?6)
			RETURNING id`, p.WebhookID, p.After, p.Span.Milliseconds(), store.DeferredToken, ms(p.Now), p.Limit)
		return err
	})
	if err != nil {
		return 0, "", fmt.Errorf("store: hold deliveries: %w", err)
	}
	if len(ids) == 0 {
		return 0, "", nil
	}
	return len(ids), slices.Max(ids), nil
}

// WebhookCircuitOpen implements store.Store.
func (s *Store) WebhookCircuitOpen(ctx context.Context, id string, now, probeAt time.Time) error {
	return s.execOne(ctx, "open webhook circuit",
		"UPDATE webhooks SET held_since = coalesce(held_since, ?), probe_at = ? WHERE id = ?", ms(now), ms(probeAt), id)
}

// WebhookCircuitClose implements store.Store.
func (s *Store) WebhookCircuitClose(ctx context.Context, id string) error {
	return s.execOne(ctx, "close webhook circuit",
		"UPDATE webhooks SET held_since = NULL, probe_at = NULL WHERE id = ?", id)
}

// WebhookProbesDue implements store.Store. The engine asks every second: a
// read on a reader connection says whether any probe is due, so that an idle
// server takes no write lock for it.
func (s *Store) WebhookProbesDue(ctx context.Context, p store.WebhookProbesParams) ([]string, error) {
	var due int
	err := s.r.QueryRowContext(ctx, "SELECT count(*) FROM (SELECT 1 FROM webhooks WHERE probe_at <= ? AND active = 1 AND held_since IS NOT NULL LIMIT 1)", ms(p.Now)).Scan(&due)
	if err != nil {
		return nil, fmt.Errorf("store: due probes: %w", interpretError(err))
	}
	if due == 0 {
		return nil, nil
	}
	var ids []string
	err = s.tx(ctx, func(tx wtx) (err error) {
		ids, err = queryIDs(ctx, tx, `UPDATE webhooks
			SET probe_at = ?1 + max(?2, min(?3, ?1 - held_since))
			WHERE probe_at <= ?1 AND active = 1 AND held_since IS NOT NULL
			RETURNING id`, ms(p.Now), p.MinWait.Milliseconds(), p.MaxWait.Milliseconds())
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: due probes: %w", err)
	}
	slices.Sort(ids)
	return ids, nil
}

// queryIDs runs a statement that returns one text column, ids, and reads them.
func queryIDs(ctx context.Context, db querier, q string, args ...any) ([]string, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// DeliveryRecallEach implements store.Store.
func (s *Store) DeliveryRecallEach(ctx context.Context, now time.Time, perWebhook int) (int, error) {
	var n int64
	err := s.tx(ctx, func(tx wtx) error {
		r, err := tx.ExecContext(ctx, `UPDATE deliveries SET next_attempt_at = ?1, lease_token = NULL
			WHERE id IN (SELECT id FROM (
				SELECT d.id, row_number() OVER (PARTITION BY d.webhook_id ORDER BY d.next_attempt_at) AS rn
				FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id
				WHERE d.status = 'pending' AND d.lease_token = ?2 AND w.held_since IS NULL)
			WHERE rn <= ?3)`, ms(now), store.DeferredToken, perWebhook)
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
