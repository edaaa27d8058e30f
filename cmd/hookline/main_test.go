package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/testkit"
)

// deliveryWithAttempts is the part of GET /v1/deliveries/{id} the tests use.
type deliveryWithAttempts struct {
	Status      string `json:"status"`
	Attempts    int    `json:"attempt_count"`
	AttemptList []struct {
		HTTPStatus int    `json:"http_status"`
		Error      string `json:"error"`
	} `json:"attempts"`
}

// slowReceiver answers 200, taking delay over its first request; it counts the
// requests it got and the ones it finished answering.
type slowReceiver struct {
	delay    time.Duration
	started  chan struct{} // closed when the first request arrives
	requests atomic.Int32
	answered atomic.Int32
}

func (sr *slowReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	if sr.requests.Add(1) == 1 {
		close(sr.started)
		select {
		case <-time.After(sr.delay):
		case <-r.Context().Done():
			return // the sender gave up: not answered
		}
	}
	w.WriteHeader(http.StatusOK)
	sr.answered.Add(1)
}

// TestGracefulShutdown sends SIGTERM while an attempt is in flight: the process
// must exit 0, and the attempt either finishes and counts (it fits in the
// shutdown timeout) or is aborted and handed back for the next start (it does not).
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name            string
		receiverDelay   time.Duration
		shutdownTimeout string
		maxExit         time.Duration // SIGTERM to exit
		wantRequests    int32         // the receiver's requests, after the restart
		wantLog         string
	}{
		{"attempt finishes", 1500 * time.Millisecond, "5s", 5 * time.Second, 1, "stopped"},
		{"attempt aborted and released", 5 * time.Second, "500ms", 3 * time.Second, 2, "released claimed deliveries"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sr := &slowReceiver{delay: tc.receiverDelay, started: make(chan struct{})}
			recv := httptest.NewServer(sr)
			t.Cleanup(recv.Close)
			s := newServer(t, "HOOKLINE_SHUTDOWN_TIMEOUT="+tc.shutdownTimeout, "HOOKLINE_TIMEOUT=8s", "HOOKLINE_LEASE=10s")
			s.start()

			s.mustDo(http.MethodPost, "/v1/webhooks", map[string]any{"url": recv.URL, "tenant": "acme"}, &webhookCreated{}, http.StatusCreated)
			var ev eventAccepted
			s.mustDo(http.MethodPost, "/v1/events", map[string]any{"type": "order.created", "tenant": "acme", "data": map[string]any{"n": 1}}, &ev, http.StatusAccepted)
			if len(ev.Deliveries) != 1 {
				t.Fatalf("got %d deliveries, want 1", len(ev.Deliveries))
			}
			select {
			case <-sr.started:
			case <-time.After(5 * time.Second):
				t.Fatal("the receiver got no request within 5s")
			}

			code, took := s.terminate(tc.maxExit + 5*time.Second)
			t.Logf("exit %d after %s", code, took.Round(time.Millisecond))
			if code != 0 {
				t.Errorf("exit code: got %d, want 0", code)
			}
			if took > tc.maxExit {
				t.Errorf("exit took %s, want at most %s", took, tc.maxExit)
			}
			if tc.wantRequests == 1 && sr.answered.Load() != 1 {
				t.Errorf("the attempt in flight was not answered before the exit: got %d answers, want 1", sr.answered.Load())
			}
			if !strings.Contains(s.logs.String(), tc.wantLog) {
				t.Errorf("the server's output lacks %q", tc.wantLog)
			}

			s.start()
			var d deliveryWithAttempts
			ok := waitFor(5*time.Second, func() bool {
				_, err := s.do(http.MethodGet, "/v1/deliveries/"+ev.Deliveries[0].ID, nil, &d)
				return err == nil && d.Status == "succeeded"
			})
			if !ok {
				t.Fatalf("delivery status after the restart: got %q, want succeeded", d.Status)
			}
			// An aborted attempt is not the receiver's fault and is not counted.
			if d.Attempts != 1 || len(d.AttemptList) != 1 || d.AttemptList[0].HTTPStatus != 200 {
				t.Errorf("got %d attempts %+v, want one with http_status 200", d.Attempts, d.AttemptList)
			}
			time.Sleep(1500 * time.Millisecond) // more than the claim loop's poll interval
			if got := sr.requests.Load(); got != tc.wantRequests {
				t.Errorf("receiver requests: got %d, want %d", got, tc.wantRequests)
			}
		})
	}
}

// TestReadmeWalkThrough replays README.md's walk-through, as written there, on
// the built binary with `hookline listen` as the receiver. Only the two ports
// change (the test takes free ones instead of 8080 and 9000).
func TestReadmeWalkThrough(t *testing.T) {
	t.Parallel()
	sec, find := docSection(t, "../../README.md", "## Walk-through")
	readmeAdminKey := find(`HOOKLINE_ADMIN_KEY=(\S+) HOOKLINE_ALLOW_PRIVATE_TARGETS=true`)[1]
	listen := find(`hookline listen --addr (\S+) --secret (\S+)`)
	readmeListenAddr, secret := listen[1], listen[2]
	authName, authValue, _ := strings.Cut(find(`KEY="([^"]+)"`)[1], ": ")
	typeName, typeValue, _ := strings.Cut(find(`JSON="([^"]+)"`)[1], ": ")
	posts := regexp.MustCompile(`(?s)curl -s -X POST http://127\.0\.0\.1:8080(\S+) -H "\$KEY" -H "\$JSON" -d '([^']*)'`).FindAllStringSubmatch(sec, -1)
	if len(posts) != 2 || posts[0][1] != "/v1/webhooks" || posts[1][1] != "/v1/events" {
		t.Fatalf("README walk-through: want a POST to /v1/webhooks then to /v1/events, got %q", posts)
	}
	idGrep := regexp.MustCompile(find(`grep -o '([^']+)'`)[1])
	logsPath := find(`curl -s http://127\.0\.0\.1:8080(\S+/logs) -H "\$KEY"`)[1]

	s := newServer(t, "HOOKLINE_ADMIN_KEY="+readmeAdminKey)
	s.start()
	listenAddr := testkit.FreeAddr(t)
	listenOut := &testkit.SyncBuffer{}
	start(t, hooklineBinary(t), []string{"listen", "--addr", listenAddr, "--secret", secret}, nil, listenOut)
	if !waitFor(10*time.Second, func() bool {
		c, err := net.DialTimeout("tcp", listenAddr, time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	}) {
		t.Fatalf("hookline listen did not start: %s", listenOut.String())
	}

	// curl -s -X … -H "$KEY" -H "$JSON" -d '…' sends the body as-is, with the
	// Content-Type of $JSON (without it, curl -d would label it form-encoded).
	curl := func(method, path, body string) (int, string) {
		t.Helper()
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, err := http.NewRequest(method, s.url(path), rd)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set(authName, authValue)
		if body != "" {
			req.Header.Set(typeName, typeValue)
		}
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	// 1. Subscribe.
	whBody := strings.ReplaceAll(posts[0][2], readmeListenAddr, listenAddr)
	code, answer := curl(http.MethodPost, posts[0][1], whBody)
	if code != http.StatusCreated {
		t.Fatalf("step 1: got %d %s, want 201", code, answer)
	}
	m := idGrep.FindString(answer)
	if m == "" {
		t.Fatalf("step 1: the README's grep finds no webhook id in %s", answer)
	}
	wh := strings.Split(m, `"`)[3] // cut -d'"' -f4
	if !strings.Contains(answer, `"secret":"`+secret+`"`) {
		t.Errorf("step 1: the answer does not show the secret: %s", answer)
	}

	// 2. Publish, twice: the second is an idempotent replay.
	code, answer = curl(http.MethodPost, posts[1][1], posts[1][2])
	if code != http.StatusAccepted {
		t.Fatalf("step 2: got %d %s, want 202", code, answer)
	}
	var ev eventAccepted
	if err := json.Unmarshal([]byte(answer), &ev); err != nil || len(ev.Deliveries) != 1 {
		t.Fatalf("step 2: want an event with one delivery, got %s", answer)
	}
	code, answer = curl(http.MethodPost, posts[1][1], posts[1][2])
	var again eventAccepted
	if err := json.Unmarshal([]byte(answer), &again); err != nil || code != http.StatusAccepted || again.ID != ev.ID || !again.Duplicate {
		t.Errorf("step 2 again: got %d %s, want 202 with id %s and duplicate true", code, answer, ev.ID)
	}

	// The receiver prints the request with "signature valid" and the data as published.
	var published struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal([]byte(posts[1][2]), &published); err != nil {
		t.Fatalf("README's event body is not JSON: %v", err)
	}
	var data bytes.Buffer
	json.Compact(&data, published.Data)
	if !waitFor(5*time.Second, func() bool { return strings.Contains(listenOut.String(), "signature valid") }) {
		t.Fatalf("hookline listen did not print \"signature valid\":\n%s", listenOut.String())
	}
	out := listenOut.String()
	for _, want := range []string{"POST /hooks → 200 (signature valid)", `"event":"response.created"`, `"data":` + data.String()} {
		if !strings.Contains(out, want) {
			t.Errorf("hookline listen's output lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, "INVALID") {
		t.Errorf("hookline listen saw a bad signature:\n%s", out)
	}

	// 3. The log shows the attempt with "http_status":200.
	path := strings.ReplaceAll(logsPath, "$WH", wh)
	var logs struct {
		Items []struct {
			Timestamp      string `json:"timestamp"`
			Event          string `json:"event"`
			HTTPStatus     int    `json:"http_status"`
			ResponseTimeMS *int64 `json:"response_time_ms"`
			RetryCount     *int   `json:"retry_count"`
			Error          string `json:"error"`
		} `json:"items"`
	}
	ok := waitFor(5*time.Second, func() bool {
		code, answer = curl(http.MethodGet, path, "")
		return code == http.StatusOK && json.Unmarshal([]byte(answer), &logs) == nil && len(logs.Items) > 0
	})
	if !ok {
		t.Fatalf("step 3: got %d %s, want 200 with one attempt", code, answer)
	}
	if len(logs.Items) != 1 {
		t.Errorf("step 3: got %d attempts, want 1: %s", len(logs.Items), answer)
	}
	it := logs.Items[0]
	if it.HTTPStatus != 200 || it.Event != "response.created" || it.Timestamp == "" || it.ResponseTimeMS == nil ||
		it.RetryCount == nil || *it.RetryCount != 0 || it.Error != "" {
		t.Errorf("step 3: got log %s, want one 200 attempt of response.created with timestamp, response_time_ms, retry_count 0", answer)
	}
	if !strings.Contains(answer, `"http_status":200`) {
		t.Errorf("step 3: the log does not read \"http_status\":200: %s", answer)
	}
}
