package delivery

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

// gateLimit reads a webhook's adaptive limit.
func gateLimit(e *Engine, webhookID string) float64 {
	e.gates.mu.Lock()
	defer e.gates.mu.Unlock()
	if gt := e.gates.m[webhookID]; gt != nil {
		return gt.limit
	}
	return 0
}

// gateInFlight reads how many attempts a webhook's gate counts in flight.
func gateInFlight(e *Engine, webhookID string) int {
	e.gates.mu.Lock()
	defer e.gates.mu.Unlock()
	if gt := e.gates.m[webhookID]; gt != nil {
		return len(gt.inFlight)
	}
	return 0
}

// An attempt whose delivery another claim took meanwhile (this process paused
// past its lease, say) is stale: it is not recorded, and its outcome, a 503
// here, does not count against the endpoint's health.
func TestStaleOutcomeIsNotRecordedNorCounted(t *testing.T) {
	onEachDriver(t, func(t *testing.T, setup setupFunc) {
		f := setup(t)
		e := f.start(t, func(o *Options) { o.Timeout = 5 * time.Second; o.Lease = 10 * time.Second; o.WebhookConcurrency = 4 })
		first, second := make(chan struct{}), make(chan struct{})
		rcv := newReceiver(t, reply{status: http.StatusServiceUnavailable, wait: first}, reply{status: http.StatusOK, wait: second})
		wh := f.webhook(t, rcv.URL)
		d := publish(t, e, PublishParams{Tenant: "acme", Type: "a.b", Data: []byte(`{}`)})[0].Deliveries[0]
		waitFor(t, 5*time.Second, "the first request", func() bool { return rcv.count() == 1 })

		// Another claim takes the delivery while the first request is out: a
		// manual retry makes it due now, and the engine sends it again.
		if _, err := f.store.DeliveryRetry(context.Background(), store.DeliveryRetryParams{ID: d.ID, Now: time.Now()}); err != nil {
			t.Fatal(err)
		}
		e.Notify()
		waitFor(t, 5*time.Second, "the second request", func() bool { return rcv.count() == 2 })
		limit := gateLimit(e, wh.ID)

		close(first) // the stale attempt gets 503
		waitFor(t, 5*time.Second, "the stale attempt to end", func() bool { return gateInFlight(e, wh.ID) == 1 })
		if got := gateLimit(e, wh.ID); got != limit {
			t.Errorf("after a stale 503: got limit %v, want %v (a stale outcome says nothing of the endpoint)", got, limit)
		}
		close(second)
		f.waitDelivery(t, d.ID, hookline.DeliverySucceeded)
		as := f.attempts(t, d.ID)
		if len(as) != 1 || as[0].StatusCode != http.StatusOK {
			t.Errorf("attempts: got %d (%v), want only the one that counted, 200", len(as), as)
		}
	})
}

// An attempt made while this process stood still measures the process: its
// timeout or its overload answer does not halve the endpoint's limit.
func TestAttemptOverAStallIsNotCounted(t *testing.T) {
	onEachDriver(t, func(t *testing.T, setup setupFunc) {
		f := setup(t)
		e := f.start(t, func(o *Options) { o.WebhookConcurrency = 4 })
		hold := make(chan struct{})
		rcv := newReceiver(t, reply{status: http.StatusServiceUnavailable, wait: hold})
		wh := f.webhook(t, rcv.URL)
		publish(t, e, PublishParams{Tenant: "acme", Type: "a.b", Data: []byte(`{}`)})
		waitFor(t, 5*time.Second, "the request", func() bool { return rcv.count() == 1 })
		limit := gateLimit(e, wh.ID)
		// The process stood still for 2 s while the request was out.
		now := time.Now()
		e.stalls.mu.Lock()
		e.stalls.stalls[0] = stretch{from: now.Add(-2 * time.Second), to: now}
		e.stalls.next = 1
		e.stalls.mu.Unlock()
		close(hold)
		waitFor(t, 5*time.Second, "the attempt to end", func() bool { return gateInFlight(e, wh.ID) == 0 })
		waitFor(t, 5*time.Second, "the attempt to be recorded", func() bool {
			as, _ := f.store.AttemptList(context.Background(), store.AttemptListParams{WebhookID: wh.ID})
			return len(as) == 1
		})
		if got := gateLimit(e, wh.ID); got != limit {
			t.Errorf("after a 503 over a stall: got limit %v, want %v", got, limit)
		}
	})
}

// The slow endpoint: a burst to a receiver that takes its time. While
// deliveries wait and the webhook has a free slot, a request goes out: no gap
// in the receiver's traffic until the burst is delivered, where the backlog
// used to be pushed seconds ahead while the slots sat idle.
func TestSlowEndpointSlotsNeverIdle(t *testing.T) {
	onEachDriver(t, func(t *testing.T, setup setupFunc) {
		f := setup(t)
		e := f.start(t, burstOptions)
		rcv := newReceiver(t, reply{status: http.StatusOK, delay: 300 * time.Millisecond})
		f.webhook(t, rcv.URL)
		const n = 40
		publish(t, e, burst(n)...)
		waitFor(t, 30*time.Second, "every delivery", func() bool { return rcv.count() >= n })
		rcv.mu.Lock()
		defer rcv.mu.Unlock()
		var gap time.Duration
		for i := 1; i < len(rcv.reqs); i++ {
			gap = max(gap, rcv.reqs[i].at.Sub(rcv.reqs[i-1].at))
		}
		took := rcv.reqs[len(rcv.reqs)-1].at.Sub(rcv.reqs[0].at)
		t.Logf("%d requests over %s, longest gap %s", len(rcv.reqs), took, gap)
		if gap > time.Second {
			t.Errorf("longest gap between two requests: %s, want under 1s (each answer takes 300ms, and work was waiting)", gap)
		}
	})
}

// Deliveries deferred while an endpoint was slow come back as soon as it has
// free slots again (recalled), not at the time estimated when it was slow.
func TestDeferredDeliveriesAreRecalled(t *testing.T) {
	onEachDriver(t, func(t *testing.T, setup setupFunc) {
		f := setup(t)
		e := f.start(t, burstOptions)
		// The first two answers take 2 s; then the endpoint answers at once.
		rcv := newReceiver(t, reply{status: http.StatusOK, delay: 2 * time.Second}, reply{status: http.StatusOK, delay: 2 * time.Second},
			reply{status: http.StatusOK})
		f.webhook(t, rcv.URL)
		const n = 30
		began := time.Now()
		publish(t, e, burst(n)...)
		waitFor(t, 30*time.Second, "every delivery", func() bool { return rcv.count() >= n })
		took := time.Since(began)
		deferred, recalled := counter(e.o.Metrics.DeliveriesDeferred), counter(e.o.Metrics.DeliveriesRecalled)
		t.Logf("%d delivered in %s; %v deferred, %v recalled", n, took, deferred, recalled)
		if deferred == 0 {
			t.Fatal("nothing was deferred: the test does not exercise a recall")
		}
		if took > 6*time.Second {
			t.Errorf("took %s, want well under the 2 s pace's estimate for the deferred (~%s): they were not recalled", took, 2*time.Second*n/3)
		}
	})
}

// counter reads a Prometheus counter.
func counter(c prometheus.Counter) float64 {
	var m dto.Metric
	_ = c.Write(&m)
	return m.GetCounter().GetValue()
}

// After a restart, deliveries the previous process deferred are recalled as
// soon as the new one has their webhook's slots free, not left to their
// estimated time with nothing in flight.
func TestDeferredDeliveriesAfterARestart(t *testing.T) {
	onEachDriver(t, func(t *testing.T, setup setupFunc) {
		f := setup(t)
		opts := burstOptions
		first := New(f.options(opts))
		if err := first.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		// Slow at first (3 s), so that the burst is deferred up to tens of seconds ahead.
		rcv := newReceiver(t, reply{status: http.StatusOK, delay: 3 * time.Second}, reply{status: http.StatusOK, delay: 3 * time.Second},
			reply{status: http.StatusOK})
		f.webhook(t, rcv.URL)
		const n = 30
		publish(t, first, burst(n)...)
		waitFor(t, 10*time.Second, "deferrals", func() bool { return counter(first.o.Metrics.DeliveriesDeferred) > 0 })
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := first.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
		restarted := time.Now()
		f.start(t, opts)
		waitFor(t, 30*time.Second, "every delivery", func() bool { return rcv.count() >= n })
		t.Logf("after the restart: %s", time.Since(restarted))
		if took := time.Since(restarted); took > 8*time.Second {
			t.Errorf("after the restart, the rest took %s; want a few seconds (the deferred recalled, not waited for)", took)
		}
	})
}

// burstOptions are the engine options of the burst tests: room for a webhook
// to grow to 4 attempts at a time.
func burstOptions(o *Options) {
	o.Workers = 16
	o.WebhookConcurrency = 4
	o.Timeout = 5 * time.Second
	o.Lease = 10 * time.Second
}

// burst is n events for tenant acme, published at once.
func burst(n int) []PublishParams {
	ps := make([]PublishParams, n)
	for i := range ps {
		ps[i] = PublishParams{Tenant: "acme", Type: "a.b", Data: []byte(`{}`)}
	}
	return ps
}
