package storetest

import (
	"bytes"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

// oddJSON is valid JSON whose bytes a careless store would change: key order,
// escapes a re-encoder would rewrite, non-ASCII text, spaces and a large number.
const oddJSON = `{"z":1,"a":"caf\u00e9 \/ 😀","html":"<b>&amp;</b>","n":null, "big":12345678901234567890,"list":[3,2,1]}`

func exerciseEvents(t *testing.T, open func(t *testing.T) store.Store) {
	subtests(t, map[string]func(t *testing.T){
		"InsertGet": func(t *testing.T) {
			e := newEnv(t, open)
			w1, w2 := e.webhook("acme"), e.webhook("acme")
			ev1 := e.newEvent("acme", "order.created")
			ev1.Data = []byte(oddJSON)
			ev2 := e.newEvent("acme", "order.paid")
			big := e.newEvent("acme", "order.exported") // the largest payload the API accepts
			big.Data = append(append([]byte(`{"blob":"`), bytes.Repeat([]byte("0123456789abcdef"), 1<<16-1)...), `"}`...)
			due := e.now.Add(5 * time.Second)
			ps := []store.EventInsertParams{e.insertParams(ev1, due, w1, w2), e.insertParams(ev2, due, w2), e.insertParams(big, due)}
			res, err := e.s.EventInsert(e.ctx, ps)
			if err != nil {
				t.Fatalf("EventInsert: %v", err)
			}
			if len(res) != len(ps) {
				t.Fatalf("EventInsert of %d events: got %d results", len(ps), len(res))
			}
			for i, r := range res {
				p := ps[i]
				if !r.Created {
					t.Errorf("result %d: Created got false, want true", i)
				}
				if r.Event == nil || r.Event.ID != p.Event.ID {
					t.Fatalf("result %d: got event %+v, want id %s", i, r.Event, p.Event.ID)
				}
				if len(r.Deliveries) != len(p.Deliveries) {
					t.Fatalf("result %d: got %d deliveries, want %d", i, len(r.Deliveries), len(p.Deliveries))
				}
				for k, d := range r.Deliveries {
					want := p.Deliveries[k]
					checkNewDelivery(t, d, want, p.Event)
					checkNewDelivery(t, *e.delivery(want.ID), want, p.Event)
				}
				got, err := e.s.EventGet(e.ctx, p.Event.ID)
				if err != nil {
					t.Fatalf("EventGet: %v", err)
				}
				checkEvent(t, got, p.Event)
			}
			_, err = e.s.EventGet(e.ctx, hookline.NewID(hookline.PrefixEvent))
			wantNotFound(t, "EventGet of an unknown id", err)
		},
		"InsertIsAtomic": func(t *testing.T) {
			e := newEnv(t, open)
			w := e.webhook("acme")
			good := e.insertParams(e.newEvent("acme", "order.created"), e.now, w)
			bad := e.insertParams(e.newEvent("acme", "order.created"), e.now, w)
			bad.Deliveries[0].ID = good.Deliveries[0].ID // a duplicate primary key fails the batch
			if _, err := e.s.EventInsert(e.ctx, []store.EventInsertParams{good, bad}); err == nil {
				t.Fatal("EventInsert with a duplicate delivery id: got nil error, want one")
			}
			_, err := e.s.EventGet(e.ctx, good.Event.ID)
			wantNotFound(t, "EventGet of the batch's first event after the batch failed", err)
			_, err = e.s.DeliveryGet(e.ctx, good.Deliveries[0].ID)
			wantNotFound(t, "DeliveryGet of the batch's first delivery after the batch failed", err)
		},
		"Idempotency": func(t *testing.T) {
			e := newEnv(t, open)
			w1, w2, w3 := e.webhook("acme"), e.webhook("acme"), e.webhook("acme")
			first := e.newEvent("acme", "order.created")
			first.IdempotencyKey = "order-42"
			first.Data = []byte(`{"v":1}`)
			orig := e.insert(e.insertParams(first, e.now, w1, w2))

			again := e.newEvent("acme", "order.created")
			again.IdempotencyKey = "order-42"
			again.Data = []byte(`{"v":2}`)
			dup := e.insertParams(again, e.now, w1, w2, w3)
			res, err := e.s.EventInsert(e.ctx, []store.EventInsertParams{dup})
			if err != nil {
				t.Fatalf("EventInsert of a repeated key: %v", err)
			}
			r := res[0]
			if r.Created {
				t.Error("repeated key: Created got true, want false")
			}
			if r.Event == nil || r.Event.ID != first.ID || !bytes.Equal(r.Event.Data, first.Data) {
				t.Fatalf("repeated key: got event %+v, want the stored %s with data %s", r.Event, first.ID, first.Data)
			}
			if got, want := deliveryIDs(r.Deliveries), deliveryIDs(orig.Deliveries); !reflect.DeepEqual(got, want) {
				t.Errorf("repeated key: got deliveries %v, want the stored %v", got, want)
			}
			_, err = e.s.EventGet(e.ctx, again.ID)
			wantNotFound(t, "EventGet of the duplicate's id", err)
			for _, d := range dup.Deliveries {
				_, err := e.s.DeliveryGet(e.ctx, d.ID)
				wantNotFound(t, "DeliveryGet of a duplicate's delivery", err)
			}
			if n := countDeliveries(t, e, store.DeliveryListParams{}); n != 2 {
				t.Errorf("deliveries after a duplicate: got %d, want 2", n)
			}

			other := e.newEvent("globex", "order.created")
			other.IdempotencyKey = "order-42"
			e.insert(store.EventInsertParams{Event: other}) // the key is per tenant

			// Events without a key never collide.
			e.insert(store.EventInsertParams{Event: e.newEvent("acme", "order.created")})
			e.insert(store.EventInsertParams{Event: e.newEvent("acme", "order.created")})
		},
		"IdempotencyWithinBatch": func(t *testing.T) {
			e := newEnv(t, open)
			w := e.webhook("acme")
			a, b := e.newEvent("acme", "order.created"), e.newEvent("acme", "order.created")
			a.IdempotencyKey, b.IdempotencyKey = "k", "k"
			pa, pb := e.insertParams(a, e.now, w), e.insertParams(b, e.now, w)
			res, err := e.s.EventInsert(e.ctx, []store.EventInsertParams{pa, pb})
			if err != nil {
				t.Fatalf("EventInsert: %v", err)
			}
			if !res[0].Created || res[1].Created {
				t.Errorf("same key twice in a batch: got Created %v, %v; want true, false", res[0].Created, res[1].Created)
			}
			if res[1].Event == nil || res[1].Event.ID != a.ID {
				t.Errorf("second of the batch: got event %+v, want %s", res[1].Event, a.ID)
			}
			if got, want := deliveryIDs(res[1].Deliveries), []string{pa.Deliveries[0].ID}; !reflect.DeepEqual(got, want) {
				t.Errorf("second of the batch: got deliveries %v, want %v", got, want)
			}
		},
		"IdempotencyConcurrent": func(t *testing.T) {
			e := newEnv(t, open)
			w := e.webhook("acme")
			const n = 8
			results := make([]store.EventInsertResult, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				ev := e.newEvent("acme", "order.created")
				ev.IdempotencyKey = "same"
				p := e.insertParams(ev, e.now, w)
				wg.Go(func() {
					res, err := e.s.EventInsert(e.ctx, []store.EventInsertParams{p})
					errs[i] = err
					if err == nil {
						results[i] = res[0]
					}
				})
			}
			wg.Wait()
			created, ids := 0, map[string]bool{}
			for i := range n {
				if errs[i] != nil {
					t.Fatalf("concurrent EventInsert %d: got %v, want nil", i, errs[i])
				}
				if results[i].Created {
					created++
				}
				ids[results[i].Event.ID] = true
				if len(results[i].Deliveries) != 1 {
					t.Errorf("concurrent EventInsert %d: got %d deliveries, want 1", i, len(results[i].Deliveries))
				}
			}
			if created != 1 || len(ids) != 1 {
				t.Errorf("concurrent inserts of one key: got %d created and %d distinct events, want 1 and 1", created, len(ids))
			}
			if c := countDeliveries(t, e, store.DeliveryListParams{}); c != 1 {
				t.Errorf("deliveries: got %d, want 1", c)
			}
		},
		"List": func(t *testing.T) {
			e := newEnv(t, open)
			var all, acme, acmePaid []string // newest first
			for i := range 6 {
				tenant, typ := "acme", "order.created"
				if i%3 == 2 {
					tenant = "globex"
				}
				if i%2 == 1 {
					typ = "order.paid"
				}
				ev := e.newEvent(tenant, typ)
				e.insert(store.EventInsertParams{Event: ev})
				all = append([]string{ev.ID}, all...)
				if tenant == "acme" {
					acme = append([]string{ev.ID}, acme...)
					if typ == "order.paid" {
						acmePaid = append([]string{ev.ID}, acmePaid...)
					}
				}
			}
			cases := []struct {
				name string
				p    store.EventListParams
				want []string
			}{
				{"all", store.EventListParams{}, all},
				{"tenant", store.EventListParams{Tenant: "acme"}, acme},
				{"type", store.EventListParams{Tenant: "acme", Type: "order.paid"}, acmePaid},
				{"unknown tenant", store.EventListParams{Tenant: "nobody"}, nil},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					for _, size := range []int{1, 2, 100} {
						if got := pageEvents(t, e, c.p, size); !reflect.DeepEqual(got, c.want) {
							t.Errorf("EventList by %d: got %v, want %v", size, got, c.want)
						}
					}
				})
			}
		},
	})
}

// checkNewDelivery compares a freshly inserted delivery with its insert params.
func checkNewDelivery(t *testing.T, got hookline.Delivery, want store.DeliveryInsert, ev *hookline.Event) {
	t.Helper()
	if got.ID != want.ID || got.EventID != ev.ID || got.WebhookID != want.WebhookID || got.Tenant != ev.Tenant ||
		got.EventType != ev.Type || got.Status != hookline.DeliveryPending || got.Attempts != 0 {
		t.Errorf("delivery:\n got %+v\nwant id %s event %s webhook %s tenant %s type %s, pending, 0 attempts",
			got, want.ID, ev.ID, want.WebhookID, ev.Tenant, ev.Type)
	}
	if got.NextAttemptAt == nil || !got.NextAttemptAt.Equal(want.NextAttemptAt) {
		t.Errorf("delivery %s NextAttemptAt: got %s, want %v", want.ID, fmtTime(got.NextAttemptAt), want.NextAttemptAt)
	}
}

// checkEvent compares a read event with the stored one; Data must match byte for byte.
func checkEvent(t *testing.T, got, want *hookline.Event) {
	t.Helper()
	if got.ID != want.ID || got.Tenant != want.Tenant || got.Type != want.Type || got.IdempotencyKey != want.IdempotencyKey {
		t.Errorf("event: got %+v, want %+v", got, want)
	}
	if !bytes.Equal(got.Data, want.Data) {
		t.Errorf("event %s data: got %q, want %q byte for byte", want.ID, got.Data, want.Data)
	}
	if !got.Timestamp.Equal(want.Timestamp) || !got.CreatedAt.Equal(want.CreatedAt) {
		t.Errorf("event %s times: got %v, %v; want %v, %v", want.ID, got.Timestamp, got.CreatedAt, want.Timestamp, want.CreatedAt)
	}
}

func pageEvents(t *testing.T, e *env, p store.EventListParams, size int) []string {
	t.Helper()
	return ids(walkPages(t, "EventList", size, func(cursor string) ([]hookline.Event, error) {
		p.Cursor, p.Limit = cursor, size
		return e.s.EventList(e.ctx, p)
	}, func(ev hookline.Event) string { return ev.ID }), func(ev hookline.Event) string { return ev.ID })
}

func countDeliveries(t *testing.T, e *env, p store.DeliveryListParams) int {
	t.Helper()
	p.Limit = 1000
	ds, err := e.s.DeliveryList(e.ctx, p)
	if err != nil {
		t.Fatalf("DeliveryList: %v", err)
	}
	return len(ds)
}
