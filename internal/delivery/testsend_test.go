package delivery

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
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
