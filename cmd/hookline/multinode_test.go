package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookline/hookline/internal/store/postgres/pgtest"
	"github.com/hookline/hookline/webhook"
)

// The multi-node tests run three real `hookline serve` processes on one
// PostgreSQL database (docs/scaling.md). They are not parallel: they measure
// what happens within a lease of two seconds, on a machine that may have two
// cores for the nodes, the database, the receivers and the publishers together.

const (
	mnTimeout = time.Second
	mnLease   = 2 * time.Second
)

// mnEnv is the environment of every node of these tests: short attempts, leases
// and retries, so that a crash is recovered from within the test's time.
var mnEnv = []string{
	"HOOKLINE_TIMEOUT=" + mnTimeout.String(),
	"HOOKLINE_LEASE=" + mnLease.String(),
	"HOOKLINE_RETRY_SCHEDULE=0s,200ms,500ms,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s",
	"HOOKLINE_SHUTDOWN_TIMEOUT=5s",
	"HOOKLINE_PG_MAX_CONNS=12",
}

// TestMultiNode is the multi-node run: three nodes on one database,
// events published steadily through all of them, one node killed with SIGKILL
// (and started again later) and another stopped with SIGTERM meanwhile. Every
// event answered 202 must be delivered; no two requests for one event may be in
// progress at once unless the killed node's lease explains it; the ordered
// webhook gets each publisher's events in order; and an API key's rate limit is
// one budget across the nodes.
func TestMultiNode(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three nodes on PostgreSQL for ~25 s; skipped with -short")
	}
	db := pgtest.URL(t) // empty: the nodes race to migrate it
	secretKey := newSecretKey(t)
	nodes := make([]*server, 3)
	for i := range nodes {
		nodes[i] = newNode(t, fmt.Sprint("n", i), db, secretKey, mnEnv...)
	}
	startNodes(nodes...)
	finder := newNodeFinder()
	names := []string{"n0", "n1", "n2"}
	for i, n := range nodes {
		finder.add(n, names[i])
	}

	secret := webhook.NewSecret()
	verifier, err := webhook.NewStandard(secret)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("RateLimitAcrossNodes", func(t *testing.T) { testRateLimitAcrossNodes(t, nodes) })
	t.Run("KeysAcrossNodes", func(t *testing.T) { testKeysAcrossNodes(t, nodes) })
	t.Run("OrderAcrossNodes", func(t *testing.T) { testOrderAcrossNodes(t, nodes, secret, verifier, db) })
	// slow gets every event and takes 10-20 ms over each request, which widens
	// the window in which two nodes could both be sending one event; sluggish
	// gets three events in four and takes 200-400 ms, so that the killed node has
	// many requests in flight when it dies; ordered gets the fourth and answers
	// at once.
	slow := newTimedReceiver(verifier, false, func() time.Duration {
		return time.Duration(10+rand.IntN(11)) * time.Millisecond
	}, finder)
	sluggish := newTimedReceiver(verifier, false, func() time.Duration {
		return time.Duration(200+rand.IntN(201)) * time.Millisecond
	}, finder)
	ordered := newTimedReceiver(verifier, true, nil, finder)
	for _, r := range []struct {
		rc     *timedReceiver
		events string
	}{{slow, "order.*"}, {sluggish, "order.created"}, {ordered, "order.sequenced"}} {
		nodes[0].mustDo(http.MethodPost, "/v1/webhooks", map[string]any{
			"url": r.rc.serve(t) + "/hooks", "events": []string{r.events}, "tenant": "acme", "secret": secret,
			"ordered": r.rc.ordered,
		}, &webhookCreated{}, http.StatusCreated)
	}

	const (
		workers   = 4
		maxEvents = 3000
	)
	// One event in four also goes to the ordered webhook, whose deliveries are
	// made one at a time.
	pub := newClusterPublisher(nodes, func(n int) string {
		if n%4 == 0 {
			return "order.sequenced"
		}
		return "order.created"
	})
	begin := time.Now()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pub.run(w, maxEvents, 15*time.Millisecond, stop, begin.Add(25*time.Second))
		}()
	}
	stopped := false
	stopPublishing := func() {
		if !stopped {
			stopped = true
			close(stop)
			wg.Wait()
		}
	}
	t.Cleanup(stopPublishing)
	sleepUntil := func(d time.Duration) { time.Sleep(time.Until(begin.Add(d))) }

	// 4 s in: kill -9 node 0, in the middle of its deliveries.
	sleepUntil(4 * time.Second)
	kw := killWindow{node: "n0", sent: time.Now()}
	nodes[0].kill()
	kw.gone = time.Now()
	kw.leaseExpiry = kw.sent.Add(mnLease)
	pub.up[0].Store(false)
	acceptedAtKill := len(pub.acceptedCopy())

	// 7 s in, once its leases have run out: start it again, as a new process.
	sleepUntil(7 * time.Second)
	restartAt := time.Now()
	nodes[0].start()
	finder.add(nodes[0], "n0'")
	pub.up[0].Store(true)

	// 9 s in: SIGTERM node 1; it must finish what it has in flight, hand back
	// what it claimed, and exit 0.
	sleepUntil(9 * time.Second)
	termAt := time.Now()
	code, took := nodes[1].terminate(15 * time.Second)
	pub.up[1].Store(false)
	if code != 0 {
		t.Errorf("node 1 exited with code %d after SIGTERM, want 0", code)
	}

	sleepUntil(15 * time.Second)
	stopPublishing()
	publishedFor := time.Since(begin)
	accepted := pub.acceptedCopy()
	pub.mu.Lock()
	problems, giveUps, byNode := pub.problems, pub.giveUps, pub.byNode
	pub.mu.Unlock()
	for _, p := range problems {
		t.Errorf("publishing: %s", p)
	}
	sequenced, created := map[string]string{}, map[string]string{}
	for key, id := range accepted {
		var w, n int
		fmt.Sscanf(key, "k%d-%d", &w, &n)
		if n%4 == 0 {
			sequenced[key] = id
		} else {
			created[key] = id
		}
	}

	drainFrom := time.Now()
	waitFor(30*time.Second, func() bool {
		return len(slow.lost(accepted)) == 0 && len(sluggish.lost(created)) == 0 && len(ordered.lost(sequenced)) == 0
	})
	drained := time.Since(drainFrom)

	// Delivered must also mean recorded: nothing left pending or failed.
	var pending, failed struct {
		Items []json.RawMessage `json:"items"`
	}
	waitFor(10*time.Second, func() bool {
		_, err := nodes[2].do(http.MethodGet, "/v1/deliveries?status=pending&limit=1000", nil, &pending)
		return err == nil && len(pending.Items) == 0
	})
	nodes[2].mustDo(http.MethodGet, "/v1/deliveries?status=failed&limit=1000", nil, &failed, http.StatusOK)

	t.Logf("published for %s: accepted %d (%d by the time of the kill; by node %v), publish retries %d, keys abandoned %d",
		publishedFor.Round(time.Millisecond), len(accepted), acceptedAtKill, byNode, pub.retries.Load(), giveUps)
	t.Logf("SIGKILL n0 at +%s, n0 started again at +%s, SIGTERM n1 at +%s (exit %d after %s); all delivered %s after publishing stopped",
		kw.sent.Sub(begin).Round(time.Millisecond), restartAt.Sub(begin).Round(time.Millisecond), termAt.Sub(begin).Round(time.Millisecond), code,
		took.Round(time.Millisecond), drained.Round(time.Millisecond))
	// The events the killed node accepted: other nodes must take over those it
	// had not delivered once its leases ran out.
	pub.mu.Lock()
	fromKilled := map[string]bool{}
	for key, at := range pub.acceptedAt {
		if pub.acceptedBy[key] == 0 && at.Before(kw.sent) {
			fromKilled[pub.accepted[key]] = true
		}
	}
	pub.mu.Unlock()
	reportNodeRun(t, "slow", slow, accepted, fromKilled, kw, begin)
	reportNodeRun(t, "sluggish", sluggish, created, fromKilled, kw, begin)
	reportNodeRun(t, "ordered", ordered, sequenced, fromKilled, kw, begin)
	if len(pending.Items) > 0 {
		t.Errorf("%d deliveries still pending after every event was received, e.g. %s", len(pending.Items), pending.Items[0])
	}
	if len(failed.Items) > 0 {
		t.Errorf("%d deliveries failed, e.g. %s", len(failed.Items), failed.Items[0])
	}
	if len(accepted) < 500 || len(sequenced) < 100 {
		t.Errorf("only %d events accepted (%d for the ordered webhook); the test exercised too little", len(accepted), len(sequenced))
	}
	finder.mu.Lock()
	if finder.misses > 0 {
		t.Logf("the sending node of %d requests could not be told", finder.misses)
	}
	finder.mu.Unlock()
}

// reportNodeRun logs what one receiver got, and fails the test on an event lost,
// a bad request, an idempotency key stored twice, or two requests for one event
// in progress at once that the crash does not explain. fromKilled holds the
// events the killed node accepted.
func reportNodeRun(t *testing.T, name string, rc *timedReceiver, accepted map[string]string, fromKilled map[string]bool, kw killWindow, begin time.Time) {
	t.Helper()
	lost := rc.lost(accepted)
	reqs, ok, bad := rc.snapshot()

	perNode := map[string]int{}
	for _, r := range reqs {
		n := r.node
		if n == "" {
			n = "?"
		}
		perNode[n]++
	}
	// A repeat is a second 2xx for one event. The crash explains one when the
	// first was in progress at the kill, from the killed node (when known).
	first := map[string]request{}
	for _, r := range reqs {
		if f, seen := first[r.event]; r.status == http.StatusOK && (!seen || r.start.Before(f.start)) {
			first[r.event] = r
		}
	}
	// Taken over: an event the killed node accepted that another node sent after
	// the kill.
	takenOver := map[string]bool{}
	var earliest time.Duration
	for _, r := range reqs {
		if fromKilled[r.event] && r.start.After(kw.gone) {
			takenOver[r.event] = true
			if d := r.start.Sub(kw.sent); earliest == 0 || d < earliest {
				earliest = d
			}
		}
	}
	duplicates, explained := 0, 0
	var unexplained []string
	for id, n := range ok {
		if n < 2 {
			continue
		}
		duplicates += n - 1
		f := first[id]
		if f.start.Before(kw.gone) && (f.node == "" || f.node == kw.node) {
			explained += n - 1
		} else {
			unexplained = append(unexplained, fmt.Sprintf("%s (first sent by %q at +%s)", id, f.node, f.start.Sub(begin).Round(time.Millisecond)))
		}
	}
	// Idempotency across nodes: one key, one event, whichever nodes it was sent
	// to. An event delivered but never acknowledged was committed by a node whose
	// answer was lost; its key's retry must then have returned the same event.
	acceptedIDs := map[string]bool{}
	for _, id := range accepted {
		acceptedIDs[id] = true
	}
	keyEvents := map[[2]int]map[string]bool{}
	strays := 0
	for _, r := range reqs {
		if r.status != http.StatusOK {
			continue
		}
		k := [2]int{r.worker, r.n}
		if keyEvents[k] == nil {
			keyEvents[k] = map[string]bool{}
		}
		if !keyEvents[k][r.event] && !acceptedIDs[r.event] {
			strays++
		}
		keyEvents[k][r.event] = true
	}
	for k, ids := range keyEvents {
		if len(ids) > 1 {
			t.Errorf("%s webhook: publisher %d's event %d was stored as %d events: %v", name, k[0], k[1], len(ids), ids)
		}
	}
	t.Logf("%s webhook: accepted %d, delivered %d, lost %d, delivered-but-unacknowledged %d, requests %d by node %v, duplicates %d (%d sent first by the killed node before it died)",
		name, len(accepted), len(ok), len(lost), strays, len(reqs), perNode, duplicates, explained)
	if len(unexplained) > 0 {
		sort.Strings(unexplained)
		t.Logf("%s webhook: %d repeated events the kill does not explain, e.g. %s", name, len(unexplained),
			strings.Join(unexplained[:min(5, len(unexplained))], "; "))
	}

	ov := overlaps(reqs, kw)
	allowed := 0
	for _, o := range ov {
		if o.allowed {
			allowed++
			continue
		}
		t.Errorf("%s webhook: event %s was in progress twice at once: from %q at +%s to +%s and from %q at +%s to +%s",
			name, o.a.event, o.a.node, o.a.start.Sub(begin).Round(time.Millisecond), o.a.end.Sub(begin).Round(time.Millisecond),
			o.b.node, o.b.start.Sub(begin).Round(time.Millisecond), o.b.end.Sub(begin).Round(time.Millisecond))
	}
	t.Logf("%s webhook: overlapping requests for one event: %d, of which %d explained by the killed node's lease; "+
		"%d events the killed node accepted were sent by other nodes after its death, the first %s after the kill (lease %s)",
		name, len(ov), allowed, len(takenOver), earliest.Round(time.Millisecond), mnLease)
	for i, b := range bad {
		if i == 10 {
			t.Errorf("%s webhook: … and %d more bad requests", name, len(bad)-10)
			break
		}
		t.Errorf("%s webhook: %s", name, b)
	}
	if len(lost) > 0 {
		t.Errorf("%s webhook: %d accepted events never delivered, e.g. %v", name, len(lost), lost[:min(10, len(lost))])
	}
}

// testOrderAcrossNodes: one publisher sends events for an ordered webhook one
// after the other as fast as it can, each through the next node; they must be
// delivered in the order they were published, although consecutive events often
// get their ids in the same millisecond on different nodes.
func testOrderAcrossNodes(t *testing.T, nodes []*server, secret string, verifier *webhook.Standard, db string) {
	const events = 600
	rc := newTimedReceiver(verifier, true, nil, nil)
	recv := httptest.NewServer(rc)
	t.Cleanup(recv.Close)
	var wh webhookCreated
	nodes[0].mustDo(http.MethodPost, "/v1/webhooks", map[string]any{
		"url": recv.URL + "/chain", "events": []string{"chain.*"}, "tenant": "acme", "secret": secret, "ordered": true,
	}, &wh, http.StatusCreated)
	pub := newClusterPublisher(nodes, func(int) string { return "chain.step" })
	pub.prefix = "chain"
	began := time.Now()
	pub.run(0, events, 0, nil, began.Add(15*time.Second))
	published := time.Since(began)
	accepted := pub.acceptedCopy()
	waitFor(20*time.Second, func() bool { return len(rc.lost(accepted)) == 0 })
	_, ok, bad := rc.snapshot()
	lost := rc.lost(accepted)
	t.Logf("%d events published one after the other through nodes %v in %s; delivered %d in %s, lost %d, out of order %d",
		len(accepted), pub.byNode, published.Round(time.Millisecond), len(ok), time.Since(began).Round(time.Millisecond), len(lost), len(bad))
	if len(accepted) != events || len(pub.problems) > 0 {
		t.Errorf("accepted %d of %d events: %v", len(accepted), events, pub.problems)
	}
	if len(lost) > 0 {
		t.Errorf("%d accepted events never delivered, e.g. %v", len(lost), lost[:min(10, len(lost))])
		dumpOrderedState(t, db, wh.ID, nodes)
	}
	for _, b := range bad[:min(10, len(bad))] {
		t.Error(b)
	}
}

// dumpOrderedState logs, for a stalled ordered webhook, its oldest pending
// deliveries and those holding a lease, what the database is doing, and each
// node's queue, so that a stall in CI can be told apart from a slow machine.
func dumpOrderedState(t *testing.T, db, webhookID string, nodes []*server) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		t.Logf("dump: %v", err)
		return
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `(SELECT id, seq, status, coalesce(lease_token, ''), coalesce(next_attempt_at::text, ''), attempts
			FROM deliveries WHERE webhook_id = $1 AND status = 'pending' ORDER BY seq LIMIT 3)
		UNION ALL (SELECT id, seq, status, coalesce(lease_token, ''), coalesce(next_attempt_at::text, ''), attempts
			FROM deliveries WHERE webhook_id = $1 AND lease_token IS NOT NULL ORDER BY seq LIMIT 5)`, webhookID)
	if err == nil {
		for rows.Next() {
			var id, status, token, next string
			var seq int64
			var attempts int
			if rows.Scan(&id, &seq, &status, &token, &next, &attempts) == nil {
				t.Logf("delivery %s seq %d %s lease %q next %s attempts %d", id, seq, status, token, next, attempts)
			}
		}
		rows.Close()
	}
	rows, err = conn.Query(ctx, `SELECT coalesce(state, ''), coalesce(wait_event_type || '/' || wait_event, ''),
		coalesce(extract(epoch from now() - xact_start), 0)::float8, left(query, 120)
		FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`)
	if err == nil {
		for rows.Next() {
			var state, wait, q string
			var age float64
			if rows.Scan(&state, &wait, &age, &q) == nil {
				t.Logf("backend %s %s xact %.1fs: %s", state, wait, age, strings.Join(strings.Fields(q), " "))
			}
		}
		rows.Close()
	}
	for i, n := range nodes {
		resp, err := http.Get(n.url("/metrics"))
		if err != nil {
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "hookline_delivery_queue_in_use") || strings.HasPrefix(line, "hookline_deliveries_deferred_total") {
				t.Logf("node %d: %s", i, line)
			}
		}
	}
}

// testRateLimitAcrossNodes: a tenant key limited to N requests gets exactly N
// accepted through three nodes together, then 429 with Retry-After on each.
func testRateLimitAcrossNodes(t *testing.T, nodes []*server) {
	const limit, requests = 25, 90
	var key struct {
		Key string `json:"key"`
	}
	nodes[0].mustDo(http.MethodPost, "/v1/api-keys", map[string]any{
		"name": "limited", "scopes": []string{"events:write"}, "tenant": "limited", "rate_limit": limit,
	}, &key, http.StatusCreated)

	client := &http.Client{Timeout: 5 * time.Second}
	body := []byte(`{"type":"rate.test","data":{}}`)
	var mu sync.Mutex
	statuses := map[int]int{}
	perNode := make([]int, len(nodes))
	var noRetryAfter, errs []string
	var wg sync.WaitGroup
	next := make(chan int, requests)
	for i := range requests {
		next <- i
	}
	close(next)
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				node := nodes[i%len(nodes)]
				req, _ := http.NewRequest(http.MethodPost, node.url("/v1/events"), strings.NewReader(string(body)))
				req.Header.Set("Authorization", "Bearer "+key.Key)
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				mu.Lock()
				if err != nil {
					errs = append(errs, err.Error())
				} else {
					resp.Body.Close()
					statuses[resp.StatusCode]++
					if resp.StatusCode == http.StatusAccepted {
						perNode[i%len(nodes)]++
					}
					if resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") == "" {
						noRetryAfter = append(noRetryAfter, node.addr)
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	t.Logf("rate limit %d/hour, %d requests across %d nodes: statuses %v, accepted per node %v", limit, requests, len(nodes), statuses, perNode)
	if len(errs) > 0 {
		t.Errorf("%d requests failed, e.g. %s", len(errs), errs[0])
	}
	if statuses[http.StatusAccepted] != limit || statuses[http.StatusTooManyRequests] != requests-limit {
		t.Errorf("got statuses %v, want %d × 202 and %d × 429", statuses, limit, requests-limit)
	}
	if len(noRetryAfter) > 0 {
		t.Errorf("%d answers 429 without Retry-After", len(noRetryAfter))
	}
}

// outageCall is one request made while the database was down.
type outageCall struct {
	path        string
	status      int
	contentType string
	retryAfter  string
	took        time.Duration
	err         error
}

// TestDatabaseOutage stops the database under two nodes for three seconds and
// starts it again: meanwhile publishing answers 503 problem+json with
// Retry-After, promptly, and /readyz 503; afterwards the nodes recover by
// themselves — pool, listener and delivery — and every event accepted before or
// after is delivered.
func TestDatabaseOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("stops and starts a PostgreSQL cluster; skipped with -short")
	}
	pg := pgtest.NewCluster(t)
	db, err := pg.CreateDatabase("hookline")
	if err != nil {
		t.Fatal(err)
	}
	secretKey := newSecretKey(t)
	nodes := []*server{
		newNode(t, "n0", db, secretKey, mnEnv...),
		newNode(t, "n1", db, secretKey, mnEnv...),
	}
	startNodes(nodes...)

	secret := webhook.NewSecret()
	verifier, err := webhook.NewStandard(secret)
	if err != nil {
		t.Fatal(err)
	}
	// Every fifth event is refused once, so that retries are waiting in the
	// database when it goes.
	rc := newTimedReceiver(verifier, false, func() time.Duration {
		return time.Duration(rand.IntN(6)) * time.Millisecond
	}, nil)
	rc.refuse = func(n int) bool { return n%5 == 0 }
	recv := httptest.NewServer(rc)
	t.Cleanup(recv.Close)
	nodes[0].mustDo(http.MethodPost, "/v1/webhooks", map[string]any{
		"url": recv.URL + "/hooks", "events": []string{"order.*"}, "tenant": "acme", "secret": secret,
	}, &webhookCreated{}, http.StatusCreated)

	listeners := func() (int, error) {
		return countConnections(pg.URL("postgres"), "hookline", "hookline listen")
	}
	if !waitFor(10*time.Second, func() bool { n, err := listeners(); return err == nil && n == len(nodes) }) {
		n, err := listeners()
		t.Fatalf("before the outage: %d listening connections (%v), want %d", n, err, len(nodes))
	}

	// Before: events accepted by both nodes, some still being delivered or
	// waiting for a retry when the database goes.
	publish := func(prefix string, workers, perWorker int) map[string]string {
		pub := newClusterPublisher(nodes, func(int) string { return "order.created" })
		pub.prefix = prefix
		var wg sync.WaitGroup
		deadline := time.Now().Add(15 * time.Second)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				pub.run(w, workers*perWorker, 0, nil, deadline)
			}()
		}
		wg.Wait()
		for _, p := range pub.problems {
			t.Errorf("publishing %s: %s", prefix, p)
		}
		if pub.giveUps > 0 || pub.retries.Load() > 0 {
			t.Errorf("publishing %s with the database up: %d retries, %d keys abandoned", prefix, pub.retries.Load(), pub.giveUps)
		}
		return pub.acceptedCopy()
	}
	accepted := publish("before", 4, 50)
	acceptedBefore := len(accepted)
	deliveredBefore := acceptedBefore - len(rc.lost(accepted))

	stopBegin := time.Now()
	if err := pg.Stop(); err != nil {
		t.Fatalf("stop the cluster: %v", err)
	}
	down := time.Now()

	// While it is down: publishing and readiness answer 503, quickly.
	client := &http.Client{Timeout: 10 * time.Second}
	var calls []outageCall
	for i := 0; time.Since(down) < 3*time.Second; i++ {
		for k, n := range nodes {
			body := fmt.Sprintf(`{"type":"order.created","tenant":"acme","id":"outage-%d-%d","data":{"w":99,"n":%d}}`, k, i, i)
			for _, path := range []string{"/v1/events", "/readyz"} {
				var req *http.Request
				if path == "/readyz" {
					req, _ = http.NewRequest(http.MethodGet, n.url(path), nil)
				} else {
					req, _ = http.NewRequest(http.MethodPost, n.url(path), strings.NewReader(body))
					req.Header.Set("Authorization", "Bearer "+adminKey)
					req.Header.Set("Content-Type", "application/json")
				}
				began := time.Now()
				resp, err := client.Do(req)
				c := outageCall{path: path, took: time.Since(began), err: err}
				if err == nil {
					var ev eventAccepted
					json.NewDecoder(resp.Body).Decode(&ev)
					resp.Body.Close()
					c.status, c.contentType, c.retryAfter = resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Retry-After")
					if resp.StatusCode == http.StatusAccepted {
						accepted[fmt.Sprintf("outage-%d-%d", k, i)] = ev.ID // cannot be, but must then arrive
					}
				}
				calls = append(calls, c)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	var slowest time.Duration
	publishes := 0
	for _, c := range calls {
		slowest = max(slowest, c.took)
		switch {
		case c.err != nil:
			t.Errorf("during the outage: %s: %v", c.path, c.err)
		case c.path == "/readyz" && c.status != http.StatusServiceUnavailable:
			t.Errorf("during the outage: /readyz answered %d, want 503", c.status)
		case c.path == "/v1/events" && (c.status != http.StatusServiceUnavailable ||
			c.contentType != "application/problem+json" || c.retryAfter == ""):
			t.Errorf("during the outage: publishing answered %d, %q, Retry-After %q; want 503 application/problem+json with Retry-After",
				c.status, c.contentType, c.retryAfter)
		}
		if c.path == "/v1/events" {
			publishes++
		}
		if c.took > 3*time.Second {
			t.Errorf("during the outage: %s took %s to answer", c.path, c.took.Round(time.Millisecond))
		}
	}

	// Back: the nodes must recover without being restarted.
	startBegin := time.Now()
	if err := pg.Start(); err != nil {
		t.Fatalf("start the cluster again: %v", err)
	}
	up := time.Now()
	readyAfter := make([]time.Duration, len(nodes))
	for k, n := range nodes {
		if !waitFor(20*time.Second, func() bool {
			code, _ := n.do(http.MethodGet, "/readyz", nil, nil)
			return code == http.StatusOK
		}) {
			t.Fatalf("node %d: /readyz not 200 within 20s of the database's return", k)
		}
		readyAfter[k] = time.Since(up)
	}
	// The first publish through each node, retried with its key until accepted.
	publishAfter := make([]time.Duration, len(nodes))
	refusedAfter := 0
	for k, n := range nodes {
		key := fmt.Sprintf("recovery-%d", k)
		body := []byte(fmt.Sprintf(`{"type":"order.created","tenant":"acme","id":%q,"data":{"w":98,"n":%d}}`, key, k+1))
		if !waitFor(20*time.Second, func() bool {
			status, ev, err := postEvent(client, n, adminKey, body)
			if err == nil && status == http.StatusAccepted {
				accepted[key] = ev.ID
				return true
			}
			refusedAfter++
			return false
		}) {
			t.Fatalf("node %d: publishing still refused 20s after the database's return", k)
		}
		publishAfter[k] = time.Since(up)
	}
	if !waitFor(15*time.Second, func() bool { n, err := listeners(); return err == nil && n == len(nodes) }) {
		n, err := listeners()
		t.Errorf("after the outage: %d listening connections (%v), want %d", n, err, len(nodes))
	}
	listenAfter := time.Since(up)

	// The listeners must not only be connected but heard: a webhook created
	// through one node reaches the other's cache at once, not after its 5 s TTL.
	heardAfter := make([]time.Duration, len(nodes))
	for k := range nodes {
		from, to := nodes[k], nodes[(k+1)%len(nodes)]
		// Fill the other node's cache of the tenant's webhooks first.
		status, fill, err := postEvent(client, to, adminKey, []byte(`{"type":"order.created","tenant":"acme","data":{"w":97,"n":1}}`))
		if err != nil || status != http.StatusAccepted {
			t.Fatalf("publish through node %d: %d %v", (k+1)%len(nodes), status, err)
		}
		accepted[fmt.Sprint("fill-", k)] = fill.ID
		probe := fmt.Sprintf("probe%d.check", k)
		created := time.Now()
		from.mustDo(http.MethodPost, "/v1/webhooks", map[string]any{
			"url": recv.URL + "/probe", "events": []string{probe}, "tenant": "acme", "secret": secret,
		}, &webhookCreated{}, http.StatusCreated)
		heard := waitFor(3*time.Second, func() bool {
			status, ev, err := postEvent(client, to, adminKey, []byte(`{"type":"`+probe+`","tenant":"acme","data":{"w":96,"n":1}}`))
			if err == nil && status == http.StatusAccepted && len(ev.Deliveries) == 1 {
				accepted[fmt.Sprint("probe-", k)] = ev.ID
				return true
			}
			return false
		})
		heardAfter[k] = time.Since(created)
		if !heard {
			t.Errorf("node %d did not hear of the webhook created through node %d within 3s: its listener did not come back",
				(k+1)%len(nodes), k)
		}
	}

	// After: more events, through both nodes.
	for key, id := range publish("after", 4, 25) {
		accepted[key] = id
	}
	drainFrom := time.Now()
	waitFor(20*time.Second, func() bool { return len(rc.lost(accepted)) == 0 })
	drained := time.Since(drainFrom)
	var pending, failed struct {
		Items []json.RawMessage `json:"items"`
	}
	waitFor(10*time.Second, func() bool {
		_, err := nodes[1].do(http.MethodGet, "/v1/deliveries?status=pending&limit=1000", nil, &pending)
		return err == nil && len(pending.Items) == 0
	})
	nodes[1].mustDo(http.MethodGet, "/v1/deliveries?status=failed&limit=1000", nil, &failed, http.StatusOK)
	for k, n := range nodes {
		if n.proc.exited() {
			t.Errorf("node %d exited: %v", k, n.proc.waitErr)
		}
	}

	ms := func(d time.Duration) string { return d.Round(time.Millisecond).String() }
	_, ok, _ := rc.snapshot()
	duplicates := 0
	for _, n := range ok {
		duplicates += n - 1
	}
	t.Logf("before: %d accepted, %d delivered when the database stopped (stop took %s); down for %s",
		acceptedBefore, deliveredBefore, ms(down.Sub(stopBegin)), ms(startBegin.Sub(down)))
	t.Logf("during: %d publishes and %d readiness checks, all 503; slowest answer %s",
		publishes, len(calls)-publishes, ms(slowest))
	t.Logf("after the restart (took %s): /readyz 200 after %v; first publish accepted after %v (%d refused before); listeners back after %s; a webhook change heard by the other node after %v",
		ms(up.Sub(startBegin)), readyAfter, publishAfter, refusedAfter, ms(listenAfter), heardAfter)
	t.Logf("in all: accepted %d, delivered %d, lost %d, duplicates %d, receiver 503s %d; all delivered %s after the last publish",
		len(accepted), len(ok), len(rc.lost(accepted)), duplicates, rc.refused, ms(drained))
	if lost := rc.lost(accepted); len(lost) > 0 {
		t.Errorf("%d accepted events never delivered, e.g. %v", len(lost), lost[:min(10, len(lost))])
	}
	if len(pending.Items) > 0 {
		t.Errorf("%d deliveries still pending after every event was received, e.g. %s", len(pending.Items), pending.Items[0])
	}
	if len(failed.Items) > 0 {
		t.Errorf("%d deliveries failed, e.g. %s", len(failed.Items), failed.Items[0])
	}
	_, _, bad := rc.snapshot()
	for _, b := range bad[:min(10, len(bad))] {
		t.Errorf("receiver: %s", b)
	}
}

// countConnections counts the connections to database named application on the
// server at url.
func countConnections(url, database, application string) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.Background())
	var n int
	err = conn.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND application_name = $2",
		database, application).Scan(&n)
	return n, err
}

// TestMultiNodeQueueOutlivesLease: a node that claimed more than its workers can
// attempt within the lease must not send what waited too long in its queue —
// another node has taken it by then, and the two would send it at once. Node 0
// here has two workers, a queue of 32 and a receiver that takes 300 ms: its last
// jobs wait about 5 s, well past the 2 s lease.
func TestMultiNodeQueueOutlivesLease(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two nodes on PostgreSQL for ~8 s; skipped with -short")
	}
	db := pgtest.MigratedURL(t)
	secretKey := newSecretKey(t)
	env := append(append([]string{}, mnEnv...), "HOOKLINE_WORKERS=2")
	nodes := []*server{newNode(t, "n0", db, secretKey, env...), newNode(t, "n1", db, secretKey, env...)}
	startNodes(nodes...)
	finder := newNodeFinder()
	finder.add(nodes[0], "n0")
	finder.add(nodes[1], "n1")

	secret := webhook.NewSecret()
	verifier, err := webhook.NewStandard(secret)
	if err != nil {
		t.Fatal(err)
	}
	rc := newTimedReceiver(verifier, false, func() time.Duration { return 300 * time.Millisecond }, finder)
	nodes[0].mustDo(http.MethodPost, "/v1/webhooks", map[string]any{
		"url": rc.serve(t) + "/hooks", "events": []string{"order.*"}, "tenant": "acme", "secret": secret,
	}, &webhookCreated{}, http.StatusCreated)

	// Through node 0 only: its fast path takes every delivery it has room for.
	pub := newClusterPublisher(nodes[:1], func(int) string { return "order.created" })
	pub.run(0, 40, 0, nil, time.Now().Add(10*time.Second))
	accepted := pub.acceptedCopy()
	if len(accepted) != 40 {
		t.Fatalf("accepted %d events, want 40 (problems: %v)", len(accepted), pub.problems)
	}
	waitFor(30*time.Second, func() bool { return len(rc.lost(accepted)) == 0 })

	reqs, ok, bad := rc.snapshot()
	perNode := map[string]int{}
	duplicates := 0
	for _, r := range reqs {
		perNode[r.node]++
	}
	for _, n := range ok {
		duplicates += n - 1
	}
	ov := overlaps(reqs, killWindow{})
	t.Logf("accepted %d, delivered %d, requests %d by node %v, duplicates %d, overlapping %d",
		len(accepted), len(ok), len(reqs), perNode, duplicates, len(ov))
	if lost := rc.lost(accepted); len(lost) > 0 {
		t.Errorf("%d accepted events never delivered, e.g. %v", len(lost), lost[:min(10, len(lost))])
	}
	for _, o := range ov[:min(5, len(ov))] {
		t.Errorf("event %s was sent twice at once: by %q from %s to %s and by %q from %s", o.a.event,
			o.a.node, o.a.start.Format("15:04:05.000"), o.a.end.Format("15:04:05.000"), o.b.node, o.b.start.Format("15:04:05.000"))
	}
	if duplicates > 0 {
		t.Errorf("%d events sent more than once, with no node crashed and every answer 200", duplicates)
	}
	for _, b := range bad {
		t.Errorf("receiver: %s", b)
	}
}
