package storetest

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/keyspace"
	"github.com/hookline/hookline/internal/store"
)

// exerciseListPaging walks every list both ways, with and without its
// filters (checkPaging): Cursor forward, Before back over the same pages.
func exerciseListPaging(t *testing.T, open func(t *testing.T) store.Store) {
	subtests(t, map[string]func(t *testing.T){
		"Webhooks": func(t *testing.T) {
			e := newEnv(t, open)
			var whs []hookline.Webhook
			for i := range 9 {
				tenant := "acme"
				if i%2 == 1 {
					tenant = "globex"
				}
				whs = append(whs, *e.webhook(tenant, func(w *hookline.Webhook) { w.Active = i%3 != 2 }))
			}
			head, tail := idEnds(hookline.PrefixWebhook)
			for _, c := range []struct {
				name string
				p    store.WebhookListParams
				keep func(hookline.Webhook) bool
			}{
				{"all", store.WebhookListParams{}, func(hookline.Webhook) bool { return true }},
				{"tenant", store.WebhookListParams{Tenant: "acme"}, func(w hookline.Webhook) bool { return w.Tenant == "acme" }},
				{"disabled", store.WebhookListParams{Active: ptr(false)}, func(w hookline.Webhook) bool { return !w.Active }},
				{"tenant and active", store.WebhookListParams{Tenant: "acme", Active: ptr(true)},
					func(w hookline.Webhook) bool { return w.Tenant == "acme" && w.Active }},
			} {
				t.Run(c.name, func(t *testing.T) {
					checkPaging(t, pagedList[hookline.Webhook]{
						name: "WebhookList " + c.name, items: whs, keep: c.keep, desc: true, head: head, tail: tail,
						key: func(w hookline.Webhook) string { return w.ID },
						list: func(lp store.ListParams) ([]hookline.Webhook, error) {
							p := c.p
							p.ListParams = lp
							return e.s.WebhookList(e.ctx, p)
						},
					})
				})
			}
		},
		"Tenants": func(t *testing.T) {
			e := newEnv(t, open)
			var want []store.TenantSummary
			for i, tenant := range []string{"wayne", "acme", "initech", "globex", "hooli", "stark", "umbrella"} {
				for range i%2 + 1 {
					e.webhook(tenant)
				}
				want = append(want, store.TenantSummary{Tenant: tenant, Webhooks: i%2 + 1, Active: i%2 + 1})
			}
			checkPaging(t, pagedList[store.TenantSummary]{
				name: "TenantList", items: want, keep: func(store.TenantSummary) bool { return true }, head: "a", tail: "zz",
				key:  func(s store.TenantSummary) string { return s.Tenant },
				list: func(lp store.ListParams) ([]store.TenantSummary, error) { return e.s.TenantList(e.ctx, lp) },
			})
			// A page read back counts each tenant's webhooks.
			back, err := e.s.TenantList(e.ctx, store.ListParams{Before: "wayne", Limit: 3})
			if err != nil {
				t.Fatalf("TenantList before wayne: %v", err)
			}
			if w := []store.TenantSummary{want[2], want[5], want[6]}; !reflect.DeepEqual(back, w) {
				t.Errorf("TenantList before wayne by 3: got %+v, want %+v", back, w)
			}
		},
		"Events": func(t *testing.T) {
			e := newEnv(t, open)
			var evs []hookline.Event
			for i := range 9 {
				tenant, typ := "acme", "order.created"
				if i%3 == 1 {
					tenant = "globex"
				}
				if i%2 == 1 {
					typ = "order.paid"
				}
				ev := e.newEvent(tenant, typ)
				ev.CreatedAt = e.now.Add(time.Duration(i-9) * time.Minute)
				ev.ID = hookline.NewIDAt(hookline.PrefixEvent, ev.CreatedAt)
				e.insert(store.EventInsertParams{Event: ev})
				evs = append(evs, *ev)
			}
			from, to := e.now.Add(-7*time.Minute), e.now.Add(-2*time.Minute)
			head, tail := idEnds(hookline.PrefixEvent)
			for _, c := range []struct {
				name string
				p    store.EventListParams
				keep func(hookline.Event) bool
			}{
				{"all", store.EventListParams{}, func(hookline.Event) bool { return true }},
				{"tenant", store.EventListParams{Tenant: "acme"}, func(ev hookline.Event) bool { return ev.Tenant == "acme" }},
				{"type", store.EventListParams{Type: "order.paid"}, func(ev hookline.Event) bool { return ev.Type == "order.paid" }},
				{"tenant and type", store.EventListParams{Tenant: "acme", Type: "order.created"},
					func(ev hookline.Event) bool { return ev.Tenant == "acme" && ev.Type == "order.created" }},
				{"tenant and window", store.EventListParams{Tenant: "acme", CreatedAfter: from, CreatedBefore: to},
					func(ev hookline.Event) bool {
						return ev.Tenant == "acme" && !ev.CreatedAt.Before(from) && ev.CreatedAt.Before(to)
					}},
			} {
				t.Run(c.name, func(t *testing.T) {
					checkPaging(t, pagedList[hookline.Event]{
						name: "EventList " + c.name, items: evs, keep: c.keep, desc: true, head: head, tail: tail,
						key: func(ev hookline.Event) string { return ev.ID },
						list: func(lp store.ListParams) ([]hookline.Event, error) {
							p := c.p
							p.ListParams = lp
							return e.s.EventList(e.ctx, p)
						},
					})
				})
			}
		},
		"EventTypes": func(t *testing.T) {
			e := newEnv(t, open)
			var ets []hookline.EventType
			for _, name := range []string{"order.paid", "b.first", "invoice.sent", "order.created", "refund.issued", "y.last", "customer.deleted"} {
				et := hookline.EventType{Name: name, Description: "about " + name, CreatedAt: e.now, UpdatedAt: e.now}
				if err := e.s.EventTypeCreate(e.ctx, &et); err != nil {
					t.Fatalf("EventTypeCreate %s: %v", name, err)
				}
				ets = append(ets, et)
			}
			checkPaging(t, pagedList[hookline.EventType]{
				name: "EventTypeList", items: ets, keep: func(hookline.EventType) bool { return true }, head: "a", tail: "zz",
				key:  func(et hookline.EventType) string { return et.Name },
				list: func(lp store.ListParams) ([]hookline.EventType, error) { return e.s.EventTypeList(e.ctx, lp) },
			})
		},
		"Deliveries": func(t *testing.T) {
			e := newEnv(t, open)
			a1, a2, g := e.webhook("acme"), e.webhook("acme"), e.webhook("globex")
			t1, t2, t3 := e.now.Add(-3*time.Hour), e.now.Add(-2*time.Hour), e.now.Add(-time.Hour)
			var ds []hookline.Delivery
			for _, at := range []time.Time{t1, t2, t3} {
				for _, typ := range []string{"order.created", "order.paid"} {
					ds = append(ds, e.publishAt(at, typ, a1, a2)...)
					ds = append(ds, e.publishAt(at, typ, g)...)
				}
			}
			end := map[string]string{}
			for _, d := range ds {
				if d.WebhookID == a1.ID && d.EventType == "order.paid" || d.WebhookID == g.ID && d.CreatedAt.Equal(t2) {
					end[d.ID] = hookline.DeliveryFailed
				}
			}
			ds = e.finish(ds, end)
			head, tail := idEnds(hookline.PrefixDelivery)
			for _, c := range []struct {
				name string
				p    store.DeliveryListParams
			}{
				{"all", store.DeliveryListParams{}},
				{"tenant", store.DeliveryListParams{Tenant: "acme"}},
				{"webhook and type", store.DeliveryListParams{WebhookID: a2.ID, EventType: "order.created"}},
				{"status", store.DeliveryListParams{Status: hookline.DeliveryFailed}},
				{"event", store.DeliveryListParams{EventID: ds[0].EventID}},
				{"tenant and window", store.DeliveryListParams{Tenant: "acme", CreatedAfter: t2, CreatedBefore: t3}},
			} {
				t.Run(c.name, func(t *testing.T) {
					checkPaging(t, pagedList[hookline.Delivery]{
						name: "DeliveryList " + c.name, items: ds, desc: true, head: head, tail: tail,
						keep: func(d hookline.Delivery) bool { return matchDelivery(d, c.p) },
						key:  func(d hookline.Delivery) string { return d.ID },
						list: func(lp store.ListParams) ([]hookline.Delivery, error) {
							p := c.p
							p.ListParams = lp
							return e.s.DeliveryList(e.ctx, p)
						},
					})
				})
			}
		},
		"Attempts": func(t *testing.T) {
			e := newEnv(t, open)
			w, other := e.webhook("acme"), e.webhook("acme")
			dlv := hookline.NewID(hookline.PrefixDelivery)
			var as []hookline.Attempt
			for i := range 10 {
				wh := w
				if i%3 == 2 {
					wh = other
				}
				a := e.attemptAt(wh, e.now.Add(time.Duration(i-10)*time.Minute), 200, "", 5)
				if i%2 == 0 {
					a.DeliveryID = dlv
				}
				if err := e.s.AttemptInsert(e.ctx, a); err != nil {
					t.Fatalf("AttemptInsert: %v", err)
				}
				as = append(as, *a)
			}
			from, to := e.now.Add(-8*time.Minute), e.now.Add(-2*time.Minute)
			head, tail := idEnds(hookline.PrefixAttempt)
			for _, c := range []struct {
				name string
				p    store.AttemptListParams
				keep func(hookline.Attempt) bool
			}{
				{"all", store.AttemptListParams{}, func(hookline.Attempt) bool { return true }},
				{"webhook", store.AttemptListParams{WebhookID: w.ID}, func(a hookline.Attempt) bool { return a.WebhookID == w.ID }},
				{"delivery", store.AttemptListParams{DeliveryID: dlv}, func(a hookline.Attempt) bool { return a.DeliveryID == dlv }},
				{"webhook and window", store.AttemptListParams{WebhookID: w.ID, CreatedAfter: from, CreatedBefore: to},
					func(a hookline.Attempt) bool {
						return a.WebhookID == w.ID && !a.StartedAt.Before(from) && a.StartedAt.Before(to)
					}},
			} {
				t.Run(c.name, func(t *testing.T) {
					checkPaging(t, pagedList[hookline.Attempt]{
						name: "AttemptList " + c.name, items: as, keep: c.keep, desc: true, head: head, tail: tail,
						key: func(a hookline.Attempt) string { return a.ID },
						list: func(lp store.ListParams) ([]hookline.Attempt, error) {
							p := c.p
							p.ListParams = lp
							return e.s.AttemptList(e.ctx, p)
						},
					})
				})
			}
		},
		"Keys": func(t *testing.T) {
			e := newEnv(t, open)
			var ks []keyspace.Key
			for i := range 10 {
				space, tenant := "formvox", "acme"
				if i%4 == 3 {
					space = "other"
				}
				if i%3 == 1 {
					tenant = "globex"
				}
				ks = append(ks, *e.key(space, tenant))
			}
			head, tail := idEnds(keyIDPrefix)
			for _, c := range []struct {
				name string
				p    store.KeyListParams
			}{
				{"key space", store.KeyListParams{Keyspace: "formvox"}},
				{"key space and tenant", store.KeyListParams{Keyspace: "formvox", Tenant: "acme"}},
			} {
				t.Run(c.name, func(t *testing.T) {
					checkPaging(t, pagedList[keyspace.Key]{
						name: "KeyList " + c.name, items: ks, desc: true, head: head, tail: tail,
						keep: func(k keyspace.Key) bool {
							return k.Keyspace == c.p.Keyspace && (c.p.Tenant == "" || k.Tenant == c.p.Tenant)
						},
						key: func(k keyspace.Key) string { return k.ID },
						list: func(lp store.ListParams) ([]keyspace.Key, error) {
							p := c.p
							p.ListParams = lp
							return e.s.KeyList(e.ctx, p)
						},
					})
				})
			}
		},
		"APIKeys": func(t *testing.T) {
			e := newEnv(t, open)
			var ks []hookline.APIKey
			for i := range 8 {
				k := hookline.APIKey{
					ID: hookline.NewID(hookline.PrefixAPIKey), Name: fmt.Sprintf("key %d", i), Scopes: []string{hookline.ScopeAdmin},
					Prefix: "hk_", HashVersion: 1, CreatedAt: e.now,
				}
				k.Hash = keyHash(k.ID)
				if i%3 != 0 {
					k.Tenant = "acme"
				}
				if err := e.s.APIKeyCreate(e.ctx, &k); err != nil {
					t.Fatalf("APIKeyCreate: %v", err)
				}
				ks = append(ks, k)
			}
			head, tail := idEnds(hookline.PrefixAPIKey)
			for _, tenant := range []string{"", "acme"} {
				t.Run("tenant "+tenant, func(t *testing.T) {
					checkPaging(t, pagedList[hookline.APIKey]{
						name: "APIKeyList of " + tenant, items: ks, desc: true, head: head, tail: tail,
						keep: func(k hookline.APIKey) bool { return tenant == "" || k.Tenant == tenant },
						key:  func(k hookline.APIKey) string { return k.ID },
						list: func(lp store.ListParams) ([]hookline.APIKey, error) {
							return e.s.APIKeyList(e.ctx, store.APIKeyListParams{ListParams: lp, Tenant: tenant})
						},
					})
				})
			}
		},
	})
}
