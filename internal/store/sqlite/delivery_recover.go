package sqlite

import (
	"context"
	"fmt"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

// recoverWhere selects the deliveries a recovery takes from
// deliveries_webhook (webhook_id, status, id) alone: ?1 webhook, ?2 status,
// ?3 and ?4 the window's ids.
const recoverWhere = `webhook_id = ?1 AND status = ?2 AND id >= ?3 AND id < ?4`

// DeliveryRecover implements store.Store. Each batch is a write transaction
// of its own, taking the next store.RecoverBatch matching deliveries by id,
// so that the single writer serves others between batches.
func (s *Store) DeliveryRecover(ctx context.Context, p store.DeliveryRecoverParams) (int, error) {
	p, err := p.Check()
	if err != nil {
		return 0, fmt.Errorf("store: recover deliveries: %w", err)
	}
	args := []any{p.WebhookID, p.Status, hookline.IDAt(hookline.PrefixDelivery, p.Since), hookline.IDAt(hookline.PrefixDelivery, p.Until)}
	if p.DryRun {
		var n int
		if err := s.r.QueryRowContext(ctx, "SELECT count(*) FROM deliveries WHERE "+recoverWhere, args...).Scan(&n); err != nil {
			return 0, fmt.Errorf("store: recover deliveries: %w", interpretError(err))
		}
		return n, nil
	}
	// As DeliveryRetry: pending, due now, no lease.
	q := `UPDATE deliveries SET status = 'pending', next_attempt_at = ?5, lease_token = NULL, updated_at = ?5
		WHERE id IN (SELECT id FROM deliveries WHERE ` + recoverWhere + ` AND id > ?6 ORDER BY id LIMIT ?7)
		RETURNING id`
	total, after := 0, ""
	for {
		n := 0
		err := s.tx(ctx, func(tx wtx) error {
			rows, err := tx.QueryContext(ctx, q, append(args, ms(p.Now), after, store.RecoverBatch)...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var id string
				if err := rows.Scan(&id); err != nil {
					return err
				}
				n++
				after = max(after, id)
				tx.slots.Delivery(id, p.WebhookID, "", p.Status, hookline.DeliveryPending)
			}
			return rows.Err()
		})
		if err != nil {
			return total, fmt.Errorf("store: recover deliveries: %w", err)
		}
		total += n
		if n < store.RecoverBatch {
			return total, nil
		}
	}
}
