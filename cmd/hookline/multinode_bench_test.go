package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/store/postgres/pgtest"
	"github.com/hookline/hookline/webhook"
)

// BenchmarkNodes measures Hookline's end-to-end throughput with one, two and
// three `hookline serve` nodes on one PostgreSQL database: b.N events published
// through the HTTP API (single-event POSTs from a few concurrent publishers,
// spread over the nodes), each delivered to one webhook whose receiver answers
// 200 at once. It reports delivered events per second and the publish → receipt
// latency (p50, p99). Every configuration gets a new database and new nodes.
//
// The figures in docs/scaling.md come from
//
//	go test -run '^$' -bench BenchmarkNodes -benchtime 20000x ./cmd/hookline
//
// Plain `go test` does not run it.
func BenchmarkNodes(b *testing.B) {
	for _, n := range []int{1, 2, 3} {
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) { benchNodes(b, n) })
	}
}

// benchPublishers is how many clients publish at once.
const benchPublishers = 8

func benchNodes(b *testing.B, n int) {
	db := pgtest.MigratedURL(b)
	secretKey := newSecretKey(b)
	nodes := make([]*server, n)
	for i := range nodes {
		nodes[i] = newNode(b, fmt.Sprint("n", i), db, secretKey, "HOOKLINE_LOG_LEVEL=warn")
	}
	startNodes(nodes...)

	total := b.N
	var (
		mu        sync.Mutex
		seen      = make(map[string]bool, total)
		latencies = make([]time.Duration, 0, total)
		receipts  = make([]time.Time, 0, total) // of each event's first delivery, in order
		repeats   int
	)
	done := make(chan struct{})
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := time.Now()
		var msg struct {
			Data struct {
				T int64 `json:"t"`
			} `json:"data"`
		}
		body, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(body, &msg)
		id := r.Header.Get(webhook.HeaderID)
		w.WriteHeader(http.StatusOK)
		mu.Lock()
		defer mu.Unlock()
		if seen[id] {
			repeats++
			return
		}
		seen[id] = true
		latencies = append(latencies, got.Sub(time.Unix(0, msg.Data.T)))
		receipts = append(receipts, got)
		if len(latencies) == total {
			close(done)
		}
	}))
	defer recv.Close()
	nodes[0].mustDo(http.MethodPost, "/v1/webhooks", map[string]any{
		"url": recv.URL + "/hooks", "events": []string{"bench.*"}, "tenant": "acme",
	}, &webhookCreated{}, http.StatusCreated)

	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: benchPublishers}}
	var next, retries atomic.Int64
	var wg sync.WaitGroup
	deadline := time.Now().Add(5 * time.Minute)
	b.ResetTimer()
	begin := time.Now()
	for range benchPublishers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1))
				if i > total {
					return
				}
				key := fmt.Sprint("bench-", i)
				for time.Now().Before(deadline) {
					body := []byte(fmt.Sprintf(`{"type":"bench.event","tenant":"acme","id":%q,"data":{"t":%d}}`, key, time.Now().UnixNano()))
					status, _, err := postEvent(client, nodes[i%n], adminKey, body)
					if err == nil && status == http.StatusAccepted {
						break
					}
					retries.Add(1)
					time.Sleep(10 * time.Millisecond)
				}
			}
		}()
	}
	wg.Wait()
	published := time.Since(begin)
	select {
	case <-done:
	case <-time.After(time.Until(deadline)):
		mu.Lock()
		got := len(latencies)
		mu.Unlock()
		b.Fatalf("%d of %d events delivered within 5 minutes", got, total)
	}
	elapsed := time.Since(begin)
	b.StopTimer()

	mu.Lock()
	defer mu.Unlock()
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	pct := func(p float64) time.Duration { return latencies[min(len(latencies)-1, int(p*float64(len(latencies))))] }
	b.ReportMetric(float64(total)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(total)/published.Seconds(), "published/s")
	b.ReportMetric(float64(pct(0.50).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(pct(0.99).Microseconds())/1000, "p99-ms")
	if total >= 1000 {
		// The rate through each fifth of the run, to show whether it holds.
		var fifths []string
		from := begin
		for k := 1; k <= 5; k++ {
			to := receipts[k*total/5-1]
			fifths = append(fifths, fmt.Sprintf("%.0f", float64(total/5)/to.Sub(from).Seconds()))
			from = to
		}
		b.Logf("%d node(s): %d events in %s (published in %s), %.0f events/s (by fifths of the run: %v), latency p50 %s p99 %s max %s, publish retries %d, repeated deliveries %d",
			n, total, elapsed.Round(time.Millisecond), published.Round(time.Millisecond), float64(total)/elapsed.Seconds(), fifths,
			pct(0.50).Round(100*time.Microsecond), pct(0.99).Round(100*time.Microsecond), latencies[len(latencies)-1].Round(time.Millisecond),
			retries.Load(), repeats)
	}
}
