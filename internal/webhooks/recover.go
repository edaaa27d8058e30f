package webhooks

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

// ErrDisabled refuses to queue deliveries to a disabled webhook: the engine
// would cancel them at once. Enabling the webhook first is the caller's fix.
var ErrDisabled = errors.New("webhooks: the webhook is disabled")

// RecoverParams says which deliveries of a webhook Recover retries.
type RecoverParams struct {
	// Since and Until are the window [Since, Until) of the deliveries'
	// creation; Until zero is now.
	Since, Until time.Time
	// Status is what the deliveries ended as: hookline.DeliveryFailed (also
	// when empty) or hookline.DeliveryCancelled.
	Status string
	// DryRun only counts them.
	DryRun bool
}

// Recover makes the deliveries of wh that p selects pending and due now, as
// Retry does to one, and says how many; with p.DryRun it only counts them.
// It works in batches (store.DeliveryRecover), so a large window never holds
// the database for long, and what it did stands if it stops half-way: the
// same call again takes the rest, since a delivery recovered is no longer of
// the status asked. A bad window (since not in the past, until not after
// since) or status is a *hookline.ValidationError; a recovery (not a dry run)
// of a disabled webhook is ErrDisabled.
func (s *Service) Recover(ctx context.Context, wh *hookline.Webhook, p RecoverParams) (int, error) {
	now := s.stamp()
	if p.Since.After(now) {
		return 0, hookline.Invalid("since", "must be in the past: no delivery was created after now")
	}
	rp, err := store.DeliveryRecoverParams{
		WebhookID: wh.ID, Since: p.Since, Until: p.Until, Status: p.Status, DryRun: p.DryRun, Now: now,
	}.Check()
	if err != nil {
		return 0, err
	}
	if !p.DryRun && !wh.Active {
		return 0, ErrDisabled
	}
	n, err := s.store.DeliveryRecover(ctx, rp)
	if !p.DryRun && n > 0 {
		s.engine.Notify() // also after an error: the batches before it stand
	}
	return n, err
}

// Reasons a replay leaves a delivery alone (ReplaySkip.Reason).
const (
	// SkipPending: the delivery has not ended; it goes out anyway.
	SkipPending = "pending"
	// SkipDisabled: its webhook is disabled.
	SkipDisabled = "disabled"
	// SkipUnsubscribed: its webhook's event filter no longer matches the
	// event's type.
	SkipUnsubscribed = "unsubscribed"
)

// ReplaySkip is a delivery a replay left alone, and why.
type ReplaySkip struct {
	DeliveryID string `json:"delivery_id"`
	WebhookID  string `json:"webhook_id"`
	Reason     string `json:"reason"`
}

// ReplayResult is what a replay did.
type ReplayResult struct {
	// Replayed are the deliveries made pending again.
	Replayed []hookline.Delivery
	// Skipped are those left alone.
	Skipped []ReplaySkip
}

// Replay sends event ev again through its deliveries, which it makes
// pending and due now, as Retry does: the same message (same delivery and
// event ids) to the same webhooks, whose receivers may deduplicate it. It
// creates no delivery: a webhook created, or subscribed, after the event was
// published gets nothing. A delivery still pending is left alone (it goes out
// anyway), so a replay repeated before the first one's attempts are made
// sends nothing more.
//
// With webhookID "", it replays each delivery whose webhook is active and
// still subscribed to the event's type, and reports the others as skipped.
// With a webhookID, it replays ev's delivery to that webhook whatever its
// event filter now says, since the caller names it; ErrDisabled if the
// webhook is disabled, and a *hookline.ValidationError naming webhook_id if ev
// has no delivery to it.
func (s *Service) Replay(ctx context.Context, ev *hookline.Event, webhookID string) (*ReplayResult, error) {
	ds, err := s.deliveriesOf(ctx, ev.ID)
	if err != nil {
		return nil, err
	}
	if webhookID != "" {
		ds = onlyTo(ds, webhookID)
		if len(ds) == 0 {
			return nil, hookline.Invalid("webhook_id", "event %s has no delivery to webhook %s: a replay sends again what was sent, to the webhooks the event matched when it was published", ev.ID, webhookID)
		}
	}
	active, err := s.store.WebhookListActive(ctx, ev.Tenant)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]*hookline.Webhook, len(active))
	for i := range active {
		byID[active[i].ID] = &active[i]
	}
	res := &ReplayResult{Replayed: []hookline.Delivery{}, Skipped: []ReplaySkip{}}
	now := s.stamp()
	for _, d := range ds {
		wh := byID[d.WebhookID]
		reason := ""
		switch {
		case wh == nil && webhookID != "":
			return nil, fmt.Errorf("%w: enable it (PATCH {\"active\": true}) to replay to it", ErrDisabled)
		case wh == nil:
			reason = SkipDisabled
		case d.Status == hookline.DeliveryPending:
			reason = SkipPending
		case webhookID == "" && !wh.Matches(ev.Type):
			reason = SkipUnsubscribed
		}
		if reason != "" {
			res.Skipped = append(res.Skipped, ReplaySkip{DeliveryID: d.ID, WebhookID: d.WebhookID, Reason: reason})
			continue
		}
		retried, err := s.store.DeliveryRetry(ctx, store.DeliveryRetryParams{ID: d.ID, Now: now})
		if errors.Is(err, hookline.ErrNotFound) {
			continue // deleted since the list, with its webhook
		}
		if err != nil {
			if len(res.Replayed) > 0 {
				s.engine.Notify()
			}
			return nil, err
		}
		res.Replayed = append(res.Replayed, *retried)
	}
	if len(res.Replayed) > 0 {
		s.engine.Notify()
	}
	return res, nil
}

// deliveriesOf returns every delivery of event id.
func (s *Service) deliveriesOf(ctx context.Context, id string) ([]hookline.Delivery, error) {
	var all []hookline.Delivery
	p := store.DeliveryListParams{ListParams: store.ListParams{Limit: 1000}, EventID: id}
	for {
		page, err := s.store.DeliveryList(ctx, p)
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if len(page) < p.Limit {
			return all, nil
		}
		p.Cursor = page[len(page)-1].ID
	}
}

// onlyTo keeps the deliveries to webhook id.
func onlyTo(ds []hookline.Delivery, id string) []hookline.Delivery {
	var out []hookline.Delivery
	for _, d := range ds {
		if d.WebhookID == id {
			out = append(out, d)
		}
	}
	return out
}
