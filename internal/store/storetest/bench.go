package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

// PortalLogSize is the size of the log the portal's queries are measured
// on: a day of one busy webhook's deliveries, each with an attempt.
const PortalLogSize = 100_000

// PortalLog is the data of the portal benchmark, made by NewPortalLog for a
// driver to store in bulk (straight into its tables: going through the store
// would take minutes) before it calls BenchPortal.
type PortalLog struct {
	Now    time.Time
	Tenant string
	// Webhooks are the tenant's 20 webhooks, the busy one first. Store them
	// with WebhookCreate.
	Webhooks []*hookline.Webhook
	// Events, Deliveries and Attempts are the rows to store: PortalLogSize
	// of each spread over the 24 hours before Now, and ten test attempts of
	// each quiet webhook. Every delivery has made one attempt.
	Events     []hookline.Event
	Deliveries []hookline.Delivery
	Attempts   []hookline.Attempt
}

// portalTypes are the event types of the log and how many in 1000 deliveries
// have each: the last is rare, to measure a filter that keeps few rows.
var portalTypes = []struct {
	name string
	per  int
}{
	{"order.created", 400}, {"order.paid", 300}, {"order.shipped", 200}, {"customer.updated", 90}, {"order.refunded", 10},
}

// NewPortalLog makes the benchmark's log, the same every time: 90% of its
// deliveries succeeded, 7% failed, 2% were cancelled and 1% are pending.
func NewPortalLog(now time.Time) *PortalLog {
	now = now.UTC().Truncate(time.Millisecond)
	l := &PortalLog{Now: now, Tenant: "acme"}
	for range 20 {
		l.Webhooks = append(l.Webhooks, &hookline.Webhook{
			ID: hookline.NewID(hookline.PrefixWebhook), Tenant: l.Tenant, URL: "https://receiver.example/hooks",
			Events: []string{"*"}, Secret: "whsec_bench", Active: true, Profile: "standard",
			Headers: map[string]string{}, Metadata: map[string]string{}, CreatedAt: now, UpdatedAt: now,
		})
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	attempt := func(d hookline.Delivery, webhookID string, at time.Time, code int, errText string) hookline.Attempt {
		return hookline.Attempt{
			ID: hookline.NewIDAt(hookline.PrefixAttempt, at), DeliveryID: d.ID, WebhookID: webhookID, EventID: d.EventID,
			EventType: d.EventType, Tenant: l.Tenant, Number: 1, StartedAt: at, DurationMS: 5 + rnd.Int64N(500),
			StatusCode: code, Error: errText, ResponseBody: "ok",
			RequestHeaders: map[string]string{
				"Content-Type": "application/json", "User-Agent": "Hookline/1.0", "Webhook-Id": d.EventID,
				"Webhook-Timestamp": fmt.Sprint(at.Unix()), "Webhook-Signature": "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=",
			},
			ResponseHeaders: map[string]string{"Content-Type": "text/plain", "Server": "nginx"},
		}
	}
	busy := l.Webhooks[0].ID
	for i := range PortalLogSize {
		at := now.Add(-24 * time.Hour).Add(time.Duration(i) * 24 * time.Hour / PortalLogSize)
		typ, k := portalTypes[0].name, rnd.IntN(1000)
		for _, t := range portalTypes {
			if k < t.per {
				typ = t.name
				break
			}
			k -= t.per
		}
		d := hookline.Delivery{
			ID: hookline.NewIDAt(hookline.PrefixDelivery, at), EventID: hookline.NewIDAt(hookline.PrefixEvent, at),
			WebhookID: busy, Tenant: l.Tenant, EventType: typ, Status: hookline.DeliverySucceeded, Attempts: 1,
			LastStatus: 200, CreatedAt: at, UpdatedAt: at,
		}
		switch r := rnd.IntN(100); {
		case r < 7:
			d.Status, d.LastStatus, d.LastError = hookline.DeliveryFailed, 500, "HTTP 500"
		case r < 9:
			d.Status, d.LastStatus, d.LastError = hookline.DeliveryCancelled, 0, "webhook disabled"
		case r < 10:
			next := now.Add(time.Hour)
			d.Status, d.LastStatus, d.LastError, d.NextAttemptAt = hookline.DeliveryPending, 503, "HTTP 503", &next
		}
		l.Events = append(l.Events, hookline.Event{
			ID: d.EventID, Tenant: l.Tenant, Type: typ, Data: []byte(`{"order":{"id":42,"total":"19.99"}}`),
			Timestamp: at, CreatedAt: at,
		})
		l.Deliveries = append(l.Deliveries, d)
		l.Attempts = append(l.Attempts, attempt(d, busy, at.Add(time.Millisecond), d.LastStatus, d.LastError))
	}
	for _, w := range l.Webhooks[1:] {
		for j := range 10 {
			at := now.Add(-time.Duration(j) * 2 * time.Hour)
			a := attempt(hookline.Delivery{EventID: hookline.NewIDAt(hookline.PrefixEvent, at), EventType: hookline.EventWebhookTest}, w.ID, at, 200, "")
			a.DeliveryID = ""
			l.Attempts = append(l.Attempts, a)
		}
	}
	return l
}

// BenchPortal measures, on s holding l, each query of the tenant portal's
// pages as a sub-benchmark: a page of the delivery log with each filter, the
// charts of a day in 48 buckets for the webhook and for the tenant, the
// health of 20 webhooks and the count of a day's recovery.
func BenchPortal(b *testing.B, s store.Store, l *PortalLog) {
	since := l.Now.Add(-24 * time.Hour)
	busy := l.Webhooks[0].ID
	ids := make([]string, len(l.Webhooks))
	for i, w := range l.Webhooks {
		ids[i] = w.ID
	}
	page := func(p store.DeliveryListParams) func(ctx context.Context) error {
		p.Tenant, p.Limit = l.Tenant, 50
		return func(ctx context.Context) error {
			ds, err := s.DeliveryList(ctx, p)
			if err == nil && len(ds) == 0 {
				err = fmt.Errorf("DeliveryList %+v: empty page", p)
			}
			return err
		}
	}
	cases := []struct {
		name string
		run  func(ctx context.Context) error
	}{
		{"DeliveryList", page(store.DeliveryListParams{})},
		{"DeliveryList/webhook", page(store.DeliveryListParams{WebhookID: busy})},
		{"DeliveryList/status=failed", page(store.DeliveryListParams{Status: hookline.DeliveryFailed})},
		{"DeliveryList/status=pending", page(store.DeliveryListParams{Status: hookline.DeliveryPending})},
		{"DeliveryList/webhook,status=failed", page(store.DeliveryListParams{WebhookID: busy, Status: hookline.DeliveryFailed})},
		{"DeliveryList/type=order.paid", page(store.DeliveryListParams{EventType: "order.paid"})},
		{"DeliveryList/type=order.refunded", page(store.DeliveryListParams{EventType: "order.refunded"})},
		{"DeliveryList/window=1h,12h_ago", page(store.DeliveryListParams{
			CreatedAfter: l.Now.Add(-12 * time.Hour), CreatedBefore: l.Now.Add(-11 * time.Hour)})},
		{"DeliveryList/window=1h,23h_ago,status=failed", page(store.DeliveryListParams{Status: hookline.DeliveryFailed,
			CreatedAfter: l.Now.Add(-23 * time.Hour), CreatedBefore: l.Now.Add(-22 * time.Hour)})},
		{"AttemptStats/webhook,24h/48", func(ctx context.Context) error {
			_, err := s.AttemptStats(ctx, store.AttemptStatsParams{WebhookID: busy, Since: since, Until: l.Now, Buckets: 48})
			return err
		}},
		{"AttemptStats/tenant,24h/48", func(ctx context.Context) error {
			_, err := s.AttemptStats(ctx, store.AttemptStatsParams{Tenant: l.Tenant, Since: since, Until: l.Now, Buckets: 48})
			return err
		}},
		{"AttemptStats/all,24h/48", func(ctx context.Context) error {
			_, err := s.AttemptStats(ctx, store.AttemptStatsParams{Since: since, Until: l.Now, Buckets: 48})
			return err
		}},
		{"AttemptStats/webhook,1h/60", func(ctx context.Context) error {
			_, err := s.AttemptStats(ctx, store.AttemptStatsParams{WebhookID: busy, Since: l.Now.Add(-time.Hour), Until: l.Now, Buckets: 60})
			return err
		}},
		{"DeliveryStats/webhook,24h/48", func(ctx context.Context) error {
			_, err := s.DeliveryStats(ctx, store.DeliveryStatsParams{WebhookID: busy, Since: since, Until: l.Now, Buckets: 48})
			return err
		}},
		{"DeliveryStats/tenant,24h/48", func(ctx context.Context) error {
			_, err := s.DeliveryStats(ctx, store.DeliveryStatsParams{Tenant: l.Tenant, Since: since, Until: l.Now, Buckets: 48})
			return err
		}},
		{"DeliveryStats/all,24h/48", func(ctx context.Context) error {
			_, err := s.DeliveryStats(ctx, store.DeliveryStatsParams{Since: since, Until: l.Now, Buckets: 48})
			return err
		}},
		{"DeliveryStats/webhook,7d/200", func(ctx context.Context) error {
			_, err := s.DeliveryStats(ctx, store.DeliveryStatsParams{WebhookID: busy, Since: l.Now.Add(-7 * 24 * time.Hour), Until: l.Now, Buckets: 200})
			return err
		}},
		{"WebhookHealth/20,24h", func(ctx context.Context) error {
			_, err := s.WebhookHealth(ctx, ids, since)
			return err
		}},
		{"DeliveryRecover/dry,24h", func(ctx context.Context) error {
			n, err := s.DeliveryRecover(ctx, store.DeliveryRecoverParams{WebhookID: busy, Since: since, Now: l.Now, DryRun: true})
			if err == nil && n == 0 {
				err = fmt.Errorf("DeliveryRecover: nothing to recover")
			}
			return err
		}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if err := c.run(b.Context()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// StorePortalLog stores l through the store's own methods, as the engine
// would have: its webhooks, its events with their deliveries (in batches),
// and each delivery claimed and completed with its attempt; then the test
// attempts. It is slower than a driver's bulk fill (tens of seconds), and
// serves callers above the drivers, such as the portal's page benchmark.
func StorePortalLog(tb testing.TB, s store.Store, l *PortalLog) {
	tb.Helper()
	ctx := context.Background()
	for _, w := range l.Webhooks {
		if err := s.WebhookCreate(ctx, store.WebhookCreateParams{Webhook: w}); err != nil {
			tb.Fatal(err)
		}
	}
	planned := make(map[string]*hookline.Delivery, len(l.Deliveries))
	attempts := make(map[string]*hookline.Attempt, len(l.Deliveries))
	for i := range l.Attempts {
		if a := &l.Attempts[i]; a.DeliveryID != "" {
			attempts[a.DeliveryID] = a
		}
	}
	const batch = 1000
	for start := 0; start < len(l.Deliveries); start += batch {
		var ps []store.EventInsertParams
		for i := start; i < min(start+batch, len(l.Deliveries)); i++ {
			d := &l.Deliveries[i]
			planned[d.ID] = d
			due := d.CreatedAt
			if d.NextAttemptAt != nil {
				due = *d.NextAttemptAt // pending: not due before l.Now
			}
			ps = append(ps, store.EventInsertParams{Event: &l.Events[i],
				Deliveries: []store.DeliveryInsert{{ID: d.ID, WebhookID: d.WebhookID, NextAttemptAt: due}}})
		}
		if _, err := s.EventInsert(ctx, ps); err != nil {
			tb.Fatal(err)
		}
	}
	for {
		claimed, err := s.DeliveryClaim(ctx, store.DeliveryClaimParams{Now: l.Now, LeaseUntil: l.Now.Add(time.Hour), LeaseToken: "fill", Limit: batch})
		if err != nil {
			tb.Fatal(err)
		}
		if len(claimed) == 0 {
			break
		}
		cs := make([]store.DeliveryCompleteParams, len(claimed))
		for i, c := range claimed {
			d, a := planned[c.Delivery.ID], attempts[c.Delivery.ID]
			cs[i] = store.DeliveryCompleteParams{DeliveryLease: store.DeliveryLease{ID: d.ID, LeaseToken: c.LeaseToken},
				WebhookID: d.WebhookID, Attempt: a, Status: d.Status, Now: a.StartedAt}
			if d.Status == hookline.DeliveryCancelled {
				cs[i].Attempt, cs[i].Error = nil, d.LastError
			}
		}
		if _, err := s.DeliveryComplete(ctx, cs); err != nil {
			tb.Fatal(err)
		}
	}
	for i := range l.Attempts {
		if a := &l.Attempts[i]; a.DeliveryID == "" {
			if err := s.AttemptInsert(ctx, a); err != nil {
				tb.Fatal(err)
			}
		}
	}
}
