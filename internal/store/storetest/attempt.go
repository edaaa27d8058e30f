package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

func exerciseAttempts(t *testing.T, open func(t *testing.T) store.Store) {
	subtests(t, map[string]func(t *testing.T){
		"InsertList": func(t *testing.T) {
			e := newEnv(t, open)
			w, other := e.webhook("acme"), e.webhook("acme")
			ds := e.publish(e.now, w, other)
			e.claim(e.now, "A", 10)
			a1 := attempt(ds[0], 1, 503, e.now)
			a1.ResponseHeaders = map[string]string{"Retry-After": "120", "Content-Type": "text/plain; charset=utf-8"}
			a1.ResponseBody = "Service Unavailable\n\t<html>é"
			e.complete(store.DeliveryCompleteParams{
				DeliveryLease: store.DeliveryLease{ID: ds[0].ID, LeaseToken: "A"}, WebhookID: w.ID,
				Attempt: a1, Status: hookline.DeliveryPending, NextAttemptAt: e.now, Now: e.now,
			})
			e.claim(e.now, "B", 10)
			a2 := attempt(ds[0], 2, 200, e.now.Add(time.Second))
			e.complete(store.DeliveryCompleteParams{
				DeliveryLease: store.DeliveryLease{ID: ds[0].ID, LeaseToken: "B"}, WebhookID: w.ID,
				Attempt: a2, Status: hookline.DeliverySucceeded, Now: e.now,
			})
			// A test attempt belongs to the webhook but to no delivery.
			test := &hookline.Attempt{
				ID: hookline.NewID(hookline.PrefixAttempt), WebhookID: w.ID, EventID: hookline.NewID(hookline.PrefixEvent),
				EventType: hookline.EventWebhookTest, Tenant: "acme", Number: 1, StartedAt: e.now.Add(2 * time.Second),
				DurationMS: 30001, Error: "timeout after 30s",
				RequestHeaders: map[string]string{"Webhook-Id": "msg_1"},
			}
			if err := e.s.AttemptInsert(e.ctx, test); err != nil {
				t.Fatalf("AttemptInsert: %v", err)
			}
			a3 := attempt(ds[1], 1, 200, e.now)
			e.complete(store.DeliveryCompleteParams{
				DeliveryLease: store.DeliveryLease{ID: ds[1].ID, LeaseToken: "A"}, WebhookID: other.ID,
				Attempt: a3, Status: hookline.DeliverySucceeded, Now: e.now,
			})

			byID := map[string]*hookline.Attempt{a1.ID: a1, a2.ID: a2, test.ID: test, a3.ID: a3}
			cases := []struct {
				name string
				p    store.AttemptListParams
				want []string
			}{
				{"webhook", store.AttemptListParams{WebhookID: w.ID}, []string{test.ID, a2.ID, a1.ID}},
				{"delivery", store.AttemptListParams{DeliveryID: ds[0].ID}, []string{a2.ID, a1.ID}},
				{"other webhook", store.AttemptListParams{WebhookID: other.ID}, []string{a3.ID}},
				{"unknown webhook", store.AttemptListParams{WebhookID: hookline.NewID(hookline.PrefixWebhook)}, nil},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					for _, size := range []int{1, 2, 100} {
						got := pageAttempts(t, e, c.p, size)
						ids := make([]string, len(got))
						for i, a := range got {
							ids[i] = a.ID
							checkAttempt(t, &a, byID[a.ID])
						}
						if len(ids) == 0 {
							ids = nil
						}
						if !reflect.DeepEqual(ids, c.want) {
							t.Errorf("AttemptList by %d: got %v, want %v (newest first)", size, ids, c.want)
						}
					}
				})
			}
		},
	})
}

// checkAttempt compares every stored field of an attempt.
func checkAttempt(t *testing.T, got, want *hookline.Attempt) {
	t.Helper()
	if want == nil {
		t.Errorf("unexpected attempt %s", got.ID)
		return
	}
	g, w := *got, *want
	if !g.StartedAt.Equal(w.StartedAt) {
		t.Errorf("attempt %s StartedAt: got %v, want %v", w.ID, g.StartedAt, w.StartedAt)
	}
	g.StartedAt, w.StartedAt = time.Time{}, time.Time{}
	for _, m := range []*map[string]string{&g.RequestHeaders, &g.ResponseHeaders, &w.RequestHeaders, &w.ResponseHeaders} {
		if len(*m) == 0 {
			*m = nil // an empty map and no map are the same headers
		}
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("attempt %s:\n got %+v\nwant %+v", w.ID, g, w)
	}
}

func pageAttempts(t *testing.T, e *env, p store.AttemptListParams, size int) []hookline.Attempt {
	t.Helper()
	return walkPages(t, "AttemptList", size, func(cursor string) ([]hookline.Attempt, error) {
		p.Cursor, p.Limit = cursor, size
		return e.s.AttemptList(e.ctx, p)
	}, func(a hookline.Attempt) string { return a.ID })
}
