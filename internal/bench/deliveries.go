package bench

import (
	"sync/atomic"
	"time"
)

// clock gives monotonic instants as nanoseconds since the start of the run, so
// that they fit in the atomic int64 arrays below; 0 means "never".
type clock struct{ t0 time.Time }

func newClock() clock { return clock{t0: time.Now()} }

// now is never 0: the run started before any instant is taken.
func (c clock) now() int64 { return max(int64(time.Since(c.t0)), 1) }

// deliveries records, for every delivery the run may cause (one per event and
// webhook it goes to), the instant of its first receipt answered 2xx. A delivery
// is identified by (webhook k, event seq): with fan-out every event goes to every
// webhook, otherwise event seq goes to webhook seq mod webhooks only.
type deliveries struct {
	webhooks int
	fanout   bool
	events   int
	receipts []atomic.Int64 // index: seq*webhooks+k with fan-out, else seq

	received   atomic.Int64 // first receipts
	duplicates atomic.Int64 // further 2xx-answered receipts of a delivery already received
	unexpected atomic.Int64 // receipts of a (k, seq) the run never sent to k
	first      atomic.Int64 // instant of the first receipt
	last       atomic.Int64 // instant of the last first receipt
}

func newDeliveries(webhooks, events int, fanout bool) *deliveries {
	n := events
	if fanout {
		n = events * webhooks
	}
	return &deliveries{webhooks: webhooks, fanout: fanout, events: events, receipts: make([]atomic.Int64, n)}
}

// index returns where delivery (k, seq) is kept, and false when the run never
// sends event seq to webhook k.
func (d *deliveries) index(k, seq int) (int, bool) {
	switch {
	case k < 0 || k >= d.webhooks || seq < 0 || seq >= d.events:
		return 0, false
	case d.fanout:
		return seq*d.webhooks + k, true
	case seq%d.webhooks != k:
		return 0, false
	}
	return seq, true
}

// webhookOf is the webhook of the delivery kept at index i, and its event.
func (d *deliveries) at(i int) (k, seq int) {
	if d.fanout {
		return i % d.webhooks, i / d.webhooks
	}
	return i % d.webhooks, i
}

// record notes a 2xx-answered receipt of delivery (k, seq) at instant t.
func (d *deliveries) record(k, seq int, t int64) {
	i, ok := d.index(k, seq)
	if !ok {
		d.unexpected.Add(1)
		return
	}
	if !d.receipts[i].CompareAndSwap(0, t) {
		d.duplicates.Add(1)
		return
	}
	d.received.Add(1)
	d.first.CompareAndSwap(0, t)
	// Receipts are recorded in nearly increasing order: this settles at once in
	// practice, and at worst after one pass per concurrent receipt.
	for range 1000 {
		last := d.last.Load()
		if t <= last || d.last.CompareAndSwap(last, t) {
			break
		}
	}
	for range 1000 {
		first := d.first.Load()
		if t >= first || d.first.CompareAndSwap(first, t) {
			break
		}
	}
}
