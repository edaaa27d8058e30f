package delivery

import (
	"context"
	"errors"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/profile"
	"github.com/hookline/hookline/internal/store"
)

// A webhook's circuit opens when its endpoint keeps failing (gates.done). Its
// backlog is then held: every pending delivery not attempted yet is deferred,
// in bulk, until it would expire, and fresh ones are stored that way. A held
// delivery costs nothing while it waits: no claim sees it, no attempt is
// made, nothing is written. Deliveries attempted before keep their own retry
// schedule, as the profile promises. One held delivery at a time is tried as
// a probe, when the store says a probe is due (WebhookProbesDue: 5 s after
// the circuit opened, then further apart as the outage lasts, up to a
// minute), so the webhook's state survives restarts and is shared by every
// node; a probe that fails goes on with its own schedule. The first answer
// closes the circuit, and the held deliveries are recalled, earliest first,
// as the webhook's slots free: the backlog drains at the endpoint's pace. A
// delivery held until its retry schedule would have ended fails then,
// without an attempt.

// holdChunk is how many deliveries one statement of a bulk hold defers: a
// short write, so that other commits are not kept waiting behind a large
// backlog.
const holdChunk = 1000

// heldSpan is how long a delivery may be held: the time its retry schedule
// covers, the sum of its delays.
func heldSpan(prof *profile.Profile) time.Duration {
	var span time.Duration
	for _, d := range prof.Policy.RetrySchedule {
		span += d
	}
	return span
}

// retries says whether a webhook's deliveries are retried, which the circuit
// is for: ordered webhooks hold their backlog behind their head already, and
// a profile whose schedule has one attempt has no backlog to hold.
func retries(wh *hookline.Webhook, prof *profile.Profile) bool {
	return !wh.Ordered && len(prof.Policy.RetrySchedule) > 1
}

// profileOf returns a webhook's profile, or the built-in one if it cannot be
// loaded (the attempt then says why).
func (e *Engine) profileOf(ctx context.Context, wh *hookline.Webhook) *profile.Profile {
	prof, err := e.o.Profiles.Get(ctx, wh.Profile)
	if err != nil {
		prof, _ = e.o.Profiles.Fixed(profile.Standard)
	}
	return prof
}

// openCircuit records that a webhook's circuit opened and holds its backlog
// in the store, chunk by chunk, until all of it is held or the circuit
// closes again.
func (e *Engine) openCircuit(webhookID string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	now := e.o.Now()
	e.o.Metrics.Circuits.WithLabelValues("opened").Inc()
	if err := e.o.Store.WebhookCircuitOpen(ctx, webhookID, now, now.Add(probeMinWait)); err != nil {
		// Without it, no node probes on the store's schedule: this one tries a
		// job that comes after probeMaxWait.
		e.log.Error("recording an open circuit failed", "webhook", webhookID, "err", err)
	}
	wh, err := e.cache.get(ctx, webhookID)
	if err != nil {
		return
	}
	span := heldSpan(e.profileOf(ctx, wh))
	held, after := 0, ""
	for e.gates.holding(webhookID) && !e.stopping.Load() {
		n, last, err := e.o.Store.DeliveryHold(ctx, store.DeliveryHoldParams{
			WebhookID: webhookID, After: after, Span: span, Limit: holdChunk, Now: e.o.Now(),
		})
		if err != nil {
			e.log.Error("holding a failing webhook's backlog failed; its deliveries are held as they come", "webhook", webhookID, "err", err)
			break
		}
		held, after = held+n, last
		if n < holdChunk {
			break
		}
	}
	e.o.Metrics.DeliveriesHeld.Add(float64(held))
	e.log.Warn("a webhook's endpoint keeps failing: its deliveries are held, and one is tried at a time until it answers",
		"webhook", webhookID, "tenant", wh.Tenant, "held", held)
}

// closeCircuit records that a webhook's endpoint answers again; its held
// deliveries come back through the gate's recalls.
func (e *Engine) closeCircuit(webhookID string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	e.o.Metrics.Circuits.WithLabelValues("closed").Inc()
	if err := e.o.Store.WebhookCircuitClose(ctx, webhookID); err != nil && !errors.Is(err, store.ErrNotFound) {
		e.log.Error("recording a closed circuit failed; probes go on until one answers", "webhook", webhookID, "err", err)
		return
	}
	e.log.Info("a webhook's endpoint answers again: its held deliveries resume", "webhook", webhookID)
}

// probeDue asks the store which webhooks are due for a probe, and recalls
// one held delivery of each for it.
func (e *Engine) probeDue(ctx context.Context) {
	now := e.o.Now()
	ids, err := e.o.Store.WebhookProbesDue(ctx, store.WebhookProbesParams{Now: now, MinWait: probeMinWait, MaxWait: probeMaxWait})
	if err != nil {
		if ctx.Err() == nil {
			e.log.Error(msgClaimFailed, "err", err)
		}
		return
	}
	for _, id := range ids {
		e.recall(id, 1, e.gates.probe(id, now))
	}
}
