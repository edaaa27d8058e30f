package sqlite

import (
	"cmp"
	"context"
	"maps"
	"slices"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

// Slots are the counts per webhook and 2^15 ms of id time that stats add up
// (migration 012). A write transaction gathers what it changes in slotDeltas
// and writes each slot once, just before it commits: a batch of a hundred
// deliveries of one webhook costs a statement or two, not a hundred.

// slotKey names a row of a slots table.
type slotKey struct{ webhook, slot string }

// deliveryDelta is a change to a row of delivery_slots. tenant is set when a
// delivery was inserted, which may create the row; otherwise only an existing
// row changes (one trimmed by Purge stays gone).
type deliveryDelta struct {
	tenant                     string
	pending, succeeded, failed int
}

// attemptDelta is what new attempts add to a row of attempt_slots.
type attemptDelta struct {
	tenant                 string
	succeeded, failed      int
	latencySum, latencyMax int64
}

// slotDeltas are a transaction's changes to the slots tables; the zero
// value has none.
type slotDeltas struct {
	deliveries map[slotKey]*deliveryDelta
	attempts   map[slotKey]*attemptDelta
}

// column returns the counter of delivery_slots that status counts in.
func (d *deliveryDelta) column(status string) *int {
	switch status {
	case hookline.DeliveryPending:
		return &d.pending
	case hookline.DeliverySucceeded:
		return &d.succeeded
	default:
		return &d.failed
	}
}

// delivery records that delivery id of webhook went from status from to
// status to; from is "" for a new delivery (of tenant), to "" for one
// deleted.
func (sd *slotDeltas) delivery(id, webhook, tenant, from, to string) {
	if from == to {
		return
	}
	if sd.deliveries == nil {
		sd.deliveries = map[slotKey]*deliveryDelta{}
	}
	k := slotKey{webhook, store.SlotOf(id)}
	d := sd.deliveries[k]
	if d == nil {
		d = &deliveryDelta{}
		sd.deliveries[k] = d
	}
	if from == "" {
		d.tenant = tenant
	} else {
		*d.column(from)--
	}
	if to != "" {
		*d.column(to)++
	}
}

// attempt records a new attempt.
func (sd *slotDeltas) attempt(a *hookline.Attempt) {
	if sd.attempts == nil {
		sd.attempts = map[slotKey]*attemptDelta{}
	}
	k := slotKey{a.WebhookID, store.SlotOf(a.ID)}
	d := sd.attempts[k]
	if d == nil {
		d = &attemptDelta{}
		sd.attempts[k] = d
	}
	d.tenant = a.Tenant
	if a.Succeeded() {
		d.succeeded++
	} else {
		d.failed++
	}
	d.latencySum += a.DurationMS
	d.latencyMax = max(d.latencyMax, a.DurationMS)
}

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
func (sd *slotDeltas) flush(ctx context.Context, tx wtx) error {
	byKey := func(a, b slotKey) int { return cmp.Or(cmp.Compare(a.webhook, b.webhook), cmp.Compare(a.slot, b.slot)) }
	for _, k := range slices.SortedFunc(maps.Keys(sd.deliveries), byKey) {
		d := sd.deliveries[k]
		var err error
		switch {
		case d.pending == 0 && d.succeeded == 0 && d.failed == 0:
		case d.tenant != "":
			_, err = tx.execHot(ctx, upsertDeliverySlotSQL, k.webhook, k.slot, d.tenant, d.pending, d.succeeded, d.failed)
		default:
			_, err = tx.execHot(ctx, updateDeliverySlotSQL, d.pending, d.succeeded, d.failed, k.webhook, k.slot)
		}
		if err != nil {
			return err
		}
	}
	for _, k := range slices.SortedFunc(maps.Keys(sd.attempts), byKey) {
		d := sd.attempts[k]
		if _, err := tx.execHot(ctx, upsertAttemptSlotSQL, k.webhook, k.slot, d.tenant, d.succeeded, d.failed,
			d.latencySum, d.latencyMax); err != nil {
			return err
		}
	}
	clear(sd.deliveries)
	clear(sd.attempts)
	return nil
}
