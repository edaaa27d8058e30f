package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

// testSendResults starts one Test call per webhook in whs at once and returns
// a channel of their errors.
func testSendResults(e *Engine, whs []*hookline.Webhook) <-chan error {
	errs := make(chan error, len(whs))
	var ready sync.WaitGroup
	ready.Add(len(whs))
	for _, wh := range whs {
		go func() {
			ready.Done()
			ready.Wait() // all start together
			_, err := e.Test(context.Background(), wh, TestEvent{})
			errs <- err
		}()
	}
	return errs
}

// Test sends are bounded per webhook and in the process: those over the bound
// are refused with ErrTestBusy at once, and the bound is given back after each.
func TestTestSendsAreBounded(t *testing.T) {
	onEachDriver(t, func(t *testing.T, setup setupFunc) {
		tests := []struct {
			name     string
			webhooks int // one receiver behind them all
			calls    int // per webhook
			want     int // let through at once
		}{
			{"per webhook", 1, 20, maxTestSendsPerWebhook},
			{"in the process", 20, 1, maxTestSends},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				f := setup(t)
				e := f.start(t)
				hold := make(chan struct{})
				rcv := newReceiver(t, reply{status: http.StatusOK, wait: hold}) // every request held until hold closes
				var whs []*hookline.Webhook
				for range tt.webhooks {
					wh := f.webhook(t, rcv.URL)
					for range tt.calls {
						whs = append(whs, wh)
					}
				}

				errs := testSendResults(e, whs)
				busy := 0
				deadline := time.After(5 * time.Second)
				for busy < len(whs)-tt.want {
					select {
					case err := <-errs:
						if !errors.Is(err, ErrTestBusy) {
							close(hold)
							t.Fatalf("a test send over the bound: got %v, want ErrTestBusy at once", err)
						}
						busy++
					case <-deadline:
						close(hold)
						t.Fatalf("got %d test sends refused within 5s, want %d", busy, len(whs)-tt.want)
					}
				}
				waitFor(t, 5*time.Second, "the test sends let through to arrive", func() bool { return rcv.count() == tt.want })
				close(hold)
				for range tt.want {
					if err := <-errs; err != nil {
						t.Errorf("a test send within the bound: got %v, want nil", err)
					}
				}
				rcv.mu.Lock()
				most := rcv.maxInFlight
				rcv.mu.Unlock()
				if most > tt.want {
					t.Errorf("requests in flight at the receiver: got %d at most, want at most %d", most, tt.want)
				}

				// The bound was given back: as many go through again.
				errs = testSendResults(e, whs[:tt.want])
				for range tt.want {
					if err := <-errs; err != nil {
						t.Errorf("a test send after the others ended: got %v, want nil", err)
					}
				}
			})
		}
	})
}

// A test send's event is stored, with no delivery, so that the event_id its
// attempt shows leads to it; and the attempt it returns is the one stored, to
// the millisecond, not a finer time that no later read shows.
func TestTestSendStoresItsEvent(t *testing.T) {
	onEachDriver(t, func(t *testing.T, setup setupFunc) {
		f := setup(t)
		e := f.start(t)
		rcv := newReceiver(t)
		wh := f.webhook(t, rcv.URL)
		ctx := context.Background()

		a, err := e.Test(ctx, wh, TestEvent{Type: "order.created", Data: json.RawMessage(`{"n":1}`)})
		if err != nil {
			t.Fatalf("Test: %v", err)
		}
		ev, err := f.store.EventGet(ctx, a.EventID)
		if err != nil {
			t.Fatalf("EventGet of the test's event_id %s: got %v, want the event", a.EventID, err)
		}
		if ev.Tenant != wh.Tenant || ev.Type != "order.created" || string(ev.Data) != `{"n":1}` || ev.IdempotencyKey != "" {
			t.Errorf("stored test event: got tenant %q type %q data %s key %q; want %q order.created {\"n\":1} and no key",
				ev.Tenant, ev.Type, ev.Data, ev.IdempotencyKey, wh.Tenant)
		}
		if got := rcv.requests(); len(got) != 1 || got[0].eventID() != ev.ID {
			t.Errorf("the receiver got %d requests; want 1, of event %s", len(got), ev.ID)
		}
		ds, err := f.store.DeliveryList(ctx, store.DeliveryListParams{ListParams: store.ListParams{Limit: 10}, EventID: ev.ID})
		if err != nil || len(ds) != 0 {
			t.Errorf("deliveries of the test event: got %d, %v; want none (a test send is not queued)", len(ds), err)
		}

		if !a.StartedAt.Equal(a.StartedAt.Truncate(time.Millisecond)) {
			t.Errorf("the test attempt's time %s is finer than the millisecond the store keeps", a.StartedAt.Format(time.RFC3339Nano))
		}
		logs, err := f.store.AttemptList(ctx, store.AttemptListParams{WebhookID: wh.ID, ListParams: store.ListParams{Limit: 10}})
		if err != nil || len(logs) != 1 {
			t.Fatalf("the webhook's log: got %d attempts, %v; want 1", len(logs), err)
		}
		if !logs[0].StartedAt.Equal(a.StartedAt) || !ev.Timestamp.Equal(a.StartedAt) {
			t.Errorf("times of one test send: attempt returned %s, stored %s, event timestamp %s; want one time",
				a.StartedAt.Format(time.RFC3339Nano), logs[0].StartedAt.Format(time.RFC3339Nano), ev.Timestamp.Format(time.RFC3339Nano))
		}
	})
}
