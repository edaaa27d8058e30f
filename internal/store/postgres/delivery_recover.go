package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

// recoverWhere selects the deliveries a recovery takes from
// deliveries_webhook (webhook_id, status, id) alone: $1 webhook, $2 status,
// $3 and $4 the window's ids.
const recoverWhere = `webhook_id = $1 AND status = $2 AND id >= $3 AND id < $4`

// recoverSQL makes the next batch of matching deliveries, of $7 at most,
// after id $5 pending and due at $6, as DeliveryRetry does. The rows are locked in id order, so
// concurrent recoveries wait for each other rather than deadlock, and one
// that waited sees the other's changes (the rows no longer match).
const recoverSQL = `WITH batch AS (
	SELECT id FROM deliveries WHERE ` + recoverWhere + ` AND id > $5
	ORDER BY id LIMIT $7
	FOR UPDATE
)
UPDATE deliveries d SET status = 'pending', next_attempt_at = $6, lease_token = NULL, updated_at = $6
FROM batch WHERE d.id = batch.id
RETURNING d.id, d.tenant`

// DeliveryRecover implements store.Store. Each batch is a transaction of its
// own that tells the other nodes of the work when it commits. Every delivery
// it returns went from p.Status to pending: the rows it locked and changed
// matched when they were locked.
func (s *Store) DeliveryRecover(ctx context.Context, p store.DeliveryRecoverParams) (int, error) {
	p, err := p.Check()
	if err != nil {
		return 0, fmt.Errorf("store: recover deliveries: %w", err)
	}
	args := []any{p.WebhookID, p.Status, hookline.IDAt(hookline.PrefixDelivery, p.Since), hookline.IDAt(hookline.PrefixDelivery, p.Until)}
	if p.DryRun {
		var n int
		if err := s.pool.QueryRow(ctx, "SELECT count(*) FROM deliveries WHERE "+recoverWhere, args...).Scan(&n); err != nil {
			return 0, fmt.Errorf("store: recover deliveries: %w", interpretError(err))
		}
		return n, nil
	}
	total, after := 0, ""
	for {
		var ids []string
		err := s.slotTx(ctx, func(tx txConn, sd *store.SlotDeltas) error {
			ids = ids[:0]
			rows, err := tx.Query(ctx, recoverSQL, append(args, after, ts(p.Now), store.RecoverBatch)...)
			if err != nil {
				return err
			}
			var id, tenant string
			if _, err := pgx.ForEachRow(rows, []any{&id, &tenant}, func() error {
				ids = append(ids, id)
				sd.Delivery(id, p.WebhookID, tenant, p.Status, hookline.DeliveryPending)
				return nil
			}); err != nil || len(ids) == 0 {
				return err
			}
			return notifyTx(ctx, tx, store.TopicWork, "")
		})
		if err != nil {
			return total, fmt.Errorf("store: recover deliveries: %w", err)
		}
		total += len(ids)
		if len(ids) < store.RecoverBatch {
			return total, nil
		}
		for _, id := range ids {
			after = max(after, id)
		}
	}
}
