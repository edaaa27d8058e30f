package api_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/api"
	"github.com/hookline/hookline/internal/apikey"
	"github.com/hookline/hookline/internal/config"
	"github.com/hookline/hookline/internal/delivery"
	"github.com/hookline/hookline/internal/metrics"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/store/drivertest"
	"github.com/hookline/hookline/internal/store/postgres/pgtest"
	"github.com/hookline/hookline/internal/store/sqlite/sqlitetest"
	"github.com/hookline/hookline/internal/testkit"
)

// fixture is one running Hookline: a SQLite store in a temp dir, a delivery
// engine that may reach loopback, the API behind a real HTTP server, and the
// bootstrap admin key.
type fixture struct {
	url    string
	addr   string // host:port, for raw connections
	admin  string
	store  store.Store
	hasher *apikey.Hasher
	logs   *testkit.SyncBuffer
	client *http.Client

	mu        sync.Mutex
	secrets   map[string]bool // every webhook secret and API key seen; none may be logged
	receivers []*receiver
}

// testConfig is a Config fit for tests: the documented defaults with a short
// retry schedule; tests lower the limits they exercise.
func testConfig() config.Config {
	return config.Config{
		AllowPrivateTargets:  true,
		RetrySchedule:        []time.Duration{0, 150 * time.Millisecond, 150 * time.Millisecond},
		Timeout:              5 * time.Second,
		Lease:                10 * time.Second,
		Workers:              4,
		MaxPayloadBytes:      1 << 20,
		MaxWebhooksPerTenant: 50,
		TenantKeyRateLimit:   1000,
		ResponseBodyLimit:    4096,
		ReadTimeout:          60 * time.Second,
		WriteTimeout:         30 * time.Second,
	}
}

func TestMain(m *testing.M) { pgtest.Main(m) }

// setupFunc starts a Hookline whose Config is testConfig changed by each of opts.
type setupFunc func(t testing.TB, opts ...func(*config.Config)) *fixture

// setup starts a Hookline on SQLite.
func setup(t testing.TB, opts ...func(*config.Config)) *fixture {
	t.Helper()
	return setupOn(t, func(t testing.TB) store.Store { return sqlitetest.Open(t) }, opts...)
}

// onEachDriver runs test once per storage driver, in parallel subtests, for
// the tests whose behaviour rests on what the store keeps.
func onEachDriver(t *testing.T, test func(t *testing.T, setup setupFunc)) {
	drivertest.Each(t, func(t *testing.T, open func(testing.TB) store.Store) {
		test(t, func(t testing.TB, opts ...func(*config.Config)) *fixture {
			t.Helper()
			return setupOn(t, open, opts...)
		})
	})
}

// setupOn starts a Hookline on a store that open returns.
func setupOn(t testing.TB, open func(testing.TB) store.Store, opts ...func(*config.Config)) *fixture {
	t.Helper()
	cfg := testConfig()
	for _, o := range opts {
		o(&cfg)
	}
	ctx := context.Background()
	s := open(t)

	logs := &testkit.SyncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	m := metrics.New()
	engine := delivery.New(delivery.Options{
		Store:        s,
		Sender:       delivery.NewSender(delivery.SenderOptions{AllowPrivate: cfg.AllowPrivateTargets, BodyLimit: cfg.ResponseBodyLimit}),
		Policy:       delivery.Policy{Schedule: cfg.RetrySchedule},
		Timeout:      cfg.Timeout,
		Lease:        cfg.Lease,
		Workers:      cfg.Workers,
		Metrics:      m,
		Logger:       log,
		PollInterval: 100 * time.Millisecond,
	})
	if err := engine.Start(ctx); err != nil {
		t.Fatal(err)
	}
	pepper := make([]byte, 32)
	rand.Read(pepper)
	hasher, err := apikey.NewHasher(pepper)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := apikey.Bootstrap(ctx, s, hasher, "", time.Now())
	if err != nil || admin == "" {
		t.Fatalf("Bootstrap: got key %q, err %v; want a generated key", admin, err)
	}
	if cfg.AdminKey != "" {
		if _, err := apikey.Bootstrap(ctx, s, hasher, cfg.AdminKey, time.Now()); err != nil {
			t.Fatal(err)
		}
	}

	// Every exchange of the tests is held to openapi.json (contract_test.go).
	handler := api.CheckContract(t, api.New(api.Options{Store: s, Engine: engine, Config: cfg, Metrics: m, Logger: log, Hasher: hasher}))
	srv := httptest.NewUnstartedServer(handler)
	srv.Config = api.NewHTTPServer(handler, api.ServerOptions{ReadTimeout: cfg.ReadTimeout, Logger: log})
	srv.Listener = api.NewListener(srv.Listener)
	srv.Start()

	fx := &fixture{url: srv.URL, addr: srv.Listener.Addr().String(), admin: admin, store: s, hasher: hasher, logs: logs, client: srv.Client(), secrets: map[string]bool{admin: true}}
	t.Cleanup(func() {
		srv.Close()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := engine.Shutdown(sctx); err != nil {
			t.Errorf("engine shutdown: %v", err)
		}
		fx.mu.Lock()
		for _, rc := range fx.receivers {
			rc.srv.Close()
		}
		fx.mu.Unlock()
		fx.checkNoSecretsLogged(t)
	})
	return fx
}

// checkNoSecretsLogged fails the test if any webhook secret or API key the test
// saw appears in the server's log (SPEC §6: neither is ever logged).
func (fx *fixture) checkNoSecretsLogged(t testing.TB) {
	t.Helper()
	logged := fx.logs.String()
	fx.mu.Lock()
	defer fx.mu.Unlock()
	for s := range fx.secrets {
		if strings.Contains(logged, s) {
			t.Errorf("the server log contains the secret %.12s…:\n%s", s, logged)
		}
	}
}

// response is one API answer.
type response struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any // nil unless the body is a JSON object
}

// do sends a request to the API with key as bearer token (none when empty).
// body is sent as is when it is a string or []byte, else encoded as JSON.
func (fx *fixture) do(t *testing.T, method, path, key string, body any) response {
	t.Helper()
	return fx.doHeader(t, method, path, key, body, nil)
}

// doHeader is do with extra request headers.
func (fx *fixture) doHeader(t *testing.T, method, path, key string, body any, header http.Header) response {
	t.Helper()
	r, err := fx.send(method, path, key, body, header)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return r
}

// send is doHeader for goroutines other than the test's: it returns errors.
func (fx *fixture) send(method, path, key string, body any, header http.Header) (response, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			return response{}, err
		}
		rd = bytes.NewReader(enc)
	}
	req, err := http.NewRequest(method, fx.url+path, rd)
	if err != nil {
		return response{}, err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := fx.client.Do(req)
	if err != nil {
		return response{}, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return response{}, fmt.Errorf("reading the body: %w", err)
	}
	r := response{status: res.StatusCode, header: res.Header, raw: raw}
	if len(raw) > 0 && raw[0] == '{' {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			return r, fmt.Errorf("answer is not JSON: %w\n%s", err, raw)
		}
	}
	fx.remember(r.body)
	for _, it := range r.items() {
		fx.remember(it)
	}
	return r, nil
}

// remember records the secret and key fields of an answer.
func (fx *fixture) remember(obj map[string]any) {
	fx.mu.Lock()
	defer fx.mu.Unlock()
	for _, f := range []string{"secret", "key"} {
		if s, ok := obj[f].(string); ok && s != "" {
			fx.secrets[s] = true
		}
	}
}

// must fails the test unless the answer has status want.
func (r response) must(t *testing.T, want int) response {
	t.Helper()
	if r.status != want {
		t.Fatalf("got status %d, want %d; body: %s", r.status, want, r.raw)
	}
	return r
}

// str returns a string field of the answer.
func (r response) str(field string) string {
	s, _ := r.body[field].(string)
	return s
}

// items returns the items of a list answer.
func (r response) items() []map[string]any { return r.objects("items") }

// objects returns the objects of an array field of the answer.
func (r response) objects(field string) []map[string]any {
	list, _ := r.body[field].([]any)
	out := make([]map[string]any, 0, len(list))
	for _, v := range list {
		if m, ok := v.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// ids returns the "id" of every item of a list answer.
func (r response) ids() []string {
	var out []string
	for _, it := range r.items() {
		s, _ := it["id"].(string)
		out = append(out, s)
	}
	return out
}

// problem checks that the answer is an RFC 9457 problem with status and, when
// field is set, that it names that field.
func (r response) problem(t *testing.T, status int, field string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("got status %d, want %d; body: %s", r.status, status, r.raw)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("got Content-Type %q, want application/problem+json", ct)
	}
	if typ := r.str("type"); !strings.HasPrefix(typ, "urn:hookline:problem:") {
		t.Errorf("got type %q, want urn:hookline:problem:…", typ)
	} else if kindStatus, title, ok := api.ProblemKind(typ); !ok || kindStatus != status || r.str("title") != title {
		t.Errorf("got type %q with title %q, want a kind of problems answered %d, with its title (%q)", typ, r.str("title"), status, title)
	}
	if got, _ := r.body["status"].(float64); int(got) != status {
		t.Errorf("got status member %v, want %d", r.body["status"], status)
	}
	detail := r.str("detail")
	if detail == "" {
		t.Errorf("problem has no detail: %s", r.raw)
	}
	if id := r.header.Get("Request-Id"); id == "" || r.str("instance") != "urn:hookline:request:"+id {
		t.Errorf("got instance %q and Request-Id %q, want urn:hookline:request:<the Request-Id>", r.str("instance"), id)
	}
	if field == "" {
		return
	}
	if !strings.Contains(detail, field) {
		t.Errorf("detail %q does not name the field %q", detail, field)
	}
	errs, _ := r.body["errors"].([]any)
	if len(errs) == 0 {
		t.Fatalf("problem has no errors[] naming %q: %s", field, r.raw)
	}
	if got, _ := errs[0].(map[string]any)["field"].(string); got != field {
		t.Errorf("got errors[0].field %q, want %q", got, field)
	}
}

// createKey creates an API key with the admin key and returns its id and text.
func (fx *fixture) createKey(t *testing.T, in map[string]any) (id, key string) {
	t.Helper()
	r := fx.do(t, "POST", "/v1/api-keys", fx.admin, in).must(t, http.StatusCreated)
	return r.str("id"), r.str("key")
}

// createWebhook creates a webhook with key and returns the answer.
func (fx *fixture) createWebhook(t *testing.T, key string, in map[string]any) response {
	t.Helper()
	return fx.do(t, "POST", "/v1/webhooks", key, in).must(t, http.StatusCreated)
}

// publish publishes an event with key and returns the 202 answer.
func (fx *fixture) publish(t *testing.T, key string, in map[string]any) response {
	t.Helper()
	return fx.do(t, "POST", "/v1/events", key, in).must(t, http.StatusAccepted)
}

// received is one request a receiver got.
type received struct {
	path   string
	header http.Header
	body   []byte
}

// receiver is a webhook endpoint on 127.0.0.1 that records what it gets and
// answers, per path, the statuses queued with respond (then 200).
type receiver struct {
	srv  *httptest.Server
	url  string
	mu   sync.Mutex
	got  []received
	plan map[string][]int
}

// receiver starts a loopback receiver, closed when the fixture stops.
func (fx *fixture) receiver() *receiver {
	rc := &receiver{plan: map[string][]int{}}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, received{path: r.URL.Path, header: r.Header.Clone(), body: body})
		status := http.StatusOK
		if q := rc.plan[r.URL.Path]; len(q) > 0 {
			status, rc.plan[r.URL.Path] = q[0], q[1:]
		}
		rc.mu.Unlock()
		w.Header().Set("X-Receiver", "test")
		w.WriteHeader(status)
		fmt.Fprintf(w, "answered %d", status)
	}))
	rc.url = rc.srv.URL
	fx.mu.Lock()
	fx.receivers = append(fx.receivers, rc)
	fx.mu.Unlock()
	return rc
}

// respond queues the statuses the next requests to path get.
func (rc *receiver) respond(path string, statuses ...int) {
	rc.mu.Lock()
	rc.plan[path] = append(rc.plan[path], statuses...)
	rc.mu.Unlock()
}

// requests returns what the receiver got so far at path ("" for all paths).
func (rc *receiver) requests(path string) []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []received
	for _, d := range rc.got {
		if path == "" || d.path == path {
			out = append(out, d)
		}
	}
	return out
}

// waitFor waits until the receiver got at least n requests at path and returns
// them.
func (rc *receiver) waitFor(t *testing.T, path string, n int) []received {
	t.Helper()
	var got []received
	eventually(t, func() bool {
		got = rc.requests(path)
		return len(got) >= n
	}, func() string { return fmt.Sprintf("receiver got %d requests at %q, want %d", len(got), path, n) })
	return got
}

// eventually polls cond until it holds, failing the test with msg after a
// deadline generous enough for a loaded machine running -race.
func eventually(t *testing.T, cond func() bool, msg func() string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal(msg())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitDelivery polls GET /v1/deliveries/{id} until its status is want.
func (fx *fixture) waitDelivery(t *testing.T, id, want string) response {
	t.Helper()
	var r response
	eventually(t, func() bool {
		r = fx.do(t, "GET", "/v1/deliveries/"+id, fx.admin, nil)
		return r.status == http.StatusOK && r.str("status") == want
	}, func() string { return fmt.Sprintf("delivery %s: got %d %s, want status %q", id, r.status, r.raw, want) })
	return r
}

// obj is a JSON object, for request bodies.
type obj = map[string]any

// discard is a loopback address nothing listens on: webhooks that must never
// receive anything point there.
const discard = "http://127.0.0.1:9/hook"

// listAll walks a list with limit, returning every page's ids.
func (fx *fixture) listAll(t *testing.T, path, key string, limit int) [][]string {
	t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	var pages [][]string
	cursor := ""
	for range 100 {
		q := fmt.Sprintf("%s%slimit=%d", path, sep, limit)
		if cursor != "" {
			q += "&cursor=" + cursor
		}
		r := fx.do(t, "GET", q, key, nil).must(t, http.StatusOK)
		if _, ok := r.body["next_cursor"]; !ok {
			t.Fatalf("%s: answer has no next_cursor: %s", q, r.raw)
		}
		pages = append(pages, r.ids())
		if cursor = r.str("next_cursor"); cursor == "" {
			return pages
		}
	}
	t.Fatalf("%s: more than 100 pages", path)
	return nil
}

// uniq returns the set of ids.
func uniq(ids []string) map[string]bool {
	m := map[string]bool{}
	for _, id := range ids {
		m[id] = true
	}
	return m
}

// envelope is the Standard Webhooks body.
type envelope struct {
	ID        string          `json:"id"`
	Event     string          `json:"event"`
	Timestamp string          `json:"timestamp"`
	Data      json.RawMessage `json:"data"`
}

// decodeEnvelope decodes a delivery's body.
func decodeEnvelope(t *testing.T, body []byte) envelope {
	t.Helper()
	var e envelope
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("delivery body is not the envelope: %v\n%s", err, body)
	}
	return e
}

// deliveryIDs returns the delivery ids of a publish answer.
func deliveryIDs(r response) []string {
	var ids []string
	for _, d := range r.objects("deliveries") {
		id, _ := d["id"].(string)
		ids = append(ids, id)
	}
	return ids
}

// oneDelivery returns the id of the only delivery of a publish answer.
func oneDelivery(t *testing.T, r response) string {
	t.Helper()
	ids := deliveryIDs(r)
	if len(ids) != 1 {
		t.Fatalf("got deliveries %v, want exactly one", r.body["deliveries"])
	}
	return ids[0]
}

// listAllNames walks the event types in pages of 2, returning their names.
func (fx *fixture) listAllNames(t *testing.T, key string) [][]string {
	t.Helper()
	var pages [][]string
	cursor := ""
	for range 10 {
		r := fx.do(t, "GET", "/v1/event-types?limit=2&cursor="+cursor, key, nil).must(t, http.StatusOK)
		var names []string
		for _, it := range r.items() {
			names = append(names, it["name"].(string))
		}
		pages = append(pages, names)
		if cursor = r.str("next_cursor"); cursor == "" {
			return pages
		}
	}
	t.Fatal("more than 10 pages of event types")
	return nil
}
