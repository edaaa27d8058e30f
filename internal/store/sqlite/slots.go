package sqlite

import (
	"context"

	"github.com/hookline/hookline/internal/store"
)

// Slots are the counts per webhook and 2^15 ms of id time that stats add up
// (migration 012). A write transaction gathers what it changes in
// store.SlotDeltas and writes each slot once, just before it commits
// (flushSlots): a batch of a hundred deliveries of one webhook costs a
// statement or two, not a hundred.

const (
	upsertDeliverySlotSQL = `INSERT INTO delivery_slots (webhook_id, slot, tenant, pending, succeeded, failed)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (webhook_id, slot) DO UPDATE SET pending = pending + excluded.pending,
			succeeded = succeeded + excluded.succeeded, failed = failed + excluded.failed`
	updateDeliverySlotSQL = `UPDATE delivery_slots SET pending = pending + ?, succeeded = succeeded + ?, failed = failed + ?
		WHERE webhook_id = ? AND slot = ?`
	// An attempt of a webhook deleted meanwhile (a test) is not counted: the
	// webhook's slots went with it.
	upsertAttemptSlotSQL = `INSERT INTO attempt_slots (webhook_id, slot, tenant, succeeded, failed, latency_sum, latency_max)
		SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7 WHERE EXISTS (SELECT 1 FROM webhooks WHERE id = ?1)
		ON CONFLICT (webhook_id, slot) DO UPDATE SET succeeded = succeeded + excluded.succeeded,
			failed = failed + excluded.failed, latency_sum = latency_sum + excluded.latency_sum,
			latency_max = max(latency_max, excluded.latency_max)`
)

// flush writes the deltas, in the order of their keys, and forgets them.
func flushSlots(ctx context.Context, tx wtx, sd *store.SlotDeltas) error {
	for _, k := range store.SortedSlotKeys(sd.Deliveries) {
		d := sd.Deliveries[k]
		var err error
		switch {
		case d.Zero():
		case d.Created:
			_, err = tx.execHot(ctx, upsertDeliverySlotSQL, k.Webhook, k.Slot, d.Tenant, d.Pending, d.Succeeded, d.Failed)
		default:
			_, err = tx.execHot(ctx, updateDeliverySlotSQL, d.Pending, d.Succeeded, d.Failed, k.Webhook, k.Slot)
		}
		if err != nil {
			return err
		}
	}
	for _, k := range store.SortedSlotKeys(sd.Attempts) {
		d := sd.Attempts[k]
		if _, err := tx.execHot(ctx, upsertAttemptSlotSQL, k.Webhook, k.Slot, d.Tenant, d.Succeeded, d.Failed,
			d.LatencySum, d.LatencyMax); err != nil {
			return err
		}
	}
	sd.Clear()
	return nil
}
