// Package storetest is the behavioural suite every storage driver runs: one set of
// tests, written against the store.Store contract, so SQLite and PostgreSQL behave
// the same. A driver's test calls Exercise with a function that opens a fresh,
// migrated, empty store:
//
//	func TestStore(t *testing.T) {
//		storetest.Exercise(t, func(t *testing.T) store.Store { return openTemp(t) })
//	}
package storetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

// Exercise runs the whole suite. open must return a fresh, migrated, empty store
// and arrange for it to be closed when the test ends; every subtest opens its own.
func Exercise(t *testing.T, open func(t *testing.T) store.Store) {
	t.Helper()
	groups := []struct {
		name string
		run  func(t *testing.T, open func(t *testing.T) store.Store)
	}{
		{"Basics", exerciseBasics},
		{"Webhook", exerciseWebhooks},
		{"Event", exerciseEvents},
		{"DeliveryClaim", exerciseClaims},
		{"DeliveryComplete", exerciseCompletes},
		{"Delivery", exerciseDeliveries},
		{"DeliveryFilter", exerciseDeliveryFilters},
		{"DeliveryRecover", exerciseDeliveryRecover},
		{"Stats", exerciseStats},
		{"WebhookHealth", exerciseWebhookHealth},
		{"AutoDisable", exerciseAutoDisable},
		{"AutoDisableAttempts", exerciseAutoDisableAttempts},
		{"Circuit", exerciseCircuit},
		{"Attempt", exerciseAttempts},
		{"EventType", exerciseEventTypes},
		{"Profile", exerciseProfiles},
		{"TenantDefaults", exerciseTenantDefaults},
		{"APIKey", exerciseAPIKeys},
		{"Keyspace", exerciseKeyspaces},
		{"PortalSession", exercisePortalSessions},
		{"Idempotency", exerciseIdempotency},
		{"Purge", exercisePurge},
		{"ListPaging", exerciseListPaging},
		{"ListTimes", exerciseListTimes},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			g.run(t, open)
		})
	}
}

// subtests runs each case in parallel.
func subtests(t *testing.T, cases map[string]func(t *testing.T)) {
	t.Helper()
	for _, name := range slices.Sorted(maps.Keys(cases)) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cases[name](t)
		})
	}
}

func exerciseBasics(t *testing.T, open func(t *testing.T) store.Store) {
	subtests(t, map[string]func(t *testing.T){
		"Ping": func(t *testing.T) {
			e := newEnv(t, open)
			if err := e.s.Ping(e.ctx); err != nil {
				t.Fatalf("Ping: got %v, want nil", err)
			}
		},
		"MigrateAgainKeepsData": func(t *testing.T) {
			e := newEnv(t, open)
			w := e.webhook("acme")
			for i := range 2 {
				if err := e.s.Migrate(e.ctx); err != nil {
					t.Fatalf("Migrate #%d on a migrated store: got %v, want nil", i+1, err)
				}
			}
			got, err := e.s.WebhookGet(e.ctx, w.ID)
			if err != nil {
				t.Fatalf("WebhookGet after Migrate: %v", err)
			}
			if got.URL != w.URL {
				t.Errorf("URL after Migrate: got %q, want %q", got.URL, w.URL)
			}
		},
		"SingleNodeIsStable": func(t *testing.T) {
			e := newEnv(t, open)
			first := e.s.SingleNode()
			for range 3 {
				if got := e.s.SingleNode(); got != first {
					t.Fatalf("SingleNode: got %v, want %v as on the first call", got, first)
				}
			}
		},
		"EmptyStore": func(t *testing.T) {
			e := newEnv(t, open)
			whs, err := e.s.WebhookList(e.ctx, store.WebhookListParams{})
			if err != nil || len(whs) != 0 {
				t.Errorf("WebhookList: got %d webhooks, %v; want 0, nil", len(whs), err)
			}
			evs, err := e.s.EventList(e.ctx, store.EventListParams{})
			if err != nil || len(evs) != 0 {
				t.Errorf("EventList: got %d events, %v; want 0, nil", len(evs), err)
			}
			ds, err := e.s.DeliveryList(e.ctx, store.DeliveryListParams{})
			if err != nil || len(ds) != 0 {
				t.Errorf("DeliveryList: got %d deliveries, %v; want 0, nil", len(ds), err)
			}
			claimed, err := e.s.DeliveryClaim(e.ctx, e.claimParams(e.now, "tok", 10))
			if err != nil || len(claimed) != 0 {
				t.Errorf("DeliveryClaim: got %d deliveries, %v; want 0, nil", len(claimed), err)
			}
			n, err := e.s.DeliveryCountPending(e.ctx)
			if err != nil || n != 0 {
				t.Errorf("DeliveryCountPending: got %d, %v; want 0, nil", n, err)
			}
			n, err = e.s.APIKeyCount(e.ctx)
			if err != nil || n != 0 {
				t.Errorf("APIKeyCount: got %d, %v; want 0, nil", n, err)
			}
			n, err = e.s.Purge(e.ctx, store.PurgeParams{Before: e.now, Limit: 10})
			if err != nil || n != 0 {
				t.Errorf("Purge: got %d, %v; want 0, nil", n, err)
			}
			released, err := e.s.DeliveryReleaseAll(e.ctx, e.now)
			if err != nil || released != 0 {
				t.Errorf("DeliveryReleaseAll: got %d, %v; want 0, nil", released, err)
			}
		},
	})
}

// env is one test's store, context and clock. now is a millisecond-precise UTC
// time near the wall clock (DeliveryRelease makes deliveries due at the wall
// clock's now, so the suite's clock must not be far from it).
type env struct {
	t   *testing.T
	ctx context.Context
	s   store.Store
	now time.Time
}

func newEnv(t *testing.T, open func(t *testing.T) store.Store) *env {
	t.Helper()
	return &env{t: t, ctx: t.Context(), s: open(t), now: time.Now().UTC().Truncate(time.Millisecond)}
}

// webhook creates an active webhook of tenant; opts adjust it before it is stored.
func (e *env) webhook(tenant string, opts ...func(*hookline.Webhook)) *hookline.Webhook {
	e.t.Helper()
	w := &hookline.Webhook{
		ID: hookline.NewID(hookline.PrefixWebhook), Tenant: tenant, URL: "https://receiver.example/hooks",
		Description: "orders", Events: []string{"order.*"}, Secret: "whsec_" + hookline.NewID(""),
		Active: true, Profile: "standard",
		Headers:   map[string]string{"X-Team": "billing"},
		Metadata:  map[string]string{"owner": "ops"},
		CreatedAt: e.now, UpdatedAt: e.now,
	}
	for _, o := range opts {
		o(w)
	}
	if err := e.s.WebhookCreate(e.ctx, store.WebhookCreateParams{Webhook: w, MaxPerTenant: 50}); err != nil {
		e.t.Fatalf("WebhookCreate: %v", err)
	}
	return w
}

// newEvent returns an unsaved event of tenant created at e.now.
func (e *env) newEvent(tenant, typ string) *hookline.Event {
	return &hookline.Event{
		ID: hookline.NewID(hookline.PrefixEvent), Tenant: tenant, Type: typ,
		Data: []byte(`{"order":42}`), Timestamp: e.now.Add(-time.Second), CreatedAt: e.now,
	}
}

// insertParams returns an event with one delivery to each webhook, due at due.
func (e *env) insertParams(ev *hookline.Event, due time.Time, whs ...*hookline.Webhook) store.EventInsertParams {
	p := store.EventInsertParams{Event: ev}
	for _, w := range whs {
		p.Deliveries = append(p.Deliveries, store.DeliveryInsert{
			ID: hookline.NewID(hookline.PrefixDelivery), WebhookID: w.ID, Ordered: w.Ordered, NextAttemptAt: due,
		})
	}
	return p
}

// publish stores one event of the webhooks' tenant with a delivery to each of
// them, due at due, and returns the deliveries.
func (e *env) publish(due time.Time, whs ...*hookline.Webhook) []hookline.Delivery {
	e.t.Helper()
	return e.insert(e.insertParams(e.newEvent(whs[0].Tenant, "order.created"), due, whs...)).Deliveries
}

// insert stores one event and checks that it was created.
func (e *env) insert(p store.EventInsertParams) store.EventInsertResult {
	e.t.Helper()
	res, err := e.s.EventInsert(e.ctx, []store.EventInsertParams{p})
	if err != nil {
		e.t.Fatalf("EventInsert: %v", err)
	}
	if len(res) != 1 || !res[0].Created {
		e.t.Fatalf("EventInsert: got %+v, want one created result", res)
	}
	return res[0]
}

func (e *env) claimParams(now time.Time, token string, limit int) store.DeliveryClaimParams {
	return store.DeliveryClaimParams{Now: now, LeaseUntil: now.Add(time.Hour), LeaseToken: token, Limit: limit}
}

// claim claims due deliveries at now with a one-hour lease.
func (e *env) claim(now time.Time, token string, limit int) []store.ClaimedDelivery {
	e.t.Helper()
	cs, err := e.s.DeliveryClaim(e.ctx, e.claimParams(now, token, limit))
	if err != nil {
		e.t.Fatalf("DeliveryClaim: %v", err)
	}
	for _, c := range cs {
		if c.LeaseToken != token {
			e.t.Errorf("claimed %s: LeaseToken got %q, want %q", c.Delivery.ID, c.LeaseToken, token)
		}
	}
	return cs
}

// complete completes one delivery and returns its result.
func (e *env) complete(p store.DeliveryCompleteParams) store.DeliveryCompleteResult {
	e.t.Helper()
	res, err := e.s.DeliveryComplete(e.ctx, []store.DeliveryCompleteParams{p})
	if err != nil {
		e.t.Fatalf("DeliveryComplete %s: %v", p.ID, err)
	}
	if len(res) != 1 {
		e.t.Fatalf("DeliveryComplete: got %d results, want 1", len(res))
	}
	return res[0]
}

// completeAll records several outcomes in one call, in order.
func (e *env) completeAll(ps ...store.DeliveryCompleteParams) []store.DeliveryCompleteResult {
	e.t.Helper()
	res, err := e.s.DeliveryComplete(e.ctx, ps)
	if err != nil {
		e.t.Fatalf("DeliveryComplete: %v", err)
	}
	if len(res) != len(ps) {
		e.t.Fatalf("DeliveryComplete: got %d results, want %d", len(res), len(ps))
	}
	return res
}

// attempt returns an attempt of delivery d made at at.
func attempt(d hookline.Delivery, number, status int, at time.Time) *hookline.Attempt {
	a := &hookline.Attempt{
		ID: hookline.NewID(hookline.PrefixAttempt), DeliveryID: d.ID, WebhookID: d.WebhookID, EventID: d.EventID,
		EventType: d.EventType, Tenant: d.Tenant, Number: number, StartedAt: at, DurationMS: 12, StatusCode: status,
		RequestHeaders:  map[string]string{"Content-Type": "application/json"},
		ResponseHeaders: map[string]string{"Server": "test"},
		ResponseBody:    fmt.Sprintf("answer %d", status),
	}
	if status < 200 || status > 299 {
		a.Error = fmt.Sprintf("HTTP %d", status)
	}
	return a
}

func (e *env) delivery(id string) *hookline.Delivery {
	e.t.Helper()
	d, err := e.s.DeliveryGet(e.ctx, id)
	if err != nil {
		e.t.Fatalf("DeliveryGet %s: %v", id, err)
	}
	return d
}

func (e *env) getWebhook(id string) *hookline.Webhook {
	e.t.Helper()
	w, err := e.s.WebhookGet(e.ctx, id)
	if err != nil {
		e.t.Fatalf("WebhookGet %s: %v", id, err)
	}
	return w
}

// wantNotFound fails unless err is store.ErrNotFound.
func wantNotFound(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("%s: got error %v, want ErrNotFound", what, err)
	}
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

// claimedIDs returns the delivery IDs of cs, sorted.
func claimedIDs(cs []store.ClaimedDelivery) []string {
	ids := make([]string, len(cs))
	for i, c := range cs {
		ids[i] = c.Delivery.ID
	}
	slices.Sort(ids)
	return ids
}

// deliveryIDs returns the IDs of ds, sorted.
func deliveryIDs(ds []hookline.Delivery) []string {
	ids := make([]string, len(ds))
	for i, d := range ds {
		ids[i] = d.ID
	}
	slices.Sort(ids)
	return ids
}

// sortedIDs returns ids sorted, leaving the argument alone.
func sortedIDs(ids ...string) []string {
	return slices.Sorted(slices.Values(ids))
}

// sameTime reports whether two optional times are both nil or equal.
func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

func fmtTime(t *time.Time) string {
	if t == nil {
		return "nil"
	}
	return t.Format(time.RFC3339Nano)
}

// walkPages follows a keyset-paginated list from the first page to the empty
// one, checking that no page is larger than size, and returns every item.
func walkPages[T any](t *testing.T, name string, size int, list func(cursor string) ([]T, error), id func(T) string) []T {
	t.Helper()
	var all []T
	cursor := ""
	for range 100 {
		page, err := list(cursor)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(page) > size {
			t.Fatalf("%s with limit %d: got %d items", name, size, len(page))
		}
		if len(page) == 0 {
			return all
		}
		all = append(all, page...)
		cursor = id(page[len(page)-1])
	}
	t.Fatalf("%s pagination does not end", name)
	return nil
}

// ids maps items to their ids (nil for none).
func ids[T any](items []T, id func(T) string) []string {
	var out []string
	for _, it := range items {
		out = append(out, id(it))
	}
	return out
}
