package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline/webhook"
)

// crashReceiver is an endpoint of the crash test. It counts the deliveries it
// answered 2xx per event id and checks every signature. A flaky one answers 503
// to the first request of every seventh event, so that retries are crashed into
// too, and takes up to 15 ms to answer; an ordered one checks that each publisher's
// events arrive in the order they were published.
type crashReceiver struct {
	verifier *webhook.Standard
	flaky    bool
	ordered  bool

	mu        sync.Mutex
	ok        map[string]int             // event id → requests answered 2xx
	seen      map[string]bool            // event id → any request came
	keyEvents map[string]map[string]bool // idempotency key → event ids delivered for it
	refused   int                        // 503s answered on purpose
	bad       []string                   // signature, envelope or order problems
	lastN     map[int]int                // publisher → n of its latest event delivered
}

func newCrashReceiver(verifier *webhook.Standard, flaky, ordered bool) *crashReceiver {
	return &crashReceiver{verifier: verifier, flaky: flaky, ordered: ordered, ok: map[string]int{},
		seen: map[string]bool{}, keyEvents: map[string]map[string]bool{}, lastN: map[int]int{}}
}

func (rc *crashReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	var msg struct {
		ID    string `json:"id"`
		Event string `json:"event"`
		Data  struct {
			Key    string `json:"key"`
			Worker int    `json:"w"`
			N      int    `json:"n"`
		} `json:"data"`
	}
	jerr := json.Unmarshal(body, &msg)
	verr := rc.verifier.Verify(body, r.Header)
	if rc.flaky {
		time.Sleep(time.Duration(rand.IntN(15)) * time.Millisecond) // widen the window a kill can hit
	}

	rc.mu.Lock()
	defer rc.mu.Unlock()
	switch {
	case jerr != nil:
		rc.bad = append(rc.bad, fmt.Sprintf("body is not JSON: %v: %.200s", jerr, body))
	case verr != nil:
		rc.bad = append(rc.bad, fmt.Sprintf("event %s: signature: %v", msg.ID, verr))
	case r.Header.Get(webhook.HeaderID) != msg.ID:
		rc.bad = append(rc.bad, fmt.Sprintf("webhook-id %q differs from the body's id %q", r.Header.Get(webhook.HeaderID), msg.ID))
	}
	if jerr != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	first := !rc.seen[msg.ID]
	rc.seen[msg.ID] = true
	if first && rc.flaky && msg.Data.N%7 == 0 {
		rc.refused++
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	if rc.ordered && rc.ok[msg.ID] == 0 {
		if last, ok := rc.lastN[msg.Data.Worker]; ok && msg.Data.N < last {
			rc.bad = append(rc.bad, fmt.Sprintf("ordered webhook: %s arrived after publisher %d's event %d", msg.Data.Key, msg.Data.Worker, last))
		}
		rc.lastN[msg.Data.Worker] = msg.Data.N
	}
	rc.ok[msg.ID]++
	if rc.keyEvents[msg.Data.Key] == nil {
		rc.keyEvents[msg.Data.Key] = map[string]bool{}
	}
	rc.keyEvents[msg.Data.Key][msg.ID] = true
	w.WriteHeader(http.StatusOK)
}

// lost returns the accepted events (key → event id) the receiver has not
// answered 2xx yet.
func (rc *crashReceiver) lost(accepted map[string]string) []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var lost []string
	for key, id := range accepted {
		if rc.ok[id] == 0 {
			lost = append(lost, key+"→"+id)
		}
	}
	return lost
}

// report logs what one receiver got and fails the test on anything lost, bad or
// stored twice.
func (rc *crashReceiver) report(t *testing.T, name string, accepted map[string]string) {
	t.Helper()
	lost := rc.lost(accepted)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	acceptedIDs := map[string]bool{}
	for _, id := range accepted {
		acceptedIDs[id] = true
	}
	delivered, duplicates, strays := 0, 0, 0
	for id, n := range rc.ok {
		if acceptedIDs[id] {
			delivered++
		} else {
			strays++ // committed, but the 202 never reached the publisher
		}
		duplicates += n - 1
	}
	t.Logf("%s webhook: accepted %d, delivered %d, lost %d, duplicates %d, delivered-but-unacknowledged %d, receiver 503s %d",
		name, len(accepted), delivered, len(lost), duplicates, strays, rc.refused)
	for key, ids := range rc.keyEvents {
		if len(ids) > 1 {
			t.Errorf("%s webhook: idempotency key %s was stored as %d events: %v", name, key, len(ids), ids)
		}
	}
	for i, b := range rc.bad {
		if i == 10 {
			t.Errorf("%s webhook: … and %d more bad requests", name, len(rc.bad)-10)
			break
		}
		t.Errorf("%s webhook: %s", name, b)
	}
	if len(lost) > 0 {
		t.Errorf("%s webhook: %d accepted events never delivered, e.g. %v", name, len(lost), lost[:min(10, len(lost))])
	}
}

// TestCrashLosesNothing is SPEC §3's "at least once, never lost": events are
// published steadily while the server is killed with SIGKILL at random moments
// and restarted on the same database; every event that was answered 202 must
// reach every webhook, the ordered one in order.
func TestCrashLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts the server for ~15 s; skipped with -short")
	}
	t.Parallel()

	secret := webhook.NewSecret()
	verifier, err := webhook.NewStandard(secret)
	if err != nil {
		t.Fatal(err)
	}
	receivers := []struct {
		name string
		rc   *crashReceiver
	}{
		{"flaky", newCrashReceiver(verifier, true, false)},
		{"ordered", newCrashReceiver(verifier, false, true)},
	}

	s := newServer(t,
		"HOOKLINE_RETRY_SCHEDULE=0s,200ms,500ms,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s",
		"HOOKLINE_TIMEOUT=2s",
		"HOOKLINE_LEASE=3s",
		"HOOKLINE_SHUTDOWN_TIMEOUT=3s",
	)
	s.start()
	for _, r := range receivers {
		recv := httptest.NewServer(r.rc)
		t.Cleanup(recv.Close)
		s.mustDo(http.MethodPost, "/v1/webhooks", map[string]any{
			"url": recv.URL + "/hooks", "events": []string{"order.*"}, "tenant": "acme", "secret": secret,
			"ordered": r.rc.ordered,
		}, &webhookCreated{}, http.StatusCreated)
	}

	const (
		workers   = 4
		maxEvents = 4000
		minKills  = 7 // while publishing; one more after
	)
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, seed>>7))
	t.Logf("kill schedule seed %d", seed)

	pub := newClusterPublisher([]*server{s}, func(int) string { return "order.created" })
	stop := make(chan struct{})
	publishDeadline := time.Now().Add(30 * time.Second)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pub.run(w, maxEvents, 0, stop, publishDeadline)
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

	kills := 0
	killUntil := time.Now().Add(20 * time.Second)
	for kills < minKills && time.Now().Before(killUntil) {
		time.Sleep(200*time.Millisecond + time.Duration(rng.IntN(900))*time.Millisecond)
		s.kill()
		kills++
		switch rng.IntN(4) {
		case 0: // stay down a moment
			time.Sleep(time.Duration(rng.IntN(300)) * time.Millisecond)
		case 1: // crash again while starting: opening, migrating, releasing leases
			s.launch()
			time.Sleep(time.Duration(rng.IntN(150)) * time.Millisecond)
			s.kill()
			kills++
		}
		s.start()
	}
	stopPublishing()
	if kills < minKills {
		t.Errorf("only %d kills in the time allowed, want %d", kills, minKills)
	}
	// One more crash after publishing, with retries and leases still in the store.
	time.Sleep(time.Duration(rng.IntN(300)) * time.Millisecond)
	s.kill()
	kills++
	s.start()
	stoppedAt := time.Now()

	pub.mu.Lock()
	accepted := make(map[string]string, len(pub.accepted))
	for k, v := range pub.accepted {
		accepted[k] = v
	}
	problems, giveUps := pub.problems, pub.giveUps
	pub.mu.Unlock()
	for _, p := range problems {
		t.Errorf("publishing: %s", p)
	}

	waitFor(30*time.Second, func() bool {
		for _, r := range receivers {
			if len(r.rc.lost(accepted)) > 0 {
				return false
			}
		}
		return true
	})
	drained := time.Since(stoppedAt)

	// Everything delivered must also be recorded so: nothing left pending or failed.
	var pending, failed struct {
		Items []json.RawMessage `json:"items"`
	}
	waitFor(10*time.Second, func() bool {
		_, err := s.do(http.MethodGet, "/v1/deliveries?status=pending&limit=1000", nil, &pending)
		return err == nil && len(pending.Items) == 0
	})
	s.mustDo(http.MethodGet, "/v1/deliveries?status=failed&limit=1000", nil, &failed, http.StatusOK)

	t.Logf("accepted %d, kills %d, server runs %d, publish retries %d, keys abandoned %d, all received %s after the last restart",
		len(accepted), kills, s.runs, pub.retries.Load(), giveUps, drained.Round(time.Millisecond))
	for _, r := range receivers {
		r.rc.report(t, r.name, accepted)
	}
	if len(pending.Items) > 0 {
		t.Errorf("%d deliveries still pending after every event was received, e.g. %s", len(pending.Items), pending.Items[0])
	}
	if len(failed.Items) > 0 {
		t.Errorf("%d deliveries failed, e.g. %s", len(failed.Items), failed.Items[0])
	}
	if len(accepted) < 100 {
		t.Errorf("only %d events accepted; the test exercised too little", len(accepted))
	}
}
