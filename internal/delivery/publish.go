package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/profile"
	"github.com/hookline/hookline/internal/store"
)

// PublishParams is one event to publish. Data must already be valid, compact JSON.
type PublishParams struct {
	Tenant         string
	Type           string
	Data           json.RawMessage
	IdempotencyKey string
	// Timestamp is when the event happened; the publish time when zero.
	Timestamp time.Time
}

// Publish stores events and their deliveries to every matching active webhook of
// their tenant in one durable commit, then starts the first attempts at once.
// A repeated idempotency key returns the stored event and creates nothing.
func (e *Engine) Publish(ctx context.Context, ps []PublishParams) ([]store.EventInsertResult, error) {
	now := e.o.Now().UTC().Truncate(time.Millisecond) // the precision stored
	token := e.newToken()
	ins := make([]store.EventInsertParams, len(ps))
	reserved := 0
	var wakeAt time.Time // earliest due delivery not handed straight to a worker

	e.pushMu.RLock()
	defer e.pushMu.RUnlock()
	for i, p := range ps {
		whs, err := e.cache.active(ctx, p.Tenant)
		if err != nil {
			e.give(reserved)
			return nil, err
		}
		ts := p.Timestamp
		if ts.IsZero() {
			ts = now
		}
		ev := &hookline.Event{
			ID: hookline.NewID(hookline.PrefixEvent), Tenant: p.Tenant, Type: p.Type, Data: p.Data,
			IdempotencyKey: p.IdempotencyKey, CreatedAt: now,
			// Stored to the millisecond: the fast path's first attempt must send
			// the same body as the retries, which read the event back.
			Timestamp: ts.UTC().Truncate(time.Millisecond),
		}
		ins[i].Event = ev
		var checked []string // profiles checkEvent has done for this event
		for _, wh := range whs {
			if !wh.Matches(p.Type) {
				continue
			}
			prof, err := e.o.Profiles.Get(ctx, wh.Profile)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				e.give(reserved)
				return nil, err
			}
			if prof != nil {
				if checked, err = checkEvent(prof, ev, wh, now, checked); err != nil {
					e.give(reserved)
					return nil, err
				}
			}
			first := firstDelayOf(prof, e.o.Profiles) // prof is already loaded
			di := store.DeliveryInsert{
				ID: hookline.NewID(hookline.PrefixDelivery), WebhookID: wh.ID, Ordered: wh.Ordered,
				NextAttemptAt: now.Add(first),
			}
			// Fast path: a delivery due now that this process has room for is stored
			// already claimed and handed to a worker after the commit, without a
			// round trip through the claim query.
			if prof != nil && e.gates.holding(wh.ID) && retries(wh, prof) {
				// The webhook's circuit is open: stored held, as its backlog is.
				di.LeaseToken, di.NextAttemptAt = store.DeferredToken, now.Add(heldSpan(prof))
			} else if first == 0 && !wh.Ordered && !e.closed && e.take(1) == 1 {
				di.LeaseToken, di.NextAttemptAt = token, now.Add(e.o.Lease)
				reserved++
			} else if wakeAt.IsZero() || di.NextAttemptAt.Before(wakeAt) {
				wakeAt = di.NextAttemptAt
			}
			ins[i].Deliveries = append(ins[i].Deliveries, di)
		}
	}

	results, err := e.inserts.run(ctx, ins)
	if err != nil {
		e.give(reserved)
		return nil, err
	}
	for i, r := range results {
		if !r.Created {
			for _, di := range ins[i].Deliveries {
				if di.LeaseToken == token {
					e.give(1)
				}
			}
			continue
		}
		e.o.Metrics.EventsPublished.Inc()
		for k, d := range r.Deliveries {
			if ins[i].Deliveries[k].LeaseToken == store.DeferredToken {
				e.o.Metrics.DeliveriesHeld.Inc()
			}
			if ins[i].Deliveries[k].LeaseToken == token {
				e.jobs <- job{delivery: d, event: r.Event, token: token, leaseUntil: now.Add(e.o.Lease)}
			}
		}
	}
	if !wakeAt.IsZero() {
		e.dueAt(wakeAt)
		if !wakeAt.After(now) {
			e.broadcast(store.TopicWork, "") // another node may have room for them
		}
	}
	return results, nil
}

// dueAt makes the claim loop look for deliveries that are due at t.
func (e *Engine) dueAt(t time.Time) {
	if t.After(e.o.Now()) {
		e.scheduleWake(t)
		return
	}
	e.Notify()
}

// ErrTestBusy is returned by Test, at once, when too many test sends are in
// flight: maxTestSendsPerWebhook (2) to the webhook, or maxTestSends (16) in the
// process. A test send lasts at most its profile's timeout; the caller may try
// again after a few seconds.
var ErrTestBusy = errors.New("delivery: too many test sends in flight; try again shortly")

// TestEvent is what a test send carries: by default a webhook.test event with
// the profile's test data.
type TestEvent struct {
	Type string          // "": hookline.EventWebhookTest
	Data json.RawMessage // nil: the profile's test data
}

// Test sends a test event to wh now, synchronously, records the attempt in
// the webhook's logs and returns it as stored. The event is stored first, as
// an event of wh's tenant with no delivery, so that the attempt's event id
// leads to what was sent. It works on inactive webhooks too, so a fixed
// endpoint can be checked before it is turned back on. Test sends have their
// own small bound, apart from the workers and the webhook's limit: over it,
// Test returns ErrTestBusy at once and sends nothing.
func (e *Engine) Test(ctx context.Context, wh *hookline.Webhook, te TestEvent) (*hookline.Attempt, error) {
	prof, ev, done, err := e.testEvent(ctx, wh.ID, wh, te)
	if err != nil {
		return nil, err
	}
	defer done()
	now := ev.Timestamp
	if _, err := e.o.Store.EventInsert(ctx, []store.EventInsertParams{{Event: ev}}); err != nil {
		return nil, fmt.Errorf("delivery: store test event: %w", err)
	}
	a := &hookline.Attempt{
		ID: hookline.NewID(hookline.PrefixAttempt), WebhookID: wh.ID, EventID: ev.ID,
		EventType: ev.Type, Tenant: wh.Tenant, Number: 1, StartedAt: now,
	}
	// A test send belongs to no delivery (the attempt records none), but a profile
	// may put {delivery.id} in the body as the message's id, which receivers
	// deduplicate on (Products Manager's webhook_id): each test send gets a fresh one.
	e.send(ctx, prof, wh, ev, hookline.NewID(hookline.PrefixDelivery), a)
	if err := e.o.Store.AttemptInsert(ctx, a); err != nil {
		return a, fmt.Errorf("delivery: record test attempt: %w", err)
	}
	return a, nil
}

// testEvent takes a test-send slot of the bound named slot (ErrTestBusy,
// sending nothing, when none is free) and makes the event a test send to wh
// carries: te's type and data, or webhook.test with the profile's test data,
// timed now at the precision stored, so that the answer shows what the log
// will. done gives the slot back once the send is over.
func (e *Engine) testEvent(ctx context.Context, slot string, wh *hookline.Webhook, te TestEvent) (prof *profile.Profile, ev *hookline.Event, done func(), err error) {
	if !e.testSlots.take(slot) {
		return nil, nil, nil, ErrTestBusy
	}
	if prof, err = e.o.Profiles.Get(ctx, wh.Profile); err != nil {
		e.testSlots.give(slot)
		return nil, nil, nil, err
	}
	if te.Type == "" {
		te.Type = hookline.EventWebhookTest
	}
	if te.Data == nil {
		te.Data = prof.TestData()
	}
	now := e.o.Now().UTC().Truncate(time.Millisecond)
	ev = &hookline.Event{
		ID: hookline.NewID(hookline.PrefixEvent), Tenant: wh.Tenant, Type: te.Type,
		Data: te.Data, Timestamp: now, CreatedAt: now,
	}
	return prof, ev, func() { e.testSlots.give(slot) }, nil
}
