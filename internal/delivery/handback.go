package delivery

import (
	"context"
	"fmt"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

// A job the gate does not run is handed back to the store: deferred (due
// when a slot should be free) or held (its webhook's circuit is open). A
// backlog of one webhook can hand back thousands of jobs a second, so the
// workers do not write them: they queue them (handBack) and go on at once to
// the next job, which may be another webhook's fresh delivery, and one
// goroutine writes them in batches, one commit each. It leaves the store as
// much time as each batch took before the next, so that hand-backs take at
// most about half of it and other webhooks' commits are not kept waiting
// behind a backlog. Each job keeps its queue slot until it is written, so
// the queue bounds the jobs waiting here.

// handback is one job to hand back: held, or deferred until until.
type handback struct {
	job   job
	until time.Time
	hold  bool
}

// maxHandbackBatch bounds the jobs one batch writes.
const maxHandbackBatch = 1000

// deferJob hands a job back to the store, due at until, with no attempt
// counted: marked deferred, it is claimed again then, or sooner if its
// webhook recalls it.
func (e *Engine) deferJob(j job, until time.Time) { e.handbacks <- handback{job: j, until: until} }

// holdJob hands a job of a webhook whose circuit is open back to the store,
// until it expires; one already past that fails, without an attempt.
func (e *Engine) holdJob(j job) { e.handbacks <- handback{job: j, hold: true} }

// handbackLoop writes queued hand-backs until the channel is closed and empty.
func (e *Engine) handbackLoop() {
	defer close(e.handbacksDone)
	for h := range e.handbacks {
		batch := []handback{h}
	more:
		for len(batch) < maxHandbackBatch {
			select {
			case h, ok := <-e.handbacks:
				if !ok {
					break more
				}
				batch = append(batch, h)
			default:
				break more
			}
		}
		began := time.Now()
		e.writeHandbacks(batch)
		if !e.stopping.Load() {
			time.Sleep(time.Since(began))
		}
	}
}

// writeHandbacks writes a batch of hand-backs in one commit (those that
// fail or are cancelled instead, apart) and gives their queue slots back.
func (e *Engine) writeHandbacks(batch []handback) {
	defer e.give(len(batch))
	defer e.deferralsWritten(batch)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	now := e.o.Now()
	var rs []store.DeliveryRenewal
	var wakes []time.Time
	spans := map[string]*time.Duration{} // per webhook: how long a job may be held; nil if it is not to be held
	for _, h := range batch {
		until := h.until
		if !h.hold && h.job.delivery.Attempts == 0 && e.gates.holding(h.job.delivery.WebhookID) {
			// Deferred before the webhook's circuit opened, and so not held
			// with its backlog (its lease was live): held now.
			h.hold = true
		}
		if h.hold {
			id := h.job.delivery.WebhookID
			span, seen := spans[id]
			if !seen {
				span = e.holdSpan(ctx, h.job)
				spans[id] = span
			}
			if span == nil {
				continue // cancelled, or released, by holdSpan
			}
			until = h.job.delivery.CreatedAt.Add(*span)
			if !now.Before(until) {
				e.expire(ctx, h.job, *span)
				continue
			}
			e.o.Metrics.DeliveriesHeld.Inc()
		} else {
			e.o.Metrics.DeliveriesDeferred.Inc()
			wakes = append(wakes, until)
		}
		rs = append(rs, store.DeliveryRenewal{
			DeliveryLease: store.DeliveryLease{ID: h.job.delivery.ID, LeaseToken: h.job.token}, Until: until, Defer: true,
		})
	}
	if len(rs) == 0 {
		return
	}
	if _, err := e.renewals.run(ctx, rs); err != nil {
		e.log.Error("handing deliveries back to the store failed; they will be attempted when their leases end", "count", len(rs), "err", err)
		return
	}
	for _, t := range wakes {
		e.scheduleWake(t)
	}
}

// deferralsWritten tells the gates that the deferrals of a batch are in the
// store (or will not be), and makes the recalls that missed them while they
// were on their way. A deferral is a hand-back queued without hold (the gate
// counted it when it deferred the job); writeHandbacks turning one into a
// hold changes only its own copy, so batch still says how each was queued.
func (e *Engine) deferralsWritten(batch []handback) {
	deferrals := map[string]int{}
	for _, h := range batch {
		if !h.hold {
			deferrals[h.job.delivery.WebhookID]++
		}
	}
	for id, n := range deferrals {
		if recall, gen := e.gates.deferWritten(id, n); recall > 0 {
			e.recall(id, recall, gen)
		}
	}
}

// holdSpan returns how long the jobs of a held job's webhook may be held.
// When the webhook was deleted or disabled meanwhile, it cancels this job, as
// an attempt would, and returns nil; when it cannot be loaded, it releases it.
// Only the first held job of a webhook in a batch comes here: the others of
// a deleted or disabled webhook are left to their leases (nil is remembered).
func (e *Engine) holdSpan(ctx context.Context, j job) *time.Duration {
	d := &j.delivery
	wh := e.activeWebhook(ctx, j, store.DeliveryCompleteParams{
		DeliveryLease: store.DeliveryLease{ID: d.ID, LeaseToken: j.token}, WebhookID: d.WebhookID, Now: e.o.Now(),
	})
	if wh == nil {
		return nil
	}
	span := heldSpan(e.profileOf(ctx, wh))
	return &span
}

// expire fails a held job whose retry schedule, span long, is over, without
// an attempt.
func (e *Engine) expire(ctx context.Context, j job, span time.Duration) {
	d := &j.delivery
	wh, err := e.cache.get(ctx, d.WebhookID)
	if err != nil {
		e.keepForReleaseNow(d.ID, j.token)
		return
	}
	pol := e.profileOf(ctx, wh).Policy
	done := store.DeliveryCompleteParams{
		DeliveryLease: store.DeliveryLease{ID: d.ID, LeaseToken: j.token}, WebhookID: d.WebhookID, Now: e.o.Now(),
		Status:      hookline.DeliveryFailed,
		Error:       fmt.Sprintf("not attempted again: its endpoint kept failing for as long as the retry schedule lasts (%s)", span),
		AutoDisable: autoDisableRule(pol.AutoDisable),
	}
	done.Ops = e.opsEvents(&done, d, wh)
	e.complete(done, d, wh)
}
