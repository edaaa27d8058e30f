package store

import (
	"cmp"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

// Slots are what both drivers keep counts by for the portal's charts and
// health (SQLite's migration 012, PostgreSQL's 013): a webhook's deliveries
// and attempts per slot of time, a slot being the ids made in the same
// 2^15 ms. A stats query adds up the whole slots of its buckets and reads
// rows only where a bucket's edge cuts a slot.

// SlotChars is how many characters of an id's time make its slot: 3 bits,
// then 5 per character, of the 48-bit millisecond clock, so 33 bits and a
// slot of SlotMS.
const (
	SlotChars = 7
	SlotMS    = 1 << 15
)

// SlotOf returns the slot of an id: the characters after its prefix's "_".
func SlotOf(id string) string {
	i := strings.IndexByte(id, '_') + 1
	if len(id) < i+SlotChars {
		return id[i:]
	}
	return id[i : i+SlotChars]
}

// SlotAt returns the slot of the ids made at ms (a multiple of SlotMS for a
// slot's first).
func SlotAt(ms int64) string {
	return SlotOf(hookline.IDAt("", time.UnixMilli(ms)))
}

// StatsRange is a part of a stats window within one bucket: its whole slots
// [Lo, Hi), counted in a slots table, or the ids made in [Lo, Hi), read
// from the rows. Lo and Hi are Unix milliseconds, multiples of SlotMS for
// slots.
type StatsRange struct {
	Bucket int
	Slots  bool
	Lo, Hi int64
}

// PlanStats cuts w into the ranges that add up to each bucket.
func PlanStats(w StatsWindow) (slots, rows []StatsRange) {
	for i := range w.Buckets {
		lo, hi := w.Bound(i), w.Bound(i+1)
		first, last := (lo+SlotMS-1)&^(SlotMS-1), hi&^(SlotMS-1) // the bucket's whole slots
		if first >= last {
			rows = append(rows, StatsRange{i, false, lo, hi})
			continue
		}
		slots = append(slots, StatsRange{i, true, first, last})
		if lo < first {
			rows = append(rows, StatsRange{i, false, lo, first})
		}
		if last < hi {
			rows = append(rows, StatsRange{i, false, last, hi})
		}
	}
	return slots, rows
}

// SlotKey names a (webhook, slot) of a slots table.
type SlotKey struct{ Webhook, Slot string }

// Compare orders keys by webhook, then slot: the order both drivers write
// (and so lock) slot rows in.
func (a SlotKey) Compare(b SlotKey) int {
	return cmp.Or(strings.Compare(a.Webhook, b.Webhook), strings.Compare(a.Slot, b.Slot))
}

// DeliveryDelta is a change to the delivery counts of a (webhook, slot).
// Created says it counts a new delivery, which may make the slot's first
// row; otherwise it changes a slot that has rows already, and one trimmed by
// Purge stays gone. Tenant is the deliveries' tenant, when the caller gave
// it.
type DeliveryDelta struct {
	Tenant                     string
	Created                    bool
	Pending, Succeeded, Failed int
}

// Zero reports whether the delta changes no count.
func (d *DeliveryDelta) Zero() bool { return d.Pending == 0 && d.Succeeded == 0 && d.Failed == 0 }

// column returns the counter that status counts in (cancelled counts as
// failed).
func (d *DeliveryDelta) column(status string) *int {
	switch status {
	case hookline.DeliveryPending:
		return &d.Pending
	case hookline.DeliverySucceeded:
		return &d.Succeeded
	default:
		return &d.Failed
	}
}

// AttemptDelta is what new attempts add to the attempt counts of a
// (webhook, slot).
type AttemptDelta struct {
	Tenant                 string
	Succeeded, Failed      int
	LatencySum, LatencyMax int64
}

// SlotDeltas are what a write transaction changes of the slot counts,
// gathered as it goes so that the driver writes each slot once, just before
// the commit. The zero value has none.
type SlotDeltas struct {
	Deliveries map[SlotKey]*DeliveryDelta
	Attempts   map[SlotKey]*AttemptDelta
}

// Delivery records that delivery id of webhook went from status from to
// status to: from is "" for a new delivery, to "" for one deleted. tenant
// may be "" except for a new delivery.
func (sd *SlotDeltas) Delivery(id, webhook, tenant, from, to string) {
	if from == to {
		return
	}
	if sd.Deliveries == nil {
		sd.Deliveries = map[SlotKey]*DeliveryDelta{}
	}
	k := SlotKey{webhook, SlotOf(id)}
	d := sd.Deliveries[k]
	if d == nil {
		d = &DeliveryDelta{}
		sd.Deliveries[k] = d
	}
	if tenant != "" {
		d.Tenant = tenant
	}
	if from == "" {
		d.Created = true
	} else {
		*d.column(from)--
	}
	if to != "" {
		*d.column(to)++
	}
}

// Attempt records a new attempt.
func (sd *SlotDeltas) Attempt(a *hookline.Attempt) {
	if sd.Attempts == nil {
		sd.Attempts = map[SlotKey]*AttemptDelta{}
	}
	k := SlotKey{a.WebhookID, SlotOf(a.ID)}
	d := sd.Attempts[k]
	if d == nil {
		d = &AttemptDelta{}
		sd.Attempts[k] = d
	}
	d.Tenant = a.Tenant
	if a.Succeeded() {
		d.Succeeded++
	} else {
		d.Failed++
	}
	d.LatencySum += a.DurationMS
	d.LatencyMax = max(d.LatencyMax, a.DurationMS)
}

// Clear forgets the deltas, once written.
func (sd *SlotDeltas) Clear() {
	clear(sd.Deliveries)
	clear(sd.Attempts)
}

// SortedSlotKeys returns the keys of m in Compare's order.
func SortedSlotKeys[V any](m map[SlotKey]V) []SlotKey {
	return slices.SortedFunc(maps.Keys(m), SlotKey.Compare)
}
