package store

import (
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
