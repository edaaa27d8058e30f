package delivery

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/store/drivertest"
	"github.com/hookline/hookline/internal/store/postgres/pgtest"
	"github.com/hookline/hookline/webhook"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// fixture is a fresh store of one driver (SQLite in a temp dir, or a database
// of the throwaway PostgreSQL cluster); engines are started on it with start,
// receivers on loopback with newReceiver.
type fixture struct {
	store   store.Store
	engines []*Engine // told of webhooks created through the fixture, as the API does
}

// setupFunc opens a fixture on the driver a test runs on.
type setupFunc func(t *testing.T) *fixture

// onEachDriver runs test once per storage driver, in parallel subtests; the
// setup it is given opens a fresh store of that driver each time it is called.
func onEachDriver(t *testing.T, test func(t *testing.T, setup setupFunc)) {
	drivertest.Each(t, func(t *testing.T, open func(testing.TB) store.Store) {
		test(t, func(t *testing.T) *fixture {
			t.Helper()
			return &fixture{store: open(t)}
		})
	})
}

// shared is the fixture's store as another process would see it: an engine
// started on it frees no lease at start-up (PostgreSQL already behaves so;
// SQLite is wrapped), so only a release or a lease's end can.
func (f *fixture) shared() store.Store {
	if f.store.SingleNode() {
		return multiNode{f.store}
	}
	return f.store
}

// options are the test defaults: a short schedule without jitter, and a poll
// interval so long that anything delivered in time was woken, not polled.
func (f *fixture) options(mods ...func(*Options)) Options {
	o := Options{
		Store:        f.store,
		Sender:       NewSender(SenderOptions{AllowPrivate: true, BodyLimit: 1024}),
		Policy:       Policy{Schedule: []time.Duration{0, 50 * time.Millisecond, 100 * time.Millisecond}},
		Timeout:      2 * time.Second,
		Lease:        30 * time.Second,
		Workers:      4,
		PollInterval: time.Hour,
		Logger:       slog.New(slog.DiscardHandler),
	}
	for _, m := range mods {
		m(&o)
	}
	return o
}

// start returns a started engine that is shut down when the test ends.
func (f *fixture) start(t *testing.T, mods ...func(*Options)) *Engine {
	t.Helper()
	e := New(f.options(mods...))
	if err := e.Start(context.Background()); err != nil {
		t.Fatalf("start: %v", err)
	}
	f.engines = append(f.engines, e)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := e.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return e
}

// webhook stores an active webhook of tenant "acme" for every event.
func (f *fixture) webhook(t *testing.T, url string, mods ...func(*hookline.Webhook)) *hookline.Webhook {
	t.Helper()
	now := time.Now().UTC()
	wh := &hookline.Webhook{
		ID: hookline.NewID(hookline.PrefixWebhook), Tenant: "acme", URL: url, Events: []string{"*"},
		Secret: webhook.NewSecret(), Active: true, Profile: "standard",
		Headers: map[string]string{}, Metadata: map[string]string{}, CreatedAt: now, UpdatedAt: now,
	}
	for _, m := range mods {
		m(wh)
	}
	if err := f.store.WebhookCreate(context.Background(), store.WebhookCreateParams{Webhook: wh}); err != nil {
		t.Fatalf("create webhook: %v", err)
	}
	for _, e := range f.engines {
		e.WebhookChanged(wh.ID, wh.Tenant)
	}
	return wh
}

func (f *fixture) getWebhook(t *testing.T, id string) *hookline.Webhook {
	t.Helper()
	wh, err := f.store.WebhookGet(context.Background(), id)
	if err != nil {
		t.Fatalf("get webhook: %v", err)
	}
	return wh
}

func (f *fixture) delivery(t *testing.T, id string) *hookline.Delivery {
	t.Helper()
	d, err := f.store.DeliveryGet(context.Background(), id)
	if err != nil {
		t.Fatalf("get delivery %s: %v", id, err)
	}
	return d
}

// waitDelivery waits until delivery id has status and returns it.
func (f *fixture) waitDelivery(t *testing.T, id, status string) *hookline.Delivery {
	t.Helper()
	var d *hookline.Delivery
	waitFor(t, 5*time.Second, "delivery "+id+" to be "+status, func() bool {
		d = f.delivery(t, id)
		return d.Status == status
	})
	return d
}

// attempts returns a delivery's attempts, first first.
func (f *fixture) attempts(t *testing.T, deliveryID string) []hookline.Attempt {
	t.Helper()
	as, err := f.store.AttemptList(context.Background(), store.AttemptListParams{DeliveryID: deliveryID, ListParams: store.ListParams{Limit: 100}})
	if err != nil {
		t.Fatalf("list attempts: %v", err)
	}
	slices.SortFunc(as, func(a, b hookline.Attempt) int { return a.Number - b.Number })
	return as
}

// opsEvents returns the operational events of a type, oldest first.
func (f *fixture) opsEvents(t *testing.T, typ string) []hookline.Event {
	t.Helper()
	es, err := f.store.EventList(context.Background(), store.EventListParams{Tenant: hookline.TenantOps, Type: typ, ListParams: store.ListParams{Limit: 100}})
	if err != nil {
		t.Fatalf("list ops events: %v", err)
	}
	slices.Reverse(es)
	return es
}

// firstFailedEvent waits for the first delivery.failed event and returns its
// data, decoded and as stored.
func (f *fixture) firstFailedEvent(t *testing.T) (opsData, json.RawMessage) {
	t.Helper()
	var evs []hookline.Event
	waitFor(t, 5*time.Second, "a delivery.failed event", func() bool {
		evs = f.opsEvents(t, hookline.EventDeliveryFailed)
		return len(evs) > 0
	})
	var data opsData
	if err := json.Unmarshal(evs[0].Data, &data); err != nil {
		t.Fatal(err)
	}
	return data, evs[0].Data
}

// claimedByTheDead stores an event for wh and claims its delivery with token
// until leaseUntil, as a process that then died would have, and returns the
// delivery's id.
func (f *fixture) claimedByTheDead(t *testing.T, wh *hookline.Webhook, now, leaseUntil time.Time, token string) string {
	t.Helper()
	ctx := context.Background()
	ev := &hookline.Event{ID: hookline.NewID(hookline.PrefixEvent), Tenant: "acme", Type: "a.b",
		Data: json.RawMessage(`{"n":1}`), Timestamp: now, CreatedAt: now}
	id := hookline.NewID(hookline.PrefixDelivery)
	if _, err := f.store.EventInsert(ctx, []store.EventInsertParams{{Event: ev,
		Deliveries: []store.DeliveryInsert{{ID: id, WebhookID: wh.ID, NextAttemptAt: now}}}}); err != nil {
		t.Fatal(err)
	}
	c, err := f.store.DeliveryClaim(ctx, store.DeliveryClaimParams{Now: now, LeaseUntil: leaseUntil, LeaseToken: token, Limit: 10})
	if err != nil || len(c) != 1 {
		t.Fatalf("the dead process's claim: got %d, %v; want 1 delivery", len(c), err)
	}
	return id
}

func publish(t *testing.T, e *Engine, ps ...PublishParams) []store.EventInsertResult {
	t.Helper()
	res, err := e.Publish(context.Background(), ps)
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	return res
}

// publishOne publishes one event of tenant "acme" and returns its single delivery.
func publishOne(t *testing.T, e *Engine, typ, data string) (*hookline.Event, hookline.Delivery) {
	t.Helper()
	res := publish(t, e, PublishParams{Tenant: "acme", Type: typ, Data: json.RawMessage(data)})
	if n := len(res[0].Deliveries); n != 1 {
		t.Fatalf("got %d deliveries, want 1", n)
	}
	return res[0].Event, res[0].Deliveries[0]
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// multiNode makes a SQLite store look shared by several processes (see shared).
type multiNode struct{ store.Store }

func (multiNode) SingleNode() bool { return false }

// reply is a programmed response.
type reply struct {
	status int
	header map[string]string
	body   string
	// delay holds the response back (or until the sender gives up).
	delay time.Duration
	// wait holds the response back until the channel is closed.
	wait chan struct{}
}

type received struct {
	body   []byte
	header http.Header
	at     time.Time
}

// eventID is the "id" of a Standard Webhooks body.
func (r received) eventID() string {
	var b struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(r.body, &b)
	return b.ID
}

// receiver is a loopback HTTP endpoint that records requests and answers the
// n-th with replies[n] (the last reply repeats; 200 when there is none).
type receiver struct {
	*httptest.Server
	replies []reply

	mu          sync.Mutex
	reqs        []received
	inFlight    int
	maxInFlight int
}

func newReceiver(t *testing.T, replies ...reply) *receiver {
	t.Helper()
	r := &receiver{replies: replies}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	n := len(r.reqs)
	r.reqs = append(r.reqs, received{body: body, header: req.Header.Clone(), at: time.Now()})
	r.inFlight++
	r.maxInFlight = max(r.maxInFlight, r.inFlight)
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.inFlight--
		r.mu.Unlock()
	}()

	rp := reply{status: http.StatusOK}
	if len(r.replies) > 0 {
		rp = r.replies[min(n, len(r.replies)-1)]
	}
	if rp.delay > 0 {
		select {
		case <-time.After(rp.delay):
		case <-req.Context().Done():
			return
		}
	}
	if rp.wait != nil {
		select {
		case <-rp.wait:
		case <-req.Context().Done():
			return
		}
	}
	for k, v := range rp.header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(rp.status)
	io.WriteString(w, rp.body)
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.reqs)
}

func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.reqs)
}

// verify checks a request's signature with the Standard Webhooks reference library.
func verify(t *testing.T, secret string, r received) {
	t.Helper()
	ref, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := ref.Verify(r.body, r.header); err != nil {
		t.Errorf("reference library rejects the delivery: %v\nbody: %s\nheaders: %v", err, r.body, r.header)
	}
}

func TestPublishDeliversAtOnceSigned(t *testing.T) {
	onEachDriver(t, func(t *testing.T, setup setupFunc) {
		f := setup(t)
		e := f.start(t) // PollInterval is an hour: only the fast path can deliver in time
		rcv := newReceiver(t)
		wh := f.webhook(t, rcv.URL, func(w *hookline.Webhook) { w.Headers = map[string]string{"X-Custom": "yes"} })

		var data bytes.Buffer
		if err := json.Compact(&data, []byte(`{ "b": 1, "a": [1.0, 0.10], "u": "é/\u00e9" }`)); err != nil {
			t.Fatal(err)
		}
		const wantData = `{"b":1,"a":[1.0,0.10],"u":"é/\u00e9"}`
		if data.String() != wantData {
			t.Fatalf("compacted data: got %s, want %s", data.String(), wantData)
		}
		ts := time.Date(2024, 5, 6, 7, 8, 9, 123_000_000, time.UTC)
		start := time.Now()
		res := publish(t, e, PublishParams{Tenant: "acme", Type: "form.submitted", Data: data.Bytes(), Timestamp: ts})
		if len(res) != 1 || !res[0].Created || len(res[0].Deliveries) != 1 {
			t.Fatalf("got %+v, want one created event with one delivery", res)
		}
		ev, d := res[0].Event, res[0].Deliveries[0]

		waitFor(t, 5*time.Second, "the first attempt", func() bool { return rcv.count() == 1 })
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("first attempt arrived after %s, want at once (fast path)", took)
		}
		got := rcv.requests()[0]
		wantBody := `{"id":"` + ev.ID + `","event":"form.submitted","timestamp":"2024-05-06T07:08:09.123Z","data":` + wantData + `}`
		if string(got.body) != wantBody {
			t.Errorf("body:\ngot  %s\nwant %s", got.body, wantBody)
		}
		verify(t, wh.Secret, got)
		for k, want := range map[string]string{
			"Webhook-Id": ev.ID, "Content-Type": "application/json", "User-Agent": "Hookline-Webhooks/1.0", "X-Custom": "yes",
		} {
			if v := got.header.Get(k); v != want {
				t.Errorf("header %s: got %q, want %q", k, v, want)
			}
		}
		sent, err := strconv.ParseInt(got.header.Get("Webhook-Timestamp"), 10, 64)
		if err != nil || time.Since(time.Unix(sent, 0)).Abs() > 5*time.Second {
			t.Errorf("webhook-timestamp: got %q, want the current unix time", got.header.Get("Webhook-Timestamp"))
		}
		if !strings.HasPrefix(got.header.Get("Webhook-Signature"), "v1,") {
			t.Errorf("webhook-signature: got %q, want v1,<base64>", got.header.Get("Webhook-Signature"))
		}

		dd := f.waitDelivery(t, d.ID, hookline.DeliverySucceeded)
		if dd.Attempts != 1 || dd.LastStatus != 200 || dd.NextAttemptAt != nil {
			t.Errorf("delivery: got attempts %d, last status %d, next %v; want 1, 200, nil", dd.Attempts, dd.LastStatus, dd.NextAttemptAt)
		}
		as := f.attempts(t, d.ID)
		if len(as) != 1 {
			t.Fatalf("got %d attempts, want 1", len(as))
		}
		a := as[0]
		if a.Number != 1 || a.StatusCode != 200 || a.Error != "" || a.EventID != ev.ID || a.WebhookID != wh.ID || a.EventType != "form.submitted" {
			t.Errorf("attempt: got %+v", a)
		}
		if a.RequestHeaders["webhook-id"] != ev.ID {
			t.Errorf("recorded request header webhook-id: got %q, want %q", a.RequestHeaders["webhook-id"], ev.ID)
		}
	})
}

func TestRetryThenSuccess(t *testing.T) {
	onEachDriver(t, func(t *testing.T, setup setupFunc) {
		f := setup(t)
		e := f.start(t)
		rcv := newReceiver(t, reply{status: 500}, reply{status: 503}, reply{status: 200})
		wh := f.webhook(t, rcv.URL)

		// A timestamp finer than the stored millisecond must not make the first
		// attempt's body differ from the retries' (which are read back from the store).
		ts := time.Date(2024, 5, 6, 7, 8, 9, 123_456_789, time.UTC)
		res := publish(t, e, PublishParams{Tenant: "acme", Type: "order.paid", Data: json.RawMessage(`{"z":0,"a":"x"}`), Timestamp: ts})
		d := res[0].Deliveries[0]

		dd := f.waitDelivery(t, d.ID, hookline.DeliverySucceeded)
		if dd.Attempts != 3 || dd.LastStatus != 200 || dd.LastError != "" {
			t.Errorf("delivery: got attempts %d, last status %d, last error %q; want 3, 200, \"\"", dd.Attempts, dd.LastStatus, dd.LastError)
		}
		as := f.attempts(t, d.ID)
		want := []struct {
			status int
			err    string
		}{{500, "HTTP 500"}, {503, "HTTP 503"}, {200, ""}}
		if len(as) != len(want) {
			t.Fatalf("got %d attempts, want %d", len(as), len(want))
		}
		for i, w := range want {
			if as[i].Number != i+1 || as[i].StatusCode != w.status || as[i].Error != w.err {
				t.Errorf("attempt %d: got number %d, status %d, error %q; want %d, %d, %q",
					i, as[i].Number, as[i].StatusCode, as[i].Error, i+1, w.status, w.err)
			}
		}
		reqs := rcv.requests()
		if len(reqs) != 3 {
			t.Fatalf("receiver got %d requests, want 3", len(reqs))
		}
		for i, r := range reqs {
			verify(t, wh.Secret, r)
			if !bytes.Equal(r.body, reqs[0].body) {
				t.Errorf("request %d body differs from the first:\ngot  %s\nwant %s", i, r.body, reqs[0].body)
			}
			if r.header.Get("Webhook-Id") != res[0].Event.ID {
				t.Errorf("request %d webhook-id: got %q, want %q", i, r.header.Get("Webhook-Id"), res[0].Event.ID)
			}
		}
		if !bytes.Contains(reqs[2].body, []byte(`"timestamp":"2024-05-06T07:08:09.123Z","data":{"z":0,"a":"x"}}`)) {
			t.Errorf("retried body: got %s, want the timestamp in milliseconds and the data as published", reqs[2].body)
		}
		// The schedule says 50 ms, then 100 ms (no jitter in these tests).
		for i, least := range []time.Duration{45 * time.Millisecond, 95 * time.Millisecond} {
			if gap := reqs[i+1].at.Sub(reqs[i].at); gap < least {
				t.Errorf("gap before attempt %d: got %s, want at least %s", i+2, gap, least)
			}
		}
	})
}

func TestRetriesOfSeveralDeliveriesAreAllWoken(t *testing.T) {
	onEachDriver(t, func(t *testing.T, setup setupFunc) {
		f := setup(t)
		e := f.start(t)
		// Two deliveries retried at different instants: each retry must be woken for,
		// not just the earliest one (the poll interval is an hour).
		fast := newReceiver(t, reply{status: 500}, reply{status: 200})
		slow := newReceiver(t, reply{status: 500, delay: 30 * time.Millisecond}, reply{status: 200})
		f.webhook(t, fast.URL)
		f.webhook(t, slow.URL)
		res := publish(t, e, PublishParams{Tenant: "acme", Type: "a.b", Data: json.RawMessage(`{}`)})
		if len(res[0].Deliveries) != 2 {
			t.Fatalf("got %d deliveries, want 2", len(res[0].Deliveries))
		}
		for _, d := range res[0].Deliveries {
			f.waitDelivery(t, d.ID, hookline.DeliverySucceeded)
		}
	})
}

func TestNoRetryOnClientError(t *testing.T) {
	onEachDriver(t, func(t *testing.T, setup setupFunc) {
		f := setup(t)
		e := f.start(t)
		for _, status := range []int{400, 401, 403, 404, 422} {
			t.Run(strconv.Itoa(status), func(t *testing.T) {
				rcv := newReceiver(t, reply{status: status}, reply{status: 200})
				f.webhook(t, rcv.URL, func(w *hookline.Webhook) { w.Events = []string{"status." + strconv.Itoa(status)} })
				_, d := publishOne(t, e, "status."+strconv.Itoa(status), `{}`)
				dd := f.waitDelivery(t, d.ID, hookline.DeliveryFailed)
				if dd.Attempts != 1 || dd.LastStatus != status || dd.LastError != "HTTP "+strconv.Itoa(status) {
					t.Errorf("delivery: got attempts %d, last status %d, error %q; want 1, %d, HTTP %d",
						dd.Attempts, dd.LastStatus, dd.LastError, status, status)
				}
				if n := rcv.count(); n != 1 {
					t.Errorf("receiver got %d requests, want 1", n)
				}
			})
		}
	})
}

func TestRetryableStatuses(t *testing.T) {
	onEachDriver(t, func(t *testing.T, setup setupFunc) {
		f := setup(t)
		e := f.start(t)
		for _, status := range []int{408, 429, 500, 502, 503, 504} {
			t.Run(strconv.Itoa(status), func(t *testing.T) {
				rcv := newReceiver(t, reply{status: status}, reply{status: 204})
				f.webhook(t, rcv.URL, func(w *hookline.Webhook) { w.Events = []string{"status." + strconv.Itoa(status)} })
				_, d := publishOne(t, e, "status."+strconv.Itoa(status), `{}`)
				dd := f.waitDelivery(t, d.ID, hookline.DeliverySucceeded)
				if dd.Attempts != 2 {
					t.Errorf("attempts: got %d, want 2", dd.Attempts)
				}
				as := f.attempts(t, d.ID)
				if len(as) != 2 || as[0].StatusCode != status || as[1].StatusCode != 204 {
					t.Errorf("attempts: got %+v, want %d then 204", as, status)
				}
			})
		}
	})
}

func TestRetryAfter(t *testing.T) {
	onEachDriver(t, func(t *testing.T, setup setupFunc) {
		tests := []struct {
			name     string
			schedule []time.Duration
			reply    func() reply
			min, max time.Duration
		}{
			{
				name:     "429 seconds shorten a long step",
				schedule: []time.Duration{0, 30 * time.Second},
				reply:    func() reply { return reply{status: 429, header: map[string]string{"Retry-After": "1"}} },
				min:      900 * time.Millisecond, max: 4 * time.Second,
			},
			{
				name:     "503 HTTP date shortens a long step",
				schedule: []time.Duration{0, 30 * time.Second},
				reply: func() reply {
					return reply{status: 503, header: map[string]string{"Retry-After": time.Now().Add(3 * time.Second).UTC().Format(http.TimeFormat)}}
				},
				min: time.Second, max: 5 * time.Second,
			},
			{
				name:     "a long Retry-After is capped by the schedule",
				schedule: []time.Duration{0, 50 * time.Millisecond},
				reply:    func() reply { return reply{status: 429, header: map[string]string{"Retry-After": "3600"}} },
				min:      45 * time.Millisecond, max: 2 * time.Second,
			},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				f := setup(t)
				e := f.start(t, func(o *Options) { o.Policy.Schedule = tt.schedule })
				rcv := newReceiver(t, tt.reply(), reply{status: 200})
				f.webhook(t, rcv.URL)
				_, d := publishOne(t, e, "a.b", `{}`)
				f.waitDelivery(t, d.ID, hookline.DeliverySucceeded)
				reqs := rcv.requests()
				if len(reqs) != 2 {
					t.Fatalf("receiver got %d requests, want 2", len(reqs))
				}
				if gap := reqs[1].at.Sub(reqs[0].at); gap < tt.min || gap > tt.max {
					t.Errorf("retry came after %s, want between %s and %s", gap, tt.min, tt.max)
				}
			})
		}
	})
}

func TestRedirectIsNotFollowed(t *testing.T) {
	onEachDriver(t, func(t *testing.T, setup setupFunc) {
		f := setup(t)
		e := f.start(t)
		var mu sync.Mutex
		hits := map[string]int{}
		mux := http.NewServeMux()
		srv := httptest.NewServer(mux)
		t.Cleanup(srv.Close)
		mux.HandleFunc("/hook", func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			hits["/hook"]++
			mu.Unlock()
			http.Redirect(w, r, srv.URL+"/target", http.StatusFound)
		})
		mux.HandleFunc("/target", func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			hits["/target"]++
			mu.Unlock()
		})
		f.webhook(t, srv.URL+"/hook")
		_, d := publishOne(t, e, "a.b", `{}`)

		dd := f.waitDelivery(t, d.ID, hookline.DeliveryFailed)
		if dd.Attempts != 3 || dd.LastStatus != 302 || dd.LastError != "HTTP 302" {
			t.Errorf("delivery: got attempts %d, last status %d, error %q; want 3, 302, HTTP 302", dd.Attempts, dd.LastStatus, dd.LastError)
		}
		mu.Lock()
		defer mu.Unlock()
		if hits["/hook"] != 3 || hits["/target"] != 0 {
			t.Errorf("hits: got %v, want /hook 3 and /target 0", hits)
		}
	})
}

// opsData is the data of an operational event.
type opsData struct {
	WebhookID      string `json:"webhook_id"`
	Tenant         string `json:"tenant"`
	URL            string `json:"url"`
	Reason         string `json:"reason"`
	DeliveryID     string `json:"delivery_id"`
	EventID        string `json:"event_id"`
	EventType      string `json:"event_type"`
	Attempts       int    `json:"attempt_count"`
	LastHTTPStatus *int   `json:"last_http_status"`
	LastError      string `json:"last_error"`
}

func TestGoneDisablesWebhook(t *testing.T) {
	onEachDriver(t, func(t *testing.T, setup setupFunc) {
		f := setup(t)
		e := f.start(t)
		ops := newReceiver(t)
		opsWH := f.webhook(t, ops.URL, func(w *hookline.Webhook) { w.Tenant = hookline.TenantOps })
		rcv := newReceiver(t, reply{status: 410})
		wh := f.webhook(t, rcv.URL)

		ev, d := publishOne(t, e, "a.b", `{}`)
		dd := f.waitDelivery(t, d.ID, hookline.DeliveryFailed)
		if dd.Attempts != 1 || dd.LastStatus != 410 {
			t.Errorf("delivery: got attempts %d, last status %d; want 1, 410", dd.Attempts, dd.LastStatus)
		}
		got := f.getWebhook(t, wh.ID)
		if got.Active || !strings.Contains(got.DisabledReason, "410") {
			t.Errorf("webhook: got active %v, reason %q; want inactive with a reason naming 410", got.Active, got.DisabledReason)
		}

		// The ops endpoint hears of it like any subscriber: delivery.failed and webhook.disabled.
		waitFor(t, 5*time.Second, "two operational events", func() bool { return ops.count() >= 2 })
		byType := map[string]opsData{}
		for _, r := range ops.requests() {
			verify(t, opsWH.Secret, r)
			var body struct {
				Event string  `json:"event"`
				Data  opsData `json:"data"`
			}
			if err := json.Unmarshal(r.body, &body); err != nil {
				t.Fatalf("ops body %s: %v", r.body, err)
			}
			byType[body.Event] = body.Data
		}
		if dis, ok := byType[hookline.EventWebhookDisabled]; !ok {
			t.Errorf("ops events: got %v, want a %s", byType, hookline.EventWebhookDisabled)
		} else if dis.WebhookID != wh.ID || dis.Tenant != "acme" || dis.URL != rcv.URL || dis.Reason != got.DisabledReason {
			t.Errorf("webhook.disabled data: got %+v, want webhook %s tenant acme url %s reason %q", dis, wh.ID, rcv.URL, got.DisabledReason)
		}
		if fl, ok := byType[hookline.EventDeliveryFailed]; !ok {
			t.Errorf("ops events: got %v, want a %s", byType, hookline.EventDeliveryFailed)
		} else if fl.DeliveryID != d.ID || fl.EventID != ev.ID || fl.LastHTTPStatus == nil || *fl.LastHTTPStatus != 410 || fl.Attempts != 1 {
			t.Errorf("delivery.failed data: got %+v, want delivery %s event %s, 1 attempt, last status 410", fl, d.ID, ev.ID)
		}

		// A disabled webhook gets no new deliveries.
		res := publish(t, e, PublishParams{Tenant: "acme", Type: "a.b", Data: json.RawMessage(`{}`)})
		if n := len(res[0].Deliveries); n != 0 {
			t.Errorf("deliveries after disable: got %d, want 0", n)
		}
	})
}

func TestScheduleExhausted(t *testing.T) {
	onEachDriver(t, func(t *testing.T, setup setupFunc) {
		f := setup(t)
		e := f.start(t)
		rcv := newReceiver(t, reply{status: 500, body: "boom"})
		wh := f.webhook(t, rcv.URL)
		ev, d := publishOne(t, e, "a.b", `{}`)

		dd := f.waitDelivery(t, d.ID, hookline.DeliveryFailed)
		if dd.Attempts != 3 || dd.LastStatus != 500 || dd.LastError != "HTTP 500" || dd.NextAttemptAt != nil {
			t.Errorf("delivery: got attempts %d, last status %d, error %q, next %v; want 3, 500, HTTP 500, nil",
				dd.Attempts, dd.LastStatus, dd.LastError, dd.NextAttemptAt)
		}
		if as := f.attempts(t, d.ID); len(as) != 3 || as[2].ResponseBody != "boom" {
			t.Errorf("attempts: got %d (last body %q), want 3 with body boom", len(as), as[len(as)-1].ResponseBody)
		}
		data, _ := f.firstFailedEvent(t)
		status := 500
		want := opsData{DeliveryID: d.ID, WebhookID: wh.ID, EventID: ev.ID, EventType: "a.b", Tenant: "acme",
			Attempts: 3, LastHTTPStatus: &status, LastError: "HTTP 500"}
		if data.LastHTTPStatus == nil || *data.LastHTTPStatus != 500 {
			t.Errorf("delivery.failed data: last_http_status %v, want 500", data.LastHTTPStatus)
		}
		data.LastHTTPStatus = want.LastHTTPStatus
		if data != want {
			t.Errorf("delivery.failed data: got %+v, want %+v", data, want)
		}
		if got := f.getWebhook(t, wh.ID); !got.Active || got.FailedStreak != 1 {
			t.Errorf("webhook: got active %v, streak %d; want active (auto-disable is off), streak 1", got.Active, got.FailedStreak)
		}
		if n := len(f.opsEvents(t, hookline.EventWebhookDisabled)); n != 0 {
			t.Errorf("webhook.disabled events: got %d, want 0", n)
		}
	})
}

// A delivery whose attempts got no answer ends with a delivery.failed event
// whose last_http_status is null, with the error, as the log shows it: no
// server answers 0.
func TestFailedWithoutAnswerIsNullStatus(t *testing.T) {
	onEachDriver(t, func(t *testing.T, setup setupFunc) {
		f := setup(t)
		e := f.start(t)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		closed := "http://" + ln.Addr().String() + "/hook"
		ln.Close() // nothing listens there now: every attempt is refused
		f.webhook(t, closed)
		_, d := publishOne(t, e, "a.b", `{}`)
		f.waitDelivery(t, d.ID, hookline.DeliveryFailed)
		data, raw := f.firstFailedEvent(t)
		if data.LastHTTPStatus != nil || data.LastError == "" || !strings.Contains(string(raw), `"last_http_status":null`) {
			t.Errorf("delivery.failed data: got %s, want last_http_status null and the error", raw)
		}
	})
}

func TestAutoDisable(t *testing.T) {
	onEachDriver(t, func(t *testing.T, setup setupFunc) {
		t.Run("after N failed deliveries", func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			e := f.start(t, func(o *Options) { o.AutoDisable = store.AutoDisableRule{Failures: 2} })
			rcv := newReceiver(t, reply{status: 400})
			wh := f.webhook(t, rcv.URL)

			_, d1 := publishOne(t, e, "a.b", `{"n":1}`)
			f.waitDelivery(t, d1.ID, hookline.DeliveryFailed)
			if got := f.getWebhook(t, wh.ID); !got.Active || got.FailedStreak != 1 {
				t.Fatalf("after one failure: got active %v, streak %d; want active, 1", got.Active, got.FailedStreak)
			}
			_, d2 := publishOne(t, e, "a.b", `{"n":2}`)
			f.waitDelivery(t, d2.ID, hookline.DeliveryFailed)
			got := f.getWebhook(t, wh.ID)
			if got.Active || !strings.Contains(got.DisabledReason, "auto-disabled") {
				t.Errorf("after two failures: got active %v, reason %q; want inactive, auto-disabled", got.Active, got.DisabledReason)
			}
			var evs []hookline.Event
			waitFor(t, 5*time.Second, "a webhook.disabled event", func() bool {
				evs = f.opsEvents(t, hookline.EventWebhookDisabled)
				return len(evs) > 0
			})
			var data opsData
			if err := json.Unmarshal(evs[0].Data, &data); err != nil {
				t.Fatal(err)
			}
			if data.WebhookID != wh.ID || data.Reason != got.DisabledReason {
				t.Errorf("webhook.disabled data: got %+v, want webhook %s, reason %q", data, wh.ID, got.DisabledReason)
			}
			if n := len(evs); n != 1 {
				t.Errorf("webhook.disabled events: got %d, want 1", n)
			}
			res := publish(t, e, PublishParams{Tenant: "acme", Type: "a.b", Data: json.RawMessage(`{}`)})
			if n := len(res[0].Deliveries); n != 0 {
				t.Errorf("deliveries after disable: got %d, want 0", n)
			}
		})
		t.Run("not while a success is recent", func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			e := f.start(t, func(o *Options) { o.AutoDisable = store.AutoDisableRule{Failures: 1, After: time.Hour} })
			rcv := newReceiver(t, reply{status: 200}, reply{status: 400})
			wh := f.webhook(t, rcv.URL)
			_, d1 := publishOne(t, e, "a.b", `{"n":1}`)
			f.waitDelivery(t, d1.ID, hookline.DeliverySucceeded)
			_, d2 := publishOne(t, e, "a.b", `{"n":2}`)
			f.waitDelivery(t, d2.ID, hookline.DeliveryFailed)
			if got := f.getWebhook(t, wh.ID); !got.Active || got.FailedStreak != 1 {
				t.Errorf("webhook: got active %v, streak %d; want active, 1", got.Active, got.FailedStreak)
			}
		})
	})
}

func TestTimeoutIsRetried(t *testing.T) {
	onEachDriver(t, func(t *testing.T, setup setupFunc) {
		f := setup(t)
		e := f.start(t, func(o *Options) { o.Timeout = 250 * time.Millisecond })
		rcv := newReceiver(t, reply{status: 200, delay: 10 * time.Second}, reply{status: 200})
		f.webhook(t, rcv.URL)
		_, d := publishOne(t, e, "a.b", `{}`)

		dd := f.waitDelivery(t, d.ID, hookline.DeliverySucceeded)
		if dd.Attempts != 2 {
			t.Errorf("attempts: got %d, want 2", dd.Attempts)
		}
		as := f.attempts(t, d.ID)
		if len(as) != 2 {
			t.Fatalf("got %d attempts, want 2", len(as))
		}
		if as[0].StatusCode != 0 || as[0].Error != "request timeout after 250ms" {
			t.Errorf("first attempt: got status %d, error %q; want 0, request timeout after 250ms", as[0].StatusCode, as[0].Error)
		}
		if as[0].DurationMS < 200 {
			t.Errorf("first attempt duration: got %d ms, want about 250", as[0].DurationMS)
		}
		if as[1].StatusCode != 200 || as[1].Error != "" {
			t.Errorf("second attempt: got status %d, error %q; want 200, none", as[1].StatusCode, as[1].Error)
		}
	})
}

func TestResponseIsRecordedWithinLimit(t *testing.T) {
	onEachDriver(t, func(t *testing.T, setup setupFunc) {
		f := setup(t)
		e := f.start(t, func(o *Options) { o.Sender = NewSender(SenderOptions{AllowPrivate: true, BodyLimit: 16}) })
		rcv := newReceiver(t,
			reply{status: 200, header: map[string]string{"X-Receiver": "r1"}, body: strings.Repeat("abcdefghij", 1000)},
			reply{status: 200, body: "short"})
		f.webhook(t, rcv.URL)

		for _, want := range []string{"abcdefghijabcdef", "short"} {
			_, d := publishOne(t, e, "a.b", `{}`)
			f.waitDelivery(t, d.ID, hookline.DeliverySucceeded)
			as := f.attempts(t, d.ID)
			if len(as) != 1 {
				t.Fatalf("got %d attempts, want 1", len(as))
			}
			if as[0].ResponseBody != want {
				t.Errorf("response body: got %q, want %q", as[0].ResponseBody, want)
			}
			if want != "short" && as[0].ResponseHeaders["X-Receiver"] != "r1" {
				t.Errorf("response header X-Receiver: got %q, want r1", as[0].ResponseHeaders["X-Receiver"])
			}
		}
	})
}

func TestOrderedWebhookDeliversInOrder(t *testing.T) {
	onEachDriver(t, func(t *testing.T, setup setupFunc) {
		f := setup(t)
		e := f.start(t)
		// The second event fails once; the third must wait for its retry to succeed.
		rcv := newReceiver(t,
			reply{status: 200, delay: 20 * time.Millisecond},
			reply{status: 500},
			reply{status: 200, delay: 20 * time.Millisecond})
		wh := f.webhook(t, rcv.URL, func(w *hookline.Webhook) { w.Ordered = true })
		other := newReceiver(t)
		f.webhook(t, other.URL) // unordered, alongside

		var evs []string
		var ds []string
		for i := range 4 {
			res := publish(t, e, PublishParams{Tenant: "acme", Type: "a.b", Data: json.RawMessage(`{"n":` + strconv.Itoa(i) + `}`)})
			evs = append(evs, res[0].Event.ID)
			for _, d := range res[0].Deliveries {
				if d.WebhookID == wh.ID {
					ds = append(ds, d.ID)
				}
			}
		}
		for _, id := range ds {
			f.waitDelivery(t, id, hookline.DeliverySucceeded)
		}
		var got []string
		for _, r := range rcv.requests() {
			got = append(got, r.eventID())
		}
		want := []string{evs[0], evs[1], evs[1], evs[2], evs[3]}
		if !slices.Equal(got, want) {
			t.Errorf("events received: got %v, want %v", got, want)
		}
		rcv.mu.Lock()
		maxIn := rcv.maxInFlight
		rcv.mu.Unlock()
		if maxIn != 1 {
			t.Errorf("requests in flight at once: got %d, want 1", maxIn)
		}
		waitFor(t, 5*time.Second, "the unordered webhook's four deliveries", func() bool { return other.count() == 4 })
	})
}

func TestShutdownFinishesInFlightAndReleasesTheRest(t *testing.T) {
	onEachDriver(t, func(t *testing.T, setup setupFunc) {
		f := setup(t)
		e1 := f.start(t, func(o *Options) { o.Workers = 1 })
		release := make(chan struct{})
		rcv := newReceiver(t, reply{status: 200, wait: release}, reply{status: 200})
		f.webhook(t, rcv.URL)

		byEvent := map[string]string{} // event id → delivery id
		for i := range 3 {
			ev, d := publishOne(t, e1, "a.b", `{"n":`+strconv.Itoa(i)+`}`)
			byEvent[ev.ID] = d.ID
		}
		waitFor(t, 5*time.Second, "the first attempt to be in flight", func() bool { return rcv.count() == 1 })
		// Which one went first is not guaranteed; the other two wait in the queue.
		inFlight := byEvent[rcv.requests()[0].eventID()]
		ds := []string{inFlight}
		for _, id := range byEvent {
			if id != inFlight {
				ds = append(ds, id)
			}
		}
		if inFlight == "" || len(ds) != 3 {
			t.Fatalf("in-flight request is for none of the published events")
		}

		stopped := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			stopped <- e1.Shutdown(ctx)
		}()
		select {
		case err := <-stopped:
			t.Fatalf("Shutdown returned (%v) while an attempt was in flight", err)
		case <-time.After(200 * time.Millisecond):
		}
		close(release)
		select {
		case err := <-stopped:
			if err != nil {
				t.Fatalf("shutdown: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Shutdown did not return after the in-flight attempt finished")
		}

		if d := f.delivery(t, ds[0]); d.Status != hookline.DeliverySucceeded || d.Attempts != 1 {
			t.Errorf("in-flight delivery: got %s after %d attempts, want succeeded after 1", d.Status, d.Attempts)
		}
		if as := f.attempts(t, ds[0]); len(as) != 1 || as[0].StatusCode != 200 {
			t.Errorf("in-flight attempt: got %+v, want one with status 200", as)
		}
		for _, id := range ds[1:] {
			if d := f.delivery(t, id); d.Status != hookline.DeliveryPending || d.Attempts != 0 {
				t.Errorf("queued delivery %s: got %s after %d attempts, want pending after 0", id, d.Status, d.Attempts)
			}
		}
		if n := rcv.count(); n != 1 {
			t.Errorf("receiver got %d requests, want 1 (nothing sent after shutdown began)", n)
		}

		// Released, not merely leased for 30 s: a new engine that frees no lease at
		// start-up takes them at once (both at a time, so that a slow first attempt
		// on a loaded machine cannot make its webhook's gate defer the second).
		f.start(t, func(o *Options) { o.Store = f.shared(); o.WebhookConcurrency = 2 })
		for _, id := range ds[1:] {
			f.waitDelivery(t, id, hookline.DeliverySucceeded)
		}
		if n := rcv.count(); n != 3 {
			t.Errorf("receiver got %d requests, want 3", n)
		}
	})
}

func TestShutdownDeadlineAbortsAndReleases(t *testing.T) {
	onEachDriver(t, func(t *testing.T, setup setupFunc) {
		f := setup(t)
		e := f.start(t)
		rcv := newReceiver(t, reply{status: 200, wait: make(chan struct{})}) // never answers
		f.webhook(t, rcv.URL)
		_, d := publishOne(t, e, "a.b", `{}`)
		waitFor(t, 5*time.Second, "the attempt to be in flight", func() bool { return rcv.count() == 1 })

		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		err := e.Shutdown(ctx)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("shutdown: got %v, want context.DeadlineExceeded", err)
		}
		// The aborted attempt is not counted against the receiver, and the delivery is
		// due again at once.
		if got := f.delivery(t, d.ID); got.Status != hookline.DeliveryPending || got.Attempts != 0 {
			t.Errorf("delivery: got %s after %d attempts, want pending after 0", got.Status, got.Attempts)
		}
		if as := f.attempts(t, d.ID); len(as) != 0 {
			t.Errorf("attempts recorded: got %d, want 0", len(as))
		}
		now := time.Now()
		claimed, err := f.store.DeliveryClaim(context.Background(), store.DeliveryClaimParams{
			Now: now, LeaseUntil: now.Add(time.Minute), LeaseToken: "test.1", Limit: 10,
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(claimed) != 1 || claimed[0].Delivery.ID != d.ID {
			t.Errorf("claimable after shutdown: got %d deliveries, want %s", len(claimed), d.ID)
		}
	})
}

func TestExpiredLeaseIsRecovered(t *testing.T) {
	onEachDriver(t, func(t *testing.T, setup setupFunc) {
		f := setup(t)
		ctx := context.Background()
		rcv := newReceiver(t)
		wh := f.webhook(t, rcv.URL)

		// A "dead" engine stored an event and claimed its delivery, then vanished.
		const deadToken = "node_dead.1"
		now := time.Now().UTC().Truncate(time.Millisecond)
		leaseUntil := now.Add(400 * time.Millisecond)
		dlvID := f.claimedByTheDead(t, wh, now, leaseUntil, deadToken)

		f.start(t, func(o *Options) { o.Store = f.shared(); o.PollInterval = 25 * time.Millisecond })
		d := f.waitDelivery(t, dlvID, hookline.DeliverySucceeded)
		if d.Attempts != 1 {
			t.Errorf("attempts: got %d, want 1", d.Attempts)
		}
		reqs := rcv.requests()
		if len(reqs) != 1 {
			t.Fatalf("receiver got %d requests, want 1", len(reqs))
		}
		if reqs[0].at.Before(leaseUntil) {
			t.Errorf("delivered at %s, before the dead engine's lease ended at %s", reqs[0].at, leaseUntil)
		}
		if reqs[0].eventID() != d.EventID {
			t.Errorf("event id: got %q, want %q", reqs[0].eventID(), d.EventID)
		}
		verify(t, wh.Secret, reqs[0])

		// The dead engine coming back late cannot overwrite the outcome.
		res, err := f.store.DeliveryComplete(ctx, []store.DeliveryCompleteParams{{
			DeliveryLease: store.DeliveryLease{ID: dlvID, LeaseToken: deadToken}, WebhookID: wh.ID,
			Status: hookline.DeliveryFailed, Error: "late", Now: time.Now(),
		}})
		if err != nil {
			t.Fatal(err)
		}
		if res[0].Applied {
			t.Error("late completion with the expired lease: got applied, want ignored")
		}
		if got := f.delivery(t, dlvID); got.Status != hookline.DeliverySucceeded {
			t.Errorf("status after late completion: got %s, want succeeded", got.Status)
		}
	})
}

func TestWebhookTest(t *testing.T) {
	onEachDriver(t, func(t *testing.T, setup setupFunc) {
		f := setup(t)
		e := f.start(t)
		rcv := newReceiver(t, reply{status: 200, body: "ok"}, reply{status: 500, body: "down"})
		wh := f.webhook(t, rcv.URL, func(w *hookline.Webhook) { w.Active = false }) // works on inactive webhooks

		ctx := context.Background()
		a, err := e.Test(ctx, wh, TestEvent{})
		if err != nil {
			t.Fatalf("test: %v", err)
		}
		if a.StatusCode != 200 || a.Error != "" || a.ResponseBody != "ok" || a.Number != 1 ||
			a.EventType != hookline.EventWebhookTest || a.WebhookID != wh.ID || a.DeliveryID != "" {
			t.Errorf("attempt: got %+v", a)
		}
		reqs := rcv.requests()
		if len(reqs) != 1 {
			t.Fatalf("receiver got %d requests, want 1", len(reqs))
		}
		verify(t, wh.Secret, reqs[0])
		var body struct {
			ID    string          `json:"id"`
			Event string          `json:"event"`
			Data  json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(reqs[0].body, &body); err != nil {
			t.Fatal(err)
		}
		if body.Event != hookline.EventWebhookTest || body.ID != a.EventID || string(body.Data) != `{"message":"This is a test webhook from Hookline"}` {
			t.Errorf("test body: got %s, want event webhook.test, id %s and the default test data", reqs[0].body, a.EventID)
		}

		b, err := e.Test(ctx, wh, TestEvent{})
		if err != nil {
			t.Fatalf("second test: %v", err)
		}
		if b.StatusCode != 500 || b.Error != "HTTP 500" || b.ResponseBody != "down" {
			t.Errorf("failing test attempt: got status %d, error %q, body %q; want 500, HTTP 500, down", b.StatusCode, b.Error, b.ResponseBody)
		}

		logs, err := f.store.AttemptList(ctx, store.AttemptListParams{WebhookID: wh.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(logs) != 2 || logs[0].ID != b.ID || logs[1].ID != a.ID {
			t.Errorf("webhook logs: got %d attempts, want the two tests newest first", len(logs))
		}
	})
}

func TestIdempotentPublish(t *testing.T) {
	onEachDriver(t, func(t *testing.T, setup setupFunc) {
		f := setup(t)
		e := f.start(t)
		rcv := newReceiver(t)
		f.webhook(t, rcv.URL)
		p := PublishParams{Tenant: "acme", Type: "a.b", Data: json.RawMessage(`{}`), IdempotencyKey: "order-42"}
		first := publish(t, e, p)
		f.waitDelivery(t, first[0].Deliveries[0].ID, hookline.DeliverySucceeded)
		again := publish(t, e, p)
		if again[0].Created || again[0].Event.ID != first[0].Event.ID {
			t.Errorf("repeat: got created %v, event %s; want not created, %s", again[0].Created, again[0].Event.ID, first[0].Event.ID)
		}
		if len(again[0].Deliveries) != 1 || again[0].Deliveries[0].ID != first[0].Deliveries[0].ID {
			t.Errorf("repeat deliveries: got %+v, want the original one", again[0].Deliveries)
		}
		// Every queue slot taken for the repeat was given back.
		waitFor(t, 5*time.Second, "the queue to empty", func() bool { return e.inUse.Load() == 0 })
		if n := rcv.count(); n != 1 {
			t.Errorf("receiver got %d requests, want 1", n)
		}
	})
}

func TestPublishFanOutFollowsFilters(t *testing.T) {
	onEachDriver(t, func(t *testing.T, setup setupFunc) {
		f := setup(t)
		e := f.start(t)
		forms := newReceiver(t)
		all := newReceiver(t)
		otherTenant := newReceiver(t)
		whForms := f.webhook(t, forms.URL, func(w *hookline.Webhook) { w.Events = []string{"form.*"} })
		whAll := f.webhook(t, all.URL)
		f.webhook(t, otherTenant.URL, func(w *hookline.Webhook) { w.Tenant = "globex" })

		tests := []struct {
			typ  string
			want []string
		}{
			{"form.submitted", []string{whForms.ID, whAll.ID}},
			{"user.created", []string{whAll.ID}},
			{"form.a.b", []string{whAll.ID}},
		}
		for _, tt := range tests {
			res := publish(t, e, PublishParams{Tenant: "acme", Type: tt.typ, Data: json.RawMessage(`{}`)})
			var got []string
			for _, d := range res[0].Deliveries {
				got = append(got, d.WebhookID)
				f.waitDelivery(t, d.ID, hookline.DeliverySucceeded)
			}
			slices.Sort(got)
			want := slices.Sorted(slices.Values(tt.want))
			if !slices.Equal(got, want) {
				t.Errorf("%s delivered to %v, want %v", tt.typ, got, want)
			}
		}
		if forms.count() != 1 || all.count() != 3 || otherTenant.count() != 0 {
			t.Errorf("requests: got forms %d, all %d, other tenant %d; want 1, 3, 0", forms.count(), all.count(), otherTenant.count())
		}
	})
}

func TestDisabledBeforeAttemptIsCancelled(t *testing.T) {
	onEachDriver(t, func(t *testing.T, setup setupFunc) {
		f := setup(t)
		// A first delay keeps the delivery in the store long enough to switch the webhook off.
		e := f.start(t, func(o *Options) { o.Policy.Schedule = []time.Duration{300 * time.Millisecond} })
		rcv := newReceiver(t)
		wh := f.webhook(t, rcv.URL)
		_, d := publishOne(t, e, "a.b", `{}`)
		wh.Active = false
		if err := f.store.WebhookUpdate(context.Background(), wh); err != nil {
			t.Fatal(err)
		}
		e.WebhookChanged(wh.ID, wh.Tenant)

		got := f.waitDelivery(t, d.ID, hookline.DeliveryCancelled)
		if got.LastError != "webhook is disabled" || got.Attempts != 0 {
			t.Errorf("delivery: got error %q after %d attempts, want webhook is disabled after 0", got.LastError, got.Attempts)
		}
		if n := rcv.count(); n != 0 {
			t.Errorf("receiver got %d requests, want 0", n)
		}
	})
}

func TestFirstDelay(t *testing.T) {
	onEachDriver(t, func(t *testing.T, setup setupFunc) {
		f := setup(t)
		// A profile may start with a delay (a seed asks for 1m,5m,30m); the engine
		// wakes for it instead of waiting for the next poll.
		e := f.start(t, func(o *Options) { o.Policy.Schedule = []time.Duration{150 * time.Millisecond, 50 * time.Millisecond} })
		rcv := newReceiver(t)
		f.webhook(t, rcv.URL)
		start := time.Now()
		_, d := publishOne(t, e, "a.b", `{}`)
		if d.NextAttemptAt == nil || d.NextAttemptAt.Before(start.Add(140*time.Millisecond)) {
			t.Errorf("next attempt: got %v, want about 150ms after publishing", d.NextAttemptAt)
		}
		f.waitDelivery(t, d.ID, hookline.DeliverySucceeded)
		if gap := rcv.requests()[0].at.Sub(start); gap < 140*time.Millisecond {
			t.Errorf("first attempt came %s after publishing, want at least 150ms", gap)
		}
	})
}

func TestDeadEndpointDoesNotStarveOthers(t *testing.T) {
	onEachDriver(t, func(t *testing.T, setup setupFunc) {
		f := setup(t)
		// Eight workers; without per-webhook limits the dead endpoint's requests
		// would hold all of them until their timeout.
		e := f.start(t, func(o *Options) { o.Workers = 8; o.Timeout = 3 * time.Second; o.Policy.Schedule = []time.Duration{0} })
		hang := make(chan struct{})
		t.Cleanup(func() { close(hang) })
		dead := newReceiver(t, reply{status: 200, wait: hang})
		healthy := newReceiver(t)
		f.webhook(t, dead.URL)
		f.webhook(t, healthy.URL)

		const n = 20
		start := time.Now()
		for i := range n {
			publish(t, e, PublishParams{Tenant: "acme", Type: "a.b", Data: json.RawMessage(`{"n":` + strconv.Itoa(i) + `}`)})
		}
		waitFor(t, 2*time.Second, "the healthy webhook's deliveries while the dead one hangs", func() bool { return healthy.count() == n })
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("healthy deliveries took %s", d)
		}
		dead.mu.Lock()
		inFlight := dead.maxInFlight
		dead.mu.Unlock()
		if inFlight > 2 {
			t.Errorf("requests in flight to the dead endpoint: got %d, want at most its initial limit 2", inFlight)
		}
	})
}

func TestRetryAfterPausesTheWebhook(t *testing.T) {
	onEachDriver(t, func(t *testing.T, setup setupFunc) {
		f := setup(t)
		e := f.start(t, func(o *Options) {
			o.Policy.Schedule = []time.Duration{0, 30 * time.Second}
			o.PollInterval = 50 * time.Millisecond
		})
		rcv := newReceiver(t, reply{status: 503, header: map[string]string{"Retry-After": "1"}}, reply{status: 200})
		f.webhook(t, rcv.URL)
		_, first := publishOne(t, e, "a.b", `{"n":1}`)
		waitFor(t, 5*time.Second, "the first attempt", func() bool { return rcv.count() == 1 })
		waitFor(t, 5*time.Second, "the 503 to be recorded", func() bool { return f.delivery(t, first.ID).Attempts == 1 })
		_, second := publishOne(t, e, "a.b", `{"n":2}`)
		f.waitDelivery(t, first.ID, hookline.DeliverySucceeded)
		f.waitDelivery(t, second.ID, hookline.DeliverySucceeded)
		reqs := rcv.requests()
		if len(reqs) != 3 {
			t.Fatalf("receiver got %d requests, want 3", len(reqs))
		}
		for _, r := range reqs[1:] {
			if gap := r.at.Sub(reqs[0].at); gap < 900*time.Millisecond {
				t.Errorf("a request came %s after the 503 with Retry-After: 1, want the webhook paused for 1s", gap)
			}
		}
		if as := f.attempts(t, second.ID); len(as) != 1 {
			t.Errorf("the held-back delivery: got %d attempts, want 1 (deferring is not an attempt)", len(as))
		}
	})
}
