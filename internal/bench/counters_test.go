package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// metricsAfter is part of the /metrics of a hookline serve (go1.26.8), captured
// after 3,030 events to a webhook whose port refused connections and 20 to one
// that answered 200. Label values hold spaces; gauges use exponents.
const metricsAfter = `# HELP go_gc_duration_seconds A summary of the wall-time pause (stop-the-world) duration in garbage collection cycles.
# TYPE go_gc_duration_seconds summary
go_gc_duration_seconds{quantile="0"} 4.705e-05
go_gc_duration_seconds{quantile="0.25"} 0.000230843
go_gc_duration_seconds{quantile="0.5"} 0.000472021
go_gc_duration_seconds{quantile="0.75"} 0.000671608
go_gc_duration_seconds{quantile="1"} 0.001731704
go_gc_duration_seconds_sum 0.018616659
go_gc_duration_seconds_count 38
# HELP go_gc_gomemlimit_bytes Go runtime memory limit configured by the user, otherwise math.MaxInt64. This value is set by the GOMEMLIMIT environment variable, and the runtime/debug.SetMemoryLimit function. Sourced from /gc/gomemlimit:bytes.
# TYPE go_gc_gomemlimit_bytes gauge
go_gc_gomemlimit_bytes 9.223372036854776e+18
# HELP hookline_attempt_duration_seconds Time from request start to response headers (or error).
# TYPE hookline_attempt_duration_seconds histogram
hookline_attempt_duration_seconds_bucket{le="0.001"} 2079
hookline_attempt_duration_seconds_bucket{le="0.0025"} 2111
hookline_attempt_duration_seconds_bucket{le="0.005"} 2116
hookline_attempt_duration_seconds_bucket{le="0.01"} 2116
hookline_attempt_duration_seconds_bucket{le="0.025"} 2116
hookline_attempt_duration_seconds_bucket{le="0.05"} 2116
hookline_attempt_duration_seconds_bucket{le="0.1"} 2116
hookline_attempt_duration_seconds_bucket{le="0.25"} 2116
hookline_attempt_duration_seconds_bucket{le="0.5"} 2116
hookline_attempt_duration_seconds_bucket{le="1"} 2116
hookline_attempt_duration_seconds_bucket{le="2.5"} 2116
hookline_attempt_duration_seconds_bucket{le="5"} 2116
hookline_attempt_duration_seconds_bucket{le="10"} 2116
hookline_attempt_duration_seconds_bucket{le="30"} 2116
hookline_attempt_duration_seconds_bucket{le="+Inf"} 2116
hookline_attempt_duration_seconds_sum 0.7898551130000003
hookline_attempt_duration_seconds_count 2116
# HELP hookline_attempts_total Delivery attempts by outcome: success, retry, failed, or stale (another claim had taken the delivery; not recorded).
# TYPE hookline_attempts_total counter
hookline_attempts_total{outcome="retry"} 2095
hookline_attempts_total{outcome="success"} 20
# HELP hookline_deliveries_deferred_total Deliveries put back for later because their webhook was at its concurrency limit or paused by Retry-After.
# TYPE hookline_deliveries_deferred_total counter
hookline_deliveries_deferred_total 2782
# HELP hookline_deliveries_ended_total Deliveries that reached a final status.
# TYPE hookline_deliveries_ended_total counter
hookline_deliveries_ended_total{status="succeeded"} 20
# HELP hookline_deliveries_recalled_total Deferred deliveries made due early: their webhook had a free slot and nothing waiting.
# TYPE hookline_deliveries_recalled_total counter
hookline_deliveries_recalled_total 1050
# HELP hookline_deliveries_held_total Deliveries held back until their webhook's endpoint answers again (its circuit is open).
# TYPE hookline_deliveries_held_total counter
hookline_deliveries_held_total 19995
# HELP hookline_delivery_queue_in_use Deliveries claimed by this process and queued or in flight.
# TYPE hookline_delivery_queue_in_use gauge
hookline_delivery_queue_in_use 5
# HELP hookline_events_published_total Events accepted (new, not idempotent repeats).
# TYPE hookline_events_published_total counter
hookline_events_published_total 3050
# HELP hookline_http_requests_total API requests by route pattern and status code.
# TYPE hookline_http_requests_total counter
hookline_http_requests_total{code="200",route="GET /metrics"} 1
hookline_http_requests_total{code="201",route="POST /v1/webhooks"} 2
hookline_http_requests_total{code="202",route="POST /v1/events"} 50
hookline_http_requests_total{code="202",route="POST /v1/events/batch"} 3
# HELP hookline_rate_limited_total API requests refused with 429.
# HELP process_network_receive_bytes_total Number of bytes received by the process over the network.
# TYPE process_network_receive_bytes_total counter
process_network_receive_bytes_total 7.298025707e+09
`

// metricsBefore is the same server's delivery counters about 10 s earlier, when
// only the first 30 events had been published and 60 attempts had failed.
const metricsBefore = `# HELP hookline_attempts_total Delivery attempts by outcome: success, retry, failed, or stale (another claim had taken the delivery; not recorded).
# TYPE hookline_attempts_total counter
hookline_attempts_total{outcome="retry"} 60
# HELP hookline_deliveries_deferred_total Deliveries put back for later because their webhook was at its concurrency limit or paused by Retry-After.
# TYPE hookline_deliveries_deferred_total counter
hookline_deliveries_deferred_total 0
# HELP hookline_deliveries_recalled_total Deferred deliveries made due early: their webhook had a free slot and nothing waiting.
# TYPE hookline_deliveries_recalled_total counter
hookline_deliveries_recalled_total 0
`

func TestParseMetrics(t *testing.T) {
	t.Parallel()
	c, err := ParseMetrics([]byte(metricsAfter))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Attempts) != 2 || c.Attempts["retry"] != 2095 || c.Attempts["success"] != 20 || c.Deferred != 2782 || c.Recalled != 1050 || c.Held != 19995 {
		t.Errorf("got %+v, want attempts retry 2095 and success 20, deferred 2782, recalled 1050, held 19995", c)
	}
	c0, err := ParseMetrics([]byte(metricsBefore))
	if err != nil {
		t.Fatal(err)
	}
	if len(c0.Attempts) != 1 || c0.Attempts["retry"] != 60 || c0.Deferred != 0 || c0.Recalled != 0 {
		t.Errorf("before: got %+v, want attempts retry 60, nothing deferred or recalled", c0)
	}

	r := counterResult(c0, c, 30*time.Second)
	if r.Attempts["retry"] != 2035 || r.Attempts["success"] != 20 || r.AttemptsTotal != 2055 || r.Deferred != 2782 || r.Recalled != 1050 {
		t.Errorf("counterResult: got %+v, want retry 2035, success 20 (2055 in all), deferred 2782, recalled 1050", r)
	}
	if r.AttemptsTotalPerMinute != 4110 || r.AttemptsPerMinute["success"] != 40 || r.DeferredPerMinute != 5564 || r.RecalledPerMinute != 2100 {
		t.Errorf("counterResult over 30s: got %+v, want twice each count per minute", r)
	}

	tests := []struct {
		name, text, want string
	}{
		{"nullhook-like: no Hookline counters", "# HELP go_goroutines x\ngo_goroutines 7\n", "no hookline_deliveries_deferred_total"},
		{"empty", "", "no hookline_deliveries_deferred_total"},
		{"bad value", "hookline_deliveries_deferred_total many\n", "hookline_deliveries_deferred_total"},
		{"no outcome", "hookline_attempts_total{node=\"a\"} 3\nhookline_deliveries_deferred_total 0\n", "without an outcome label"},
		{"unterminated labels", "hookline_attempts_total{outcome=\"retry\" 3\n", "unterminated labels"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := ParseMetrics([]byte(tt.text)); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
}

func TestLabelValue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		labels, name, want string
		ok                 bool
	}{
		{`outcome="retry"`, "outcome", "retry", true},
		{`code="202",route="POST /v1/events"`, "route", "POST /v1/events", true},
		{`route="a \"quoted\" b",outcome="stale"`, "outcome", "stale", true},
		{`code="202"`, "outcome", "", false},
		{`outcome="retry`, "outcome", "", false},
	}
	for _, tt := range tests {
		got, ok := labelValue([]byte(tt.labels), tt.name)
		if got != tt.want || ok != tt.ok {
			t.Errorf("labelValue(%s, %s) = %q, %v; want %q, %v", tt.labels, tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

// TestScrapeCounters sums the counters of two nodes, and names a server
// without /metrics.
func TestScrapeCounters(t *testing.T) {
	t.Parallel()
	serve := func(status int, text string) *httptest.Server {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/metrics" {
				http.NotFound(w, r)
				return
			}
			w.WriteHeader(status)
			w.Write([]byte(text))
		}))
		t.Cleanup(srv.Close)
		return srv
	}
	a, b := serve(http.StatusOK, metricsAfter), serve(http.StatusOK, metricsBefore)
	c, err := scrapeCounters(context.Background(), newClient("", 1), []string{a.URL, b.URL})
	if err != nil {
		t.Fatal(err)
	}
	if c.Attempts["retry"] != 2155 || c.Attempts["success"] != 20 || c.Deferred != 2782 || c.Recalled != 1050 {
		t.Errorf("got %+v, want the two nodes summed: retry 2155, success 20, deferred 2782, recalled 1050", c)
	}
	none := serve(http.StatusNotFound, "404 page not found")
	if _, err := scrapeCounters(context.Background(), newClient("", 1), []string{a.URL, none.URL}); err == nil || !strings.Contains(err.Error(), "answered 404") {
		t.Errorf("a node without /metrics: got %v, want an error saying it answered 404", err)
	}
}
