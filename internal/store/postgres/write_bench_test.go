package postgres_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/store/postgres"
	"github.com/hookline/hookline/internal/store/postgres/pgtest"
)

// writeBatch is how many deliveries each operation of BenchmarkWritePath
// publishes or completes, as a node's engine batches them.
const writeBatch = 20

// BenchmarkWritePath measures the engine's writes on one busy webhook, from
// several goroutines at once on two stores (two nodes), so that they contend
// for the webhook's rows: an operation publishes writeBatch deliveries
// (publish), completes writeBatch deliveries published already leased
// (complete), or claims and completes writeBatch due deliveries (claim+complete).
//
//	go test ./internal/store/postgres -run '^$' -bench WritePath -benchtime 300x
func BenchmarkWritePath(b *testing.B) {
	url := pgtest.MigratedURL(b)
	box := newBox(b)
	nodes := []*postgres.Store{pgtest.OpenURL(b, url, box), pgtest.OpenURL(b, url, box)}
	w := newWebhook("acme", "whsec_bench")
	if err := nodes[0].WebhookCreate(b.Context(), store.WebhookCreateParams{Webhook: w}); err != nil {
		b.Fatal(err)
	}
	// publish stores a batch of events, one delivery each, due at due and
	// leased to token if it is set.
	publish := func(s *postgres.Store, due time.Time, token string) []store.DeliveryCompleteParams {
		now := time.Now().UTC().Truncate(time.Millisecond)
		ps := make([]store.EventInsertParams, writeBatch)
		done := make([]store.DeliveryCompleteParams, writeBatch)
		for i := range ps {
			ev := &hookline.Event{ID: hookline.NewID(hookline.PrefixEvent), Tenant: w.Tenant, Type: "order.created",
				Data: []byte(`{"order":42}`), Timestamp: now, CreatedAt: now}
			d := store.DeliveryInsert{ID: hookline.NewID(hookline.PrefixDelivery), WebhookID: w.ID, NextAttemptAt: due, LeaseToken: token}
			ps[i] = store.EventInsertParams{Event: ev, Deliveries: []store.DeliveryInsert{d}}
			done[i] = completion(d.ID, ev, w, token, i)
		}
		if _, err := s.EventInsert(b.Context(), ps); err != nil {
			b.Fatal(err)
		}
		return done
	}
	complete := func(s *postgres.Store, ps []store.DeliveryCompleteParams) {
		res, err := s.DeliveryComplete(b.Context(), ps)
		if err != nil {
			b.Fatal(err)
		}
		for i, r := range res {
			if !r.Applied {
				b.Fatalf("completion of %s not applied", ps[i].ID)
			}
		}
	}
	run := func(b *testing.B, op func(s *postgres.Store)) {
		b.SetParallelism(4)
		var n atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			s := nodes[n.Add(1)%int64(len(nodes))]
			for pb.Next() {
				op(s)
			}
		})
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*writeBatch), "ns/delivery")
	}

	b.Run("publish", func(b *testing.B) {
		later := time.Now().Add(24 * time.Hour)
		run(b, func(s *postgres.Store) { publish(s, later, "") })
	})
	b.Run("complete", func(b *testing.B) {
		later := time.Now().Add(24 * time.Hour)
		batches := make(chan []store.DeliveryCompleteParams, b.N)
		for i := range b.N {
			batches <- publish(nodes[i%len(nodes)], later, fmt.Sprintf("lease%d", i))
		}
		b.ResetTimer()
		run(b, func(s *postgres.Store) { complete(s, <-batches) })
	})
	b.Run("claim+complete", func(b *testing.B) {
		for i := range b.N {
			publish(nodes[i%len(nodes)], time.Now().Add(-time.Second), "")
		}
		b.ResetTimer()
		run(b, func(s *postgres.Store) {
			now := time.Now()
			token := hookline.NewID("")
			cs, err := s.DeliveryClaim(b.Context(), store.DeliveryClaimParams{Now: now, LeaseUntil: now.Add(time.Minute), LeaseToken: token, Limit: writeBatch})
			if err != nil {
				b.Fatal(err)
			}
			ps := make([]store.DeliveryCompleteParams, len(cs))
			for i, c := range cs {
				ps[i] = completion(c.Delivery.ID, &c.Event, w, token, i)
			}
			if len(ps) > 0 {
				complete(s, ps)
			}
		})
	})
}

// completion is the outcome of delivery id of ev to w under token: mostly a
// success, every fifth a retry.
func completion(id string, ev *hookline.Event, w *hookline.Webhook, token string, i int) store.DeliveryCompleteParams {
	now := time.Now().UTC().Truncate(time.Millisecond)
	a := &hookline.Attempt{ID: hookline.NewID(hookline.PrefixAttempt), DeliveryID: id, WebhookID: w.ID, EventID: ev.ID,
		EventType: ev.Type, Tenant: w.Tenant, Number: 1, StartedAt: now, DurationMS: int64(10 + i), StatusCode: 200,
		RequestHeaders: map[string]string{"Content-Type": "application/json"}, ResponseBody: "ok"}
	p := store.DeliveryCompleteParams{DeliveryLease: store.DeliveryLease{ID: id, LeaseToken: token}, WebhookID: w.ID,
		Attempt: a, Status: hookline.DeliverySucceeded, Now: now}
	if i%5 == 4 {
		a.StatusCode, a.Error = 503, "HTTP 503"
		p.Status, p.NextAttemptAt = hookline.DeliveryPending, now.Add(time.Hour)
	}
	return p
}
