package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookline/hookline/webhook"
)

// Helpers of the tests that run several `hookline serve` processes — nodes — on
// one PostgreSQL database.

// newSecretKey returns a HOOKLINE_SECRET_KEY: every node of one database needs
// the same.
func newSecretKey(t testing.TB) string {
	t.Helper()
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(key)
}

// newNode prepares (without starting) a node of the installation on db; extra is
// added to its environment.
func newNode(t testing.TB, name, db, secretKey string, extra ...string) *server {
	t.Helper()
	s := newServer(t, append([]string{"HOOKLINE_DB=" + db, "HOOKLINE_SECRET_KEY=" + secretKey}, extra...)...)
	fmt.Fprintf(s.logs, "════ node %s on %s ════\n", name, s.addr)
	return s
}

// startNodes launches the nodes together (they race to migrate and bootstrap the
// database, as nodes started by one deployment do) and waits until all are ready.
func startNodes(nodes ...*server) {
	for _, n := range nodes {
		n.launch()
	}
	for _, n := range nodes {
		n.awaitReady()
	}
}

// nodeFinder tells which hookline process a connection to a receiver comes from:
// Linux's /proc/net/tcp gives the socket of the connection's client end, and the
// process holding that socket is the node. Elsewhere, or when a lookup fails, it
// answers "" (the tests then judge by time alone).
type nodeFinder struct {
	mu     sync.Mutex
	pids   map[int]string    // pid of a node's process → its name
	byAddr map[string]string // a connection's remote address → node name
	misses int
}

func newNodeFinder() *nodeFinder {
	return &nodeFinder{pids: map[int]string{}, byAddr: map[string]string{}}
}

// add names the process of a node (again after each restart).
func (f *nodeFinder) add(s *server, name string) {
	f.mu.Lock()
	f.pids[s.proc.cmd.Process.Pid] = name
	f.mu.Unlock()
}

// lookup returns the node a request to the receiver on local came from.
func (f *nodeFinder) lookup(r *http.Request, local net.Addr) string {
	f.mu.Lock()
	name, ok := f.byAddr[r.RemoteAddr]
	pids := make(map[int]string, len(f.pids))
	for pid, n := range f.pids {
		pids[pid] = n
	}
	f.mu.Unlock()
	if ok {
		return name
	}
	name = findProcess(r.RemoteAddr, local, pids)
	f.mu.Lock()
	if name != "" {
		f.byAddr[r.RemoteAddr] = name
	} else {
		f.misses++
	}
	f.mu.Unlock()
	return name
}

// forget drops what it knows of a closed connection, whose address another
// process may reuse.
func (f *nodeFinder) forget(c net.Conn, state http.ConnState) {
	if state == http.StateClosed || state == http.StateHijacked {
		f.mu.Lock()
		delete(f.byAddr, c.RemoteAddr().String())
		f.mu.Unlock()
	}
}

// findProcess looks up which of pids holds the client end of the loopback TCP
// connection from remote to local.
func findProcess(remote string, local net.Addr, pids map[int]string) string {
	_, rport, err := net.SplitHostPort(remote)
	if err != nil {
		return ""
	}
	tcp, ok := local.(*net.TCPAddr)
	if !ok {
		return ""
	}
	clientPort, _ := strconv.Atoi(rport)
	want := fmt.Sprintf(":%04X", clientPort)
	peer := fmt.Sprintf(":%04X", tcp.Port)
	f, err := os.Open("/proc/net/tcp")
	if err != nil {
		return ""
	}
	defer f.Close()
	inode := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 9 && strings.HasSuffix(fields[1], want) && strings.HasSuffix(fields[2], peer) {
			inode = fields[9]
			break
		}
	}
	if inode == "" || inode == "0" {
		return ""
	}
	link := "socket:[" + inode + "]"
	for pid, name := range pids {
		dir := fmt.Sprintf("/proc/%d/fd", pid)
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if target, err := os.Readlink(dir + "/" + e.Name()); err == nil && target == link {
				return name
			}
		}
	}
	return ""
}

// request is one request a timedReceiver answered.
type request struct {
	event      string
	start, end time.Time
	status     int
	node       string // the node that sent it, when the nodeFinder could tell
	worker, n  int    // the publisher and its count, from the event's data
}

// timedReceiver is an endpoint that records every request it gets: the event
// (webhook-id is the event's id), when it began and ended, and where the
// nodeFinder can tell, which node sent it. It checks signatures and, when
// ordered, that each publisher's events arrive in the order they were published
// (first deliveries only: a repeat sent after a crash may come later).
type timedReceiver struct {
	verifier *webhook.Standard
	delay    func() time.Duration // how long to take over each request
	ordered  bool
	finder   *nodeFinder
	local    net.Addr // set once the receiver listens
	// refuse, when set, tells which events get 503 to their first request.
	refuse func(n int) bool

	mu      sync.Mutex
	reqs    []request
	seen    map[string]bool // event id → any request came
	refused int
	ok      map[string]int // event id → requests answered 2xx
	lastN   map[int]int    // publisher → n of its latest event delivered
	bad     []string
}

func newTimedReceiver(verifier *webhook.Standard, ordered bool, delay func() time.Duration, finder *nodeFinder) *timedReceiver {
	return &timedReceiver{verifier: verifier, ordered: ordered, delay: delay, finder: finder,
		ok: map[string]int{}, lastN: map[int]int{}, seen: map[string]bool{}}
}

func (rc *timedReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	node := ""
	if rc.finder != nil {
		node = rc.finder.lookup(r, rc.local)
	}
	var msg struct {
		ID   string `json:"id"`
		Data struct {
			Worker int `json:"w"`
			N      int `json:"n"`
		} `json:"data"`
	}
	jerr := json.Unmarshal(body, &msg)
	verr := rc.verifier.Verify(body, r.Header)
	if rc.delay != nil {
		time.Sleep(rc.delay())
	}
	id := r.Header.Get(webhook.HeaderID)

	rc.mu.Lock()
	defer rc.mu.Unlock()
	status := http.StatusOK
	first := !rc.seen[id]
	rc.seen[id] = true
	switch {
	case jerr != nil:
		rc.bad = append(rc.bad, fmt.Sprintf("body is not JSON: %v: %.200s", jerr, body))
		status = http.StatusBadRequest
	case verr != nil:
		rc.bad = append(rc.bad, fmt.Sprintf("event %s: signature: %v", msg.ID, verr))
	case id != msg.ID:
		rc.bad = append(rc.bad, fmt.Sprintf("webhook-id %q differs from the body's id %q", id, msg.ID))
	case first && rc.refuse != nil && rc.refuse(msg.Data.N):
		status = http.StatusServiceUnavailable
		rc.refused++
	}
	if status == http.StatusOK {
		if rc.ordered && rc.ok[id] == 0 {
			if last, seen := rc.lastN[msg.Data.Worker]; seen && msg.Data.N < last {
				rc.bad = append(rc.bad, fmt.Sprintf("ordered webhook: publisher %d's event %d arrived after its event %d",
					msg.Data.Worker, msg.Data.N, last))
			}
			rc.lastN[msg.Data.Worker] = msg.Data.N
		}
		rc.ok[id]++
	}
	rc.reqs = append(rc.reqs, request{event: id, start: start, end: time.Now(), status: status, node: node,
		worker: msg.Data.Worker, n: msg.Data.N})
	w.WriteHeader(status)
}

// serve starts a loopback server for the receiver, closed when the test ends,
// and returns its URL.
func (rc *timedReceiver) serve(t testing.TB) string {
	srv := httptest.NewUnstartedServer(rc)
	if rc.finder != nil {
		srv.Config.ConnState = rc.finder.forget
	}
	srv.Start()
	t.Cleanup(srv.Close)
	rc.local = srv.Listener.Addr()
	return srv.URL
}

// lost returns the accepted events (key → event id) not answered 2xx yet.
func (rc *timedReceiver) lost(accepted map[string]string) []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var lost []string
	for key, id := range accepted {
		if rc.ok[id] == 0 {
			lost = append(lost, key+"→"+id)
		}
	}
	sort.Strings(lost)
	return lost
}

// snapshot returns a copy of the requests recorded so far.
func (rc *timedReceiver) snapshot() ([]request, map[string]int, []string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	ok := make(map[string]int, len(rc.ok))
	for k, v := range rc.ok {
		ok[k] = v
	}
	return append([]request(nil), rc.reqs...), ok, append([]string(nil), rc.bad...)
}

// killWindow describes the one crash of a run: requests for one event may
// overlap only when the earlier began before the crashed node was gone (and, when
// known, came from it) and the later began once its leases had run out.
type killWindow struct {
	node        string    // the name of the crashed process
	sent, gone  time.Time // SIGKILL sent; the process reaped
	leaseExpiry time.Time // sent + the lease: every lease it held has ended
}

// overlap is two requests for one event in progress at once.
type overlap struct {
	a, b    request
	allowed bool
}

// overlaps finds every pair of requests for one event that were in progress at
// the same time, and tells whether the crash explains it.
func overlaps(reqs []request, kw killWindow) []overlap {
	byEvent := map[string][]request{}
	for _, r := range reqs {
		byEvent[r.event] = append(byEvent[r.event], r)
	}
	var out []overlap
	for _, rs := range byEvent {
		if len(rs) < 2 {
			continue
		}
		sort.Slice(rs, func(i, j int) bool { return rs[i].start.Before(rs[j].start) })
		for i := range rs {
			for j := i + 1; j < len(rs) && rs[j].start.Before(rs[i].end); j++ {
				a, b := rs[i], rs[j]
				allowed := a.start.Before(kw.gone) && !b.start.Before(kw.leaseExpiry) &&
					(a.node == "" || a.node == kw.node)
				out = append(out, overlap{a: a, b: b, allowed: allowed})
			}
		}
	}
	return out
}

// clusterPublisher publishes events with idempotency keys through the nodes that
// are up, in turn, trying the next node when one cannot be reached or answers
// 5xx, and remembers the events answered 202.
type clusterPublisher struct {
	nodes  []*server
	up     []atomic.Bool
	prefix string // of the idempotency keys: k<prefix><worker>-<n>
	client *http.Client
	// typeOf is the event type of a publisher's nth event.
	typeOf func(n int) string

	issued  atomic.Int64
	retries atomic.Int64
	next    atomic.Uint64

	mu         sync.Mutex
	accepted   map[string]string    // idempotency key → event id
	acceptedAt map[string]time.Time // idempotency key → when the 202 came
	acceptedBy map[string]int       // idempotency key → the node that answered 202
	byNode     map[int]int          // node index → events it accepted
	giveUps    int
	problems   []string
}

func newClusterPublisher(nodes []*server, typeOf func(int) string) *clusterPublisher {
	p := &clusterPublisher{nodes: nodes, up: make([]atomic.Bool, len(nodes)), typeOf: typeOf,
		client:   &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}},
		accepted: map[string]string{}, acceptedAt: map[string]time.Time{}, acceptedBy: map[string]int{}, byNode: map[int]int{}}
	for i := range p.up {
		p.up[i].Store(true)
	}
	return p
}

// pick returns the next node that is up, in turn.
func (p *clusterPublisher) pick() int {
	for range 2 * len(p.nodes) {
		i := int(p.next.Add(1) % uint64(len(p.nodes)))
		if p.up[i].Load() {
			return i
		}
	}
	return int(p.next.Load() % uint64(len(p.nodes)))
}

// run publishes from one goroutine until stop is closed, max events were issued
// in all, or deadline passes (a key being retried then is abandoned, unaccepted).
// pause is the wait between two events.
func (p *clusterPublisher) run(worker, max int, pause time.Duration, stop <-chan struct{}, deadline time.Time) {
	for n := 0; ; n++ {
		select {
		case <-stop:
			return
		default:
		}
		if p.issued.Add(1) > int64(max) {
			return
		}
		key := fmt.Sprintf("k%s%d-%d", p.prefix, worker, n)
		body, _ := json.Marshal(map[string]any{
			"type": p.typeOf(n), "tenant": "acme", "id": key,
			"data": map[string]any{"key": key, "w": worker, "n": n},
		})
		for {
			if time.Now().After(deadline) {
				p.mu.Lock()
				p.giveUps++
				p.mu.Unlock()
				return
			}
			node := p.pick()
			status, ev, err := postEvent(p.client, p.nodes[node], adminKey, body)
			if err != nil || status >= 500 {
				p.retries.Add(1)
				time.Sleep(10 * time.Millisecond)
				continue
			}
			p.mu.Lock()
			if status == http.StatusAccepted {
				if prev, ok := p.accepted[key]; ok && prev != ev.ID {
					p.problems = append(p.problems, fmt.Sprintf("key %s answered with events %s and %s", key, prev, ev.ID))
				}
				if _, ok := p.accepted[key]; !ok {
					p.acceptedAt[key], p.acceptedBy[key] = time.Now(), node
				}
				p.accepted[key] = ev.ID
				p.byNode[node]++
			} else {
				p.problems = append(p.problems, fmt.Sprintf("key %s: got status %d from node %d, want 202", key, status, node))
			}
			p.mu.Unlock()
			break
		}
		time.Sleep(pause)
	}
}

// acceptedCopy returns the events accepted so far, key → event id.
func (p *clusterPublisher) acceptedCopy() map[string]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]string, len(p.accepted))
	for k, v := range p.accepted {
		out[k] = v
	}
	return out
}

// postEvent publishes one event through s with key and returns the status and,
// for a 202, the answer.
func postEvent(client *http.Client, s *server, key string, body []byte) (int, eventAccepted, error) {
	var ev eventAccepted
	req, err := http.NewRequest(http.MethodPost, s.url("/v1/events"), bytes.NewReader(body))
	if err != nil {
		return 0, ev, err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, ev, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, ev, err // cut off mid-answer: unknown outcome, so send the key again
	}
	if resp.StatusCode == http.StatusAccepted {
		if err := json.Unmarshal(b, &ev); err != nil || ev.ID == "" {
			return 0, ev, fmt.Errorf("202 with body %q", b)
		}
	}
	return resp.StatusCode, ev, nil
}
