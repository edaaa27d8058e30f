package delivery

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/store/postgres/pgtest"
	"github.com/hookline/hookline/internal/store/sqlite/sqlitetest"
)

// The outage tests run one driver after the other and alone (not parallel),
// since they measure what the process, or PostgreSQL, writes.

// defaultSchedule is the server's default retry schedule (config).
var defaultSchedule = []time.Duration{0, 5 * time.Second, time.Minute, 5 * time.Minute, 30 * time.Minute,
	2 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour}

// serverOptions are the server's defaults, but for the timeout.
func serverOptions(timeout time.Duration) func(*Options) {
	return func(o *Options) {
		o.Policy = Policy{Schedule: defaultSchedule, Jitter: 0.1}
		o.Workers = 128
		o.WebhookConcurrency = 64
		o.QueueSize = 0 // the default, 16 × workers
		o.PollInterval = time.Second
		o.Timeout = timeout
		o.Lease = 2*timeout + 10*time.Second
	}
}

// writeMeter reads how many bytes the store has written so far: what this
// process wrote to disk for SQLite, the cluster's WAL for PostgreSQL.
type writeMeter func() int64

// outageDriver is a driver for the outage tests: a fresh store and its meter.
type outageDriver struct {
	name string
	open func(t *testing.T) (store.Store, writeMeter)
}

var outageDrivers = []outageDriver{
	{"sqlite", func(t *testing.T) (store.Store, writeMeter) {
		return sqlitetest.Open(t), func() int64 { return procWriteBytes(t) }
	}},
	{"postgres", func(t *testing.T) (store.Store, writeMeter) {
		conn, err := pgx.Connect(context.Background(), pgtest.URL(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close(context.Background()) })
		return pgtest.Open(t), func() int64 {
			var n int64
			if err := conn.QueryRow(context.Background(), "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint").Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
	}},
}

// procWriteBytes is write_bytes of /proc/self/io: what this process has
// caused to be written to storage.
func procWriteBytes(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		t.Skipf("no /proc/self/io: %v", err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "write_bytes: "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	t.Fatal("no write_bytes in /proc/self/io")
	return 0
}

// refusingURL is a loopback URL where nothing listens: connections are refused.
func refusingURL(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr + "/hooks"
}

// silentURL is a loopback URL whose server takes requests and never answers.
func silentURL(t *testing.T) string {
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-done:
		}
	}))
	t.Cleanup(func() { close(done); srv.Close() })
	return srv.URL + "/hooks"
}

// backlog stores n events of tenant wh.Tenant, each with a delivery to wh due
// now: what an endpoint's outage leaves pending.
func backlog(t *testing.T, st store.Store, wh *hookline.Webhook, n int) {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Millisecond)
	for i := 0; i < n; i += 500 {
		var ps []store.EventInsertParams
		for range min(500, n-i) {
			ps = append(ps, store.EventInsertParams{
				Event: &hookline.Event{ID: hookline.NewID(hookline.PrefixEvent), Tenant: wh.Tenant, Type: "a.b",
					Data: json.RawMessage(`{"n":1}`), Timestamp: now, CreatedAt: now},
				Deliveries: []store.DeliveryInsert{{ID: hookline.NewID(hookline.PrefixDelivery), WebhookID: wh.ID, NextAttemptAt: now}},
			})
		}
		if _, err := st.EventInsert(context.Background(), ps); err != nil {
			t.Fatal(err)
		}
	}
}

// attemptsMade counts the attempts the engine has recorded or tried.
func attemptsMade(e *Engine) float64 {
	var n float64
	for _, o := range []string{"success", "retry", "failed", "stale"} {
		n += counter(e.o.Metrics.Attempts.WithLabelValues(o))
	}
	return n
}

// The dead endpoint: 20,000 deliveries pending to an endpoint that
// refuses connections. Once the engine has seen that it keeps failing, a
// minute of the outage must cost next to nothing: a few probe attempts, and
// kilobytes written, where the backlog used to be cycled through deferrals
// and retries (hundreds of megabytes a minute, thousands of attempts).
func TestDeadEndpointBacklogCostsLittle(t *testing.T) {
	const n, settle, window = 20_000, 10 * time.Second, 15 * time.Second
	for _, d := range outageDrivers {
		t.Run(d.name, func(t *testing.T) {
			st, written := d.open(t)
			f := &fixture{store: st}
			dead := f.webhook(t, refusingURL(t), func(w *hookline.Webhook) { w.Tenant = "dead" })
			backlog(t, st, dead, n)
			e := f.start(t, serverOptions(30*time.Second))
			time.Sleep(settle)
			bytes0, attempts0 := written(), attemptsMade(e)
			time.Sleep(window)
			bytes, attempts := written()-bytes0, attemptsMade(e)-attempts0
			perMin := float64(time.Minute) / float64(window)
			t.Logf("over %s of outage after %s: %d attempts, %.1f KiB written (per minute: %.0f attempts, %.1f MiB); deferred %v, held %v",
				window, settle, int(attempts), float64(bytes)/1024, attempts*perMin, float64(bytes)*perMin/(1<<20),
				counter(e.o.Metrics.DeliveriesDeferred), counter(e.o.Metrics.DeliveriesHeld))
			if attempts > 6 {
				t.Errorf("%d attempts in %s to an endpoint known dead; want a few probes", int(attempts), window)
			}
			if bytes > 2<<20 {
				t.Errorf("%.1f MiB written in %s while nothing is delivered; want under 2 MiB", float64(bytes)/(1<<20), window)
			}
		})
	}
}

// The item 2: a webhook that never answers, with 20,000 deliveries
// pending, beside a healthy one taking 50 events a second. The healthy one's
// deliveries keep their latency: the dead one's backlog must not take the
// claim path, the queue or the commits they need.
func TestHealthyWebhookBesideADeadBacklog(t *testing.T) {
	const n, rate, span = 40_000, 50, 5 * time.Second
	for _, d := range outageDrivers {
		t.Run(d.name, func(t *testing.T) {
			st, _ := d.open(t)
			f := &fixture{store: st}
			dead := f.webhook(t, silentURL(t), func(w *hookline.Webhook) { w.Tenant = "dead" })
			backlog(t, st, dead, n)
			rcv := newReceiver(t)
			f.webhook(t, rcv.URL)
			e := f.start(t, serverOptions(5*time.Second))

			var mu sync.Mutex
			published := map[string]time.Time{}
			tick := time.NewTicker(time.Second / rate)
			defer tick.Stop()
			for end := time.Now().Add(span); time.Now().Before(end); {
				<-tick.C
				at := time.Now()
				res := publish(t, e, PublishParams{Tenant: "acme", Type: "a.b", Data: []byte(`{}`)})
				mu.Lock()
				published[res[0].Event.ID] = at
				mu.Unlock()
			}
			waitFor(t, 60*time.Second, "every healthy delivery", func() bool { return rcv.count() >= len(published) })
			var lat []time.Duration
			for _, r := range rcv.requests() {
				if at, ok := published[r.eventID()]; ok {
					lat = append(lat, r.at.Sub(at))
				}
			}
			slices.Sort(lat)
			q := func(p float64) time.Duration { return lat[int(p*float64(len(lat)-1))] }
			t.Logf("%d healthy deliveries beside %d dead: p50 %s, p90 %s, p99 %s, max %s; deferred %v, held %v",
				len(lat), n, q(.5), q(.9), q(.99), lat[len(lat)-1],
				counter(e.o.Metrics.DeliveriesDeferred), counter(e.o.Metrics.DeliveriesHeld))
			// Alone on this machine: p99 tens of milliseconds, where it was
			// over 1.5 s on SQLite before the fix. The bound leaves room for
			// other test packages running beside this one.
			if p99 := q(.99); p99 > time.Second {
				t.Errorf("healthy p99 %s beside a dead backlog; want under 1s", p99)
			}
		})
	}
}

// circuitOptions: the default schedule, and a webhook that may grow to 8 in
// flight.
func circuitOptions(o *Options) {
	o.Policy = Policy{Schedule: defaultSchedule}
	o.Workers = 16
	o.WebhookConcurrency = 8
	o.PollInterval = 200 * time.Millisecond
}

// pendingOf counts a webhook's pending deliveries.
func (f *fixture) pendingOf(t *testing.T, webhookID string) int {
	t.Helper()
	ds, err := f.store.DeliveryList(context.Background(), store.DeliveryListParams{WebhookID: webhookID, Status: hookline.DeliveryPending, ListParams: store.ListParams{Limit: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	return len(ds)
}

// An endpoint that fails five times in a row has its circuit opened: its
// backlog, and what is published meanwhile, is held without attempts; a
// probe 5 s later finds it answering, and the whole backlog is delivered,
// each delivery once more, with no retry storm.
func TestCircuitHoldsThenDrains(t *testing.T) {
	onEachDriver(t, func(t *testing.T, setup setupFunc) {
		f := setup(t)
		e := f.start(t, circuitOptions)
		down := reply{status: http.StatusServiceUnavailable}
		rcv := newReceiver(t, down, down, down, down, down, reply{status: http.StatusOK})
		wh := f.webhook(t, rcv.URL)
		const n = 200
		publish(t, e, burst(n)...)
		waitFor(t, 5*time.Second, "the circuit to open", func() bool { return e.gates.holding(wh.ID) })
		opened := time.Now()
		publish(t, e, burst(20)...) // stored held
		if got := rcv.count(); got != 5 {
			t.Errorf("requests when the circuit opened: %d, want the 5 failures", got)
		}
		waitFor(t, 30*time.Second, "every delivery", func() bool { return f.pendingOf(t, wh.ID) == 0 })
		t.Logf("drained %s after the circuit opened; %d requests", time.Since(opened), rcv.count())
		if got := rcv.count(); got != n+20+5 {
			t.Errorf("requests: %d, want each of the %d deliveries once, and the 5 failed attempts", got, n+20)
		}
		if since := time.Since(opened); since < probeMinWait {
			t.Errorf("drained %s after the circuit opened: before the first probe was due", since)
		}
		if o, c := counter(e.o.Metrics.Circuits.WithLabelValues("opened")), counter(e.o.Metrics.Circuits.WithLabelValues("closed")); o != 1 || c != 1 {
			t.Errorf("circuits opened %v, closed %v; want 1, 1", o, c)
		}
		if got := counter(e.o.Metrics.DeliveriesHeld); got < n {
			t.Errorf("held: %v, want the backlog and those published while open", got)
		}
		if w := f.getWebhook(t, wh.ID); !w.Active {
			t.Error("the webhook was disabled")
		}
		if ids, _ := f.store.WebhookProbesDue(context.Background(), store.WebhookProbesParams{Now: time.Now().Add(time.Hour), MinWait: time.Second, MaxWait: time.Second}); len(ids) != 0 {
			t.Errorf("probes due after the circuit closed: %v", ids)
		}
	})
}

// The circuit is the store's as well as the process's: after a restart, the
// store's probe brings the backlog back without any new event.
func TestCircuitAfterARestart(t *testing.T) {
	onEachDriver(t, func(t *testing.T, setup setupFunc) {
		f := setup(t)
		first := New(f.options(circuitOptions))
		if err := first.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		down := reply{status: http.StatusServiceUnavailable}
		rcv := newReceiver(t, down, down, down, down, down, reply{status: http.StatusOK})
		wh := f.webhook(t, rcv.URL)
		const n = 100
		publish(t, first, burst(n)...)
		waitFor(t, 5*time.Second, "the circuit to open", func() bool { return counter(first.o.Metrics.Circuits.WithLabelValues("opened")) == 1 })
		waitFor(t, 5*time.Second, "the backlog to be held", func() bool { return counter(first.o.Metrics.DeliveriesHeld) >= n-5 })
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := first.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
		f.start(t, circuitOptions)
		waitFor(t, 30*time.Second, "every delivery after the restart", func() bool { return f.pendingOf(t, wh.ID) == 0 })
		if got := rcv.count(); got != n+5 {
			t.Errorf("requests: %d, want each of the %d deliveries once, and the 5 failed attempts", got, n)
		}
	})
}

// A delivery held for as long as its retry schedule lasts fails then,
// without an attempt, with a reason; delivery.failed tells of it.
func TestHeldDeliveryExpires(t *testing.T) {
	onEachDriver(t, func(t *testing.T, setup setupFunc) {
		f := setup(t)
		e := f.start(t, circuitOptions, func(o *Options) {
			o.Policy = Policy{Schedule: []time.Duration{0, time.Second, 2 * time.Second}} // over in 3 s
		})
		wh := f.webhook(t, refusingURL(t))
		res := publish(t, e, burst(8)...)
		waitFor(t, 5*time.Second, "the circuit to open", func() bool { return e.gates.holding(wh.ID) })
		waitFor(t, 10*time.Second, "every delivery to end", func() bool { return f.pendingOf(t, wh.ID) == 0 })
		var expired int
		for _, r := range res {
			d := f.delivery(t, r.Deliveries[0].ID)
			if d.Status != hookline.DeliveryFailed {
				t.Errorf("delivery %s: %s, want failed", d.ID, d.Status)
			}
			if strings.Contains(d.LastError, "kept failing") {
				expired++
				if as := f.attempts(t, d.ID); len(as) != d.Attempts {
					t.Errorf("an expired delivery has %d attempts logged, %d counted", len(as), d.Attempts)
				}
			}
		}
		if expired == 0 {
			t.Fatal("no delivery expired while held")
		}
		evs := f.opsEvents(t, hookline.EventDeliveryFailed)
		if len(evs) != len(res) {
			t.Errorf("delivery.failed events: %d, want %d", len(evs), len(res))
		}
		found := false
		for _, ev := range evs {
			found = found || strings.Contains(string(ev.Data), "kept failing")
		}
		if !found {
			t.Error("no delivery.failed event gives the reason of an expired delivery")
		}
	})
}
