package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

func exerciseDeliveries(t *testing.T, open func(t *testing.T) store.Store) {
	subtests(t, map[string]func(t *testing.T){
		"Release": func(t *testing.T) {
			e := newEnv(t, open)
			w := e.webhook("acme")
			ds := e.publish(e.now, w, w, w)
			if cs := e.claim(e.now, "A", 10); len(cs) != 3 {
				t.Fatalf("claim: got %d, want 3", len(cs))
			}
			err := e.s.DeliveryRelease(e.ctx, []store.DeliveryLease{{ID: ds[0].ID, LeaseToken: "A"}, {ID: ds[1].ID, LeaseToken: "wrong"}})
			if err != nil {
				t.Fatalf("DeliveryRelease: %v", err)
			}
			// Released deliveries are due at the wall clock's now; the others stay
			// leased for an hour.
			at := time.Now().Add(time.Second)
			cs := e.claim(at, "B", 10)
			if got, want := claimedIDs(cs), []string{ds[0].ID}; !reflect.DeepEqual(got, want) {
				t.Fatalf("claim after releasing one: got %v, want %v", got, want)
			}
			if got := cs[0].Delivery; got.Attempts != 0 || got.Status != hookline.DeliveryPending {
				t.Errorf("released delivery: got %s with %d attempts, want pending with 0", got.Status, got.Attempts)
			}
			res := e.complete(store.DeliveryCompleteParams{
				DeliveryLease: store.DeliveryLease{ID: ds[0].ID, LeaseToken: "A"}, WebhookID: w.ID,
				Attempt: attempt(ds[0], 1, 200, at), Status: hookline.DeliverySucceeded, Now: at,
			})
			if res.Applied {
				t.Errorf("completion with the released token: Applied got true, want false")
			}
		},
		"ReleaseLeavesEnded": func(t *testing.T) {
			e := newEnv(t, open)
			w := e.webhook("acme")
			d := e.publish(e.now, w)[0]
			e.claim(e.now, "A", 10)
			e.complete(store.DeliveryCompleteParams{
				DeliveryLease: store.DeliveryLease{ID: d.ID, LeaseToken: "A"}, WebhookID: w.ID,
				Attempt: attempt(d, 1, 200, e.now), Status: hookline.DeliverySucceeded, Now: e.now,
			})
			if err := e.s.DeliveryRelease(e.ctx, []store.DeliveryLease{{ID: d.ID, LeaseToken: "A"}}); err != nil {
				t.Fatalf("DeliveryRelease: %v", err)
			}
			checkDeliveryState(t, e.delivery(d.ID), hookline.DeliverySucceeded, 1, 200, "", nil)
		},
		"ReleaseAll": func(t *testing.T) {
			e := newEnv(t, open)
			w := e.webhook("acme")
			ds := e.publish(e.now, w, w, w, w)
			e.publish(e.now.Add(time.Hour*2), w) // pending, not leased
			e.claim(e.now, "A", 10)
			e.complete(store.DeliveryCompleteParams{
				DeliveryLease: store.DeliveryLease{ID: ds[3].ID, LeaseToken: "A"}, WebhookID: w.ID,
				Attempt: attempt(ds[3], 1, 200, e.now), Status: hookline.DeliverySucceeded, Now: e.now,
			})
			n, err := e.s.DeliveryReleaseAll(e.ctx, e.now)
			if err != nil || n != 3 {
				t.Fatalf("DeliveryReleaseAll: got %d, %v; want 3, nil", n, err)
			}
			if n, err := e.s.DeliveryReleaseAll(e.ctx, e.now); err != nil || n != 0 {
				t.Errorf("second DeliveryReleaseAll: got %d, %v; want 0, nil", n, err)
			}
			cs := e.claim(e.now, "B", 10)
			if got, want := claimedIDs(cs), sortedIDs(ds[0].ID, ds[1].ID, ds[2].ID); !reflect.DeepEqual(got, want) {
				t.Errorf("claim after DeliveryReleaseAll: got %v, want %v", got, want)
			}
			checkDeliveryState(t, e.delivery(ds[3].ID), hookline.DeliverySucceeded, 1, 200, "", nil)
		},
		"Retry": func(t *testing.T) {
			e := newEnv(t, open)
			w := e.webhook("acme")
			ds := e.publish(e.now, w, w)
			e.claim(e.now, "A", 10)
			e.complete(store.DeliveryCompleteParams{
				DeliveryLease: store.DeliveryLease{ID: ds[0].ID, LeaseToken: "A"}, WebhookID: w.ID,
				Attempt: attempt(ds[0], 3, 500, e.now), Status: hookline.DeliveryFailed, Now: e.now,
			})
			e.complete(store.DeliveryCompleteParams{
				DeliveryLease: store.DeliveryLease{ID: ds[1].ID, LeaseToken: "A"}, WebhookID: w.ID,
				Attempt: attempt(ds[1], 1, 200, e.now), Status: hookline.DeliverySucceeded, Now: e.now,
			})
			at := e.now.Add(time.Hour)
			for _, d := range ds {
				got, err := e.s.DeliveryRetry(e.ctx, store.DeliveryRetryParams{ID: d.ID, Now: at})
				if err != nil {
					t.Fatalf("DeliveryRetry: %v", err)
				}
				if got.ID != d.ID || got.Status != hookline.DeliveryPending || !sameTime(got.NextAttemptAt, &at) {
					t.Errorf("DeliveryRetry: got %s %s next %s, want %s pending next %v", got.ID, got.Status, fmtTime(got.NextAttemptAt), d.ID, at)
				}
				if stored := e.delivery(d.ID); stored.Status != hookline.DeliveryPending || !sameTime(stored.NextAttemptAt, &at) {
					t.Errorf("delivery after DeliveryRetry: got %s next %s, want pending next %v", stored.Status, fmtTime(stored.NextAttemptAt), at)
				}
			}
			if cs := e.claim(at.Add(-time.Second), "B", 10); len(cs) != 0 {
				t.Errorf("claim before the retry time: got %v, want none", claimedIDs(cs))
			}
			cs := e.claim(at, "B", 10)
			if got, want := claimedIDs(cs), deliveryIDs(ds); !reflect.DeepEqual(got, want) {
				t.Errorf("claim at the retry time: got %v, want %v", got, want)
			}
			_, err := e.s.DeliveryRetry(e.ctx, store.DeliveryRetryParams{ID: hookline.NewID(hookline.PrefixDelivery), Now: at})
			wantNotFound(t, "DeliveryRetry of an unknown id", err)
		},
		"RetryInFlight": func(t *testing.T) {
			e := newEnv(t, open)
			w := e.webhook("acme")
			d := e.publish(e.now, w)[0]
			e.claim(e.now, "A", 10)
			if _, err := e.s.DeliveryRetry(e.ctx, store.DeliveryRetryParams{ID: d.ID, Now: e.now}); err != nil {
				t.Fatalf("DeliveryRetry: %v", err)
			}
			res := e.complete(store.DeliveryCompleteParams{
				DeliveryLease: store.DeliveryLease{ID: d.ID, LeaseToken: "A"}, WebhookID: w.ID,
				Attempt: attempt(d, 1, 400, e.now), Status: hookline.DeliveryFailed, Now: e.now,
			})
			if res.Applied {
				t.Errorf("completion of the attempt in flight during a retry: Applied got true, want false")
			}
			cs := e.claim(e.now, "B", 10)
			if got, want := claimedIDs(cs), []string{d.ID}; !reflect.DeepEqual(got, want) {
				t.Errorf("claim after a retry: got %v, want %v", got, want)
			}
		},
		"CountPending": func(t *testing.T) {
			e := newEnv(t, open)
			w := e.webhook("acme")
			ds := e.publish(e.now, w, w, w)
			e.publish(e.now.Add(time.Hour), w)
			count := func(want int64) {
				t.Helper()
				n, err := e.s.DeliveryCountPending(e.ctx)
				if err != nil || n != want {
					t.Errorf("DeliveryCountPending: got %d, %v; want %d, nil", n, err, want)
				}
			}
			retrying := func(want int64) {
				t.Helper()
				n, err := e.s.DeliveryCountRetrying(e.ctx)
				if err != nil || n != want {
					t.Errorf("DeliveryCountRetrying: got %d, %v; want %d, nil", n, err, want)
				}
			}
			count(4)
			retrying(0)
			e.claim(e.now, "A", 10)
			count(4) // leased deliveries are still pending
			retrying(0)
			e.complete(store.DeliveryCompleteParams{
				DeliveryLease: store.DeliveryLease{ID: ds[0].ID, LeaseToken: "A"}, WebhookID: w.ID,
				Attempt: attempt(ds[0], 1, 200, e.now), Status: hookline.DeliverySucceeded, Now: e.now,
			})
			e.complete(store.DeliveryCompleteParams{
				DeliveryLease: store.DeliveryLease{ID: ds[1].ID, LeaseToken: "A"}, WebhookID: w.ID,
				Status: hookline.DeliveryCancelled, Error: "webhook was deleted", Now: e.now,
			})
			count(2)
			e.complete(store.DeliveryCompleteParams{
				DeliveryLease: store.DeliveryLease{ID: ds[2].ID, LeaseToken: "A"}, WebhookID: w.ID,
				Attempt: attempt(ds[2], 1, 500, e.now), Status: hookline.DeliveryPending, NextAttemptAt: e.now.Add(time.Minute), Now: e.now,
			})
			count(2)
			retrying(1) // attempted once, due again
		},
		"GetList": func(t *testing.T) {
			e := newEnv(t, open)
			a1, a2 := e.webhook("acme"), e.webhook("acme")
			g := e.webhook("globex")
			var all []hookline.Delivery // oldest first
			all = append(all, e.publish(e.now, a1, a2)...)
			all = append(all, e.publish(e.now, a1)...)
			all = append(all, e.publish(e.now, g)...)
			e.claim(e.now, "A", 10)
			e.complete(store.DeliveryCompleteParams{
				DeliveryLease: store.DeliveryLease{ID: all[2].ID, LeaseToken: "A"}, WebhookID: a1.ID,
				Attempt: attempt(all[2], 1, 410, e.now), Status: hookline.DeliveryFailed, Now: e.now,
			})

			got := e.delivery(all[1].ID)
			if got.WebhookID != a2.ID || got.EventID != all[1].EventID || got.Tenant != "acme" || got.EventType != "order.created" {
				t.Errorf("DeliveryGet: got %+v, want webhook %s event %s tenant acme type order.created", got, a2.ID, all[1].EventID)
			}
			if !got.CreatedAt.Equal(e.now) {
				t.Errorf("DeliveryGet CreatedAt: got %v, want %v", got.CreatedAt, e.now)
			}
			_, err := e.s.DeliveryGet(e.ctx, hookline.NewID(hookline.PrefixDelivery))
			wantNotFound(t, "DeliveryGet of an unknown id", err)

			newest := func(ds ...hookline.Delivery) []string {
				ids := make([]string, len(ds))
				for i, d := range ds {
					ids[len(ds)-1-i] = d.ID
				}
				return ids
			}
			cases := []struct {
				name string
				p    store.DeliveryListParams
				want []string
			}{
				{"all", store.DeliveryListParams{}, newest(all...)},
				{"tenant", store.DeliveryListParams{Tenant: "acme"}, newest(all[:3]...)},
				{"webhook", store.DeliveryListParams{WebhookID: a1.ID}, newest(all[0], all[2])},
				{"event", store.DeliveryListParams{EventID: all[0].EventID}, newest(all[0], all[1])},
				{"status", store.DeliveryListParams{Status: hookline.DeliveryFailed}, []string{all[2].ID}},
				{"webhook and status", store.DeliveryListParams{WebhookID: a1.ID, Status: hookline.DeliveryPending}, []string{all[0].ID}},
				{"no match", store.DeliveryListParams{Tenant: "globex", Status: hookline.DeliveryFailed}, nil},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					for _, size := range []int{1, 3, 100} {
						if got := pageDeliveries(t, e, c.p, size); !reflect.DeepEqual(got, c.want) {
							t.Errorf("DeliveryList by %d: got %v, want %v", size, got, c.want)
						}
					}
				})
			}
		},
	})
}

func pageDeliveries(t *testing.T, e *env, p store.DeliveryListParams, size int) []string {
	t.Helper()
	return ids(walkPages(t, "DeliveryList", size, func(cursor string) ([]hookline.Delivery, error) {
		p.Cursor, p.Limit = cursor, size
		return e.s.DeliveryList(e.ctx, p)
	}, func(d hookline.Delivery) string { return d.ID }), func(d hookline.Delivery) string { return d.ID })
}
