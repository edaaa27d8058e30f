package storetest

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

// exerciseDeliveryFilters covers the delivery log's filters (event type and
// creation time with the others) and their pages.
func exerciseDeliveryFilters(t *testing.T, open func(t *testing.T) store.Store) {
	subtests(t, map[string]func(t *testing.T){
		"Combined": func(t *testing.T) {
			e := newEnv(t, open)
			a1, a2, g := e.webhook("acme"), e.webhook("acme"), e.webhook("globex")
			t1, t2, t3, t4 := e.now.Add(-4*time.Hour), e.now.Add(-3*time.Hour), e.now.Add(-2*time.Hour), e.now.Add(-time.Hour)
			var all []hookline.Delivery
			for _, at := range []time.Time{t1, t2, t3, t4} {
				for _, typ := range []string{"order.created", "order.paid"} {
					all = append(all, e.publishAt(at, typ, a1, a2)...)
					all = append(all, e.publishAt(at, typ, g)...)
				}
			}
			// Paid orders fail, but a2's; a2's deliveries of t2 succeed; of
			// globex's created orders, that of t3 fails and that of t1 is
			// cancelled. The others stay pending.
			end := map[string]string{}
			for _, d := range all {
				switch {
				case d.EventType == "order.paid" && d.WebhookID != a2.ID:
					end[d.ID] = hookline.DeliveryFailed
				case d.WebhookID == a2.ID && d.CreatedAt.Equal(t2):
					end[d.ID] = hookline.DeliverySucceeded
				case d.WebhookID == g.ID && d.CreatedAt.Equal(t3):
					end[d.ID] = hookline.DeliveryFailed
				case d.WebhookID == g.ID && d.CreatedAt.Equal(t1):
					end[d.ID] = hookline.DeliveryCancelled
				}
			}
			all = e.finish(all, end)
			paidT2 := all[9] // t2's fourth delivery: a1's of order.paid
			if paidT2.WebhookID != a1.ID || paidT2.EventType != "order.paid" || !paidT2.CreatedAt.Equal(t2) {
				t.Fatalf("all[9]: got %+v, want a1's delivery of order.paid at t2", paidT2)
			}
			cases := []struct {
				name string
				p    store.DeliveryListParams
			}{
				{"type", store.DeliveryListParams{EventType: "order.paid"}},
				{"tenant and type", store.DeliveryListParams{Tenant: "acme", EventType: "order.paid"}},
				{"webhook and type", store.DeliveryListParams{WebhookID: a2.ID, EventType: "order.created"}},
				{"tenant and status", store.DeliveryListParams{Tenant: "acme", Status: hookline.DeliveryFailed}},
				{"status and type", store.DeliveryListParams{Status: hookline.DeliveryFailed, EventType: "order.created"}},
				{"cancelled", store.DeliveryListParams{Status: hookline.DeliveryCancelled}},
				{"after", store.DeliveryListParams{CreatedAfter: t2}},
				{"after, a millisecond past", store.DeliveryListParams{CreatedAfter: t2.Add(time.Millisecond)}},
				{"before", store.DeliveryListParams{CreatedBefore: t2}},
				{"before, a millisecond past", store.DeliveryListParams{CreatedBefore: t2.Add(time.Millisecond)}},
				{"window", store.DeliveryListParams{CreatedAfter: t2, CreatedBefore: t3}},
				{"tenant and window", store.DeliveryListParams{Tenant: "acme", CreatedAfter: t2, CreatedBefore: t3}},
				{"webhook and after", store.DeliveryListParams{WebhookID: a1.ID, CreatedAfter: t3}},
				{"tenant, status and window", store.DeliveryListParams{Tenant: "acme", Status: hookline.DeliveryPending,
					CreatedAfter: t2, CreatedBefore: t4}},
				{"every filter", store.DeliveryListParams{Tenant: "acme", WebhookID: a2.ID, Status: hookline.DeliveryPending,
					EventType: "order.created", CreatedAfter: t2, CreatedBefore: t4}},
				{"event and status", store.DeliveryListParams{EventID: paidT2.EventID, Status: hookline.DeliveryFailed}},
				{"no match", store.DeliveryListParams{Tenant: "globex", Status: hookline.DeliverySucceeded, EventType: "order.paid"}},
				{"empty window", store.DeliveryListParams{CreatedAfter: t2, CreatedBefore: t2}},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					want := filterDeliveries(all, c.p)
					if c.name != "no match" && c.name != "empty window" {
						checkFiltersMatter(t, all, c.p)
					}
					for _, size := range []int{1, 2, 100} {
						if got := pageDeliveries(t, e, c.p, size); !reflect.DeepEqual(got, want) {
							t.Errorf("DeliveryList %+v by %d: got %v, want %v", c.p, size, got, want)
						}
					}
				})
			}
		},
		"TimeIsTheIDs": func(t *testing.T) {
			// The time filters go by the time of ids (store.DeliveryListParams),
			// which the engine makes with created_at: a delivery whose id was
			// made at another time is placed by its id.
			e := newEnv(t, open)
			w := e.webhook("acme")
			at := e.now.Add(-time.Hour)
			same := e.publishAt(at, "order.created", w)[0]
			early := e.publishIDAt(at, at.Add(-2*time.Second), "order.created", w)[0]
			late := e.publishIDAt(at, at.Add(3*time.Second), "order.created", w)[0]
			cases := []struct {
				name string
				p    store.DeliveryListParams
				want []string
			}{
				{"before at", store.DeliveryListParams{CreatedBefore: at}, []string{early.ID}},
				{"before at+1ms", store.DeliveryListParams{CreatedBefore: at.Add(time.Millisecond)}, []string{same.ID, early.ID}},
				{"after at", store.DeliveryListParams{CreatedAfter: at}, []string{late.ID, same.ID}},
				{"after at+1ms", store.DeliveryListParams{CreatedAfter: at.Add(time.Millisecond)}, []string{late.ID}},
				{"the millisecond of at", store.DeliveryListParams{CreatedAfter: at, CreatedBefore: at.Add(time.Millisecond)}, []string{same.ID}},
			}
			for _, c := range cases {
				if got := pageDeliveries(t, e, c.p, 2); !reflect.DeepEqual(got, c.want) {
					t.Errorf("DeliveryList %s: got %v, want %v", c.name, got, c.want)
				}
			}
		},
	})
}

// publishAt stores one event of type typ made at at, with a delivery to each
// webhook (all of one tenant), due at e.now, and returns the deliveries. The
// ids are made at at too, as they would be at that time.
func (e *env) publishAt(at time.Time, typ string, whs ...*hookline.Webhook) []hookline.Delivery {
	e.t.Helper()
	return e.publishIDAt(at, at, typ, whs...)
}

// publishIDAt is publishAt with ids made at idAt.
func (e *env) publishIDAt(at, idAt time.Time, typ string, whs ...*hookline.Webhook) []hookline.Delivery {
	e.t.Helper()
	ev := e.newEvent(whs[0].Tenant, typ)
	ev.ID, ev.CreatedAt = hookline.NewIDAt(hookline.PrefixEvent, idAt), at
	p := e.insertParams(ev, e.now, whs...)
	for i := range p.Deliveries {
		p.Deliveries[i].ID = hookline.NewIDAt(hookline.PrefixDelivery, idAt)
	}
	return e.insert(p).Deliveries
}

// finish claims every due delivery at e.now and ends those in end with their
// status there (failed with a 500 attempt, succeeded with a 200, cancelled
// with none); the others stay pending, leased for an hour. It returns ds as
// they now are.
func (e *env) finish(ds []hookline.Delivery, end map[string]string) []hookline.Delivery {
	e.t.Helper()
	var ps []store.DeliveryCompleteParams
	for _, c := range e.claim(e.now, "finish", 100_000) {
		status, ok := end[c.Delivery.ID]
		if !ok {
			continue
		}
		p := store.DeliveryCompleteParams{
			DeliveryLease: store.DeliveryLease{ID: c.Delivery.ID, LeaseToken: "finish"}, WebhookID: c.Delivery.WebhookID,
			Status: status, Now: e.now,
		}
		switch status {
		case hookline.DeliverySucceeded:
			p.Attempt = attempt(c.Delivery, 1, 200, e.now)
		case hookline.DeliveryFailed:
			p.Attempt = attempt(c.Delivery, 1, 500, e.now)
		default:
			p.Error = "webhook disabled"
		}
		ps = append(ps, p)
	}
	if len(ps) != len(end) {
		e.t.Fatalf("finish: claimed %d of the %d deliveries to end", len(ps), len(end))
	}
	for chunk := range slices.Chunk(ps, 500) {
		e.completeAll(chunk...)
	}
	out := make([]hookline.Delivery, len(ds))
	for i, d := range ds {
		out[i] = d
		if status, ok := end[d.ID]; ok {
			out[i].Status = status
		}
	}
	return out
}

// matchDelivery tells whether d passes every filter of p, as DeliveryList's
// contract says.
func matchDelivery(d hookline.Delivery, p store.DeliveryListParams) bool {
	return (p.Tenant == "" || d.Tenant == p.Tenant) && (p.WebhookID == "" || d.WebhookID == p.WebhookID) &&
		(p.EventID == "" || d.EventID == p.EventID) && (p.Status == "" || d.Status == p.Status) &&
		(p.EventType == "" || d.EventType == p.EventType) &&
		(p.CreatedAfter.IsZero() || !d.CreatedAt.Before(p.CreatedAfter)) &&
		(p.CreatedBefore.IsZero() || d.CreatedAt.Before(p.CreatedBefore))
}

// filterDeliveries returns the ids of the deliveries of all that p keeps,
// newest first (nil for none).
func filterDeliveries(all []hookline.Delivery, p store.DeliveryListParams) []string {
	var out []string
	for _, d := range all {
		if matchDelivery(d, p) {
			out = append(out, d.ID)
		}
	}
	slices.SortFunc(out, func(a, b string) int { return strings.Compare(b, a) })
	return out
}

// checkFiltersMatter fails the test (a mistake in its data) unless p keeps
// some deliveries of all and each of its filters removes some: a store that
// ignored any one of them would then fail the case.
func checkFiltersMatter(t *testing.T, all []hookline.Delivery, p store.DeliveryListParams) {
	t.Helper()
	want := filterDeliveries(all, p)
	if len(want) == 0 {
		t.Fatalf("case %+v keeps no delivery", p)
	}
	drops := map[string]func(*store.DeliveryListParams){
		"tenant":         func(p *store.DeliveryListParams) { p.Tenant = "" },
		"webhook":        func(p *store.DeliveryListParams) { p.WebhookID = "" },
		"event":          func(p *store.DeliveryListParams) { p.EventID = "" },
		"status":         func(p *store.DeliveryListParams) { p.Status = "" },
		"event type":     func(p *store.DeliveryListParams) { p.EventType = "" },
		"created after":  func(p *store.DeliveryListParams) { p.CreatedAfter = time.Time{} },
		"created before": func(p *store.DeliveryListParams) { p.CreatedBefore = time.Time{} },
	}
	for name, drop := range drops {
		if name == "tenant" && p.WebhookID != "" {
			continue // a webhook has one tenant: the tenant filter then only guards
		}
		q := p
		drop(&q)
		if q != p && reflect.DeepEqual(filterDeliveries(all, q), want) {
			t.Fatalf("case %+v: the %s filter removes nothing", p, name)
		}
	}
}
