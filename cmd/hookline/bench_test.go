package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// benchReport is the part of `hookline bench --json`'s report the tests check.
type benchReport struct {
	Backlog *struct {
		Events   int64 `json:"events"`
		Accepted int64 `json:"accepted"`
	} `json:"backlog"`
	Publish struct {
		Accepted int64 `json:"accepted"`
		Errors   int64 `json:"errors"`
	} `json:"publish"`
	Deliveries struct {
		Expected   int64 `json:"expected"`
		Delivered  int64 `json:"delivered"`
		Missing    int64 `json:"missing"`
		Duplicates int64 `json:"duplicates"`
		Unexpected int64 `json:"unexpected"`
	} `json:"deliveries"`
	Latency struct {
		Count int     `json:"count"`
		P50   float64 `json:"p50_ms"`
		P90   float64 `json:"p90_ms"`
		P99   float64 `json:"p99_ms"`
		Max   float64 `json:"max_ms"`
	} `json:"latency"`
	HealthyLatency *struct {
		Count int     `json:"count"`
		P99   float64 `json:"p99_ms"`
		Max   float64 `json:"max_ms"`
	} `json:"healthy_latency"`
	Receiver struct {
		DeadHeld int64 `json:"dead_held"`
	} `json:"receiver"`
	Server struct {
		Seconds      float64 `json:"seconds"`
		CPUSeconds   float64 `json:"cpu_seconds"`
		PeakRSSBytes int64   `json:"peak_rss_bytes"`
		WriteBytes   *int64  `json:"disk_write_bytes"`
		Counters     *struct {
			Attempts          map[string]int64 `json:"attempts"`
			AttemptsTotal     int64            `json:"attempts_total"`
			Deferred          int64            `json:"deferred"`
			DeferredPerMinute float64          `json:"deferred_per_minute"`
			Recalled          int64            `json:"recalled"`
		} `json:"counters"`
		Nodes []struct {
			PID int `json:"pid"`
		} `json:"nodes"`
	} `json:"server"`
	Target struct {
		Local bool `json:"local"`
	} `json:"target"`
	Warnings []string `json:"warnings"`
}

// runBench runs `hookline bench args… --json FILE` (without the caller's
// HOOKLINE_ variables) and returns its exit code, output and report.
func runBench(t *testing.T, args ...string) (int, string, *benchReport) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "report.json")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, hooklineBinary(t), append(append([]string{"bench"}, args...), "--json", file)...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HOOKLINE_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	out, err := cmd.CombinedOutput()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("hookline bench: %v\n%s", err, out)
		}
		code = ee.ExitCode()
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return code, string(out), nil
	}
	var rep benchReport
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("the JSON report does not parse: %v\n%s", err, b)
	}
	return code, string(out), &rep
}

// checkBench checks a complete run: every delivery once, and every measure taken.
func checkBench(t *testing.T, code int, out string, rep *benchReport, wantDelivered int64) {
	t.Helper()
	if code != 0 || rep == nil {
		t.Fatalf("got exit %d, want 0 and a report; output:\n%s", code, out)
	}
	d := rep.Deliveries
	if d.Delivered != wantDelivered || d.Expected != wantDelivered || d.Missing != 0 || d.Duplicates != 0 || d.Unexpected != 0 {
		t.Errorf("deliveries: got %+v, want %d expected and delivered, none missing, duplicated or unexpected", d, wantDelivered)
	}
	l := rep.Latency
	if l.Count != int(wantDelivered) || l.P50 <= 0 || l.P90 < l.P50 || l.P99 < l.P90 || l.Max < l.P99 {
		t.Errorf("latency: got %+v, want %d values with 0 < p50 ≤ p90 ≤ p99 ≤ max", l, wantDelivered)
	}
	if s := rep.Server; s.CPUSeconds <= 0 || s.PeakRSSBytes <= 0 || len(s.Nodes) != 1 {
		t.Errorf("server: got CPU %gs, peak RSS %d bytes, %d processes; want both positive, one process", s.CPUSeconds, s.PeakRSSBytes, len(s.Nodes))
	}
	for _, want := range []string{"published", "delivered", "latency", "p99", "missing", "server CPU", "server peak RSS"} {
		if !strings.Contains(out, want) {
			t.Errorf("the table lacks %q:\n%s", want, out)
		}
	}
}

// TestBenchLocal runs the bench with its own throwaway SQLite server.
func TestBenchLocal(t *testing.T) {
	t.Parallel()
	code, out, rep := runBench(t, "--events", "300", "--concurrency", "4")
	checkBench(t, code, out, rep, 300)
	if rep != nil && (!rep.Target.Local || rep.Publish.Accepted != 300 || rep.Publish.Errors != 0) {
		t.Errorf("got local %v, %d accepted, %d publish errors; want a local run with 300 accepted and no errors", rep.Target.Local, rep.Publish.Accepted, rep.Publish.Errors)
	}
}

func TestBenchFanout(t *testing.T) {
	t.Parallel()
	code, out, rep := runBench(t, "--fanout", "--webhooks", "3", "--events", "100", "--concurrency", "4")
	checkBench(t, code, out, rep, 300)
}

// TestBenchBatch publishes through POST /v1/events/batch.
func TestBenchBatch(t *testing.T) {
	t.Parallel()
	code, out, rep := runBench(t, "--events", "300", "--batch", "50", "--concurrency", "2")
	checkBench(t, code, out, rep, 300)
}

// TestBenchTarget measures a server the test started, and checks that the bench
// removes the webhooks it created there.
func TestBenchTarget(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	s.start()
	pid := strconv.Itoa(s.proc.cmd.Process.Pid)
	code, out, rep := runBench(t, "--target", s.url(""), "--api-key", adminKey, "--server-pid", pid, "--webhooks", "2", "--events", "200", "--hold", "1s")
	checkBench(t, code, out, rep, 200)
	if rep != nil && rep.Target.Local {
		t.Error("got a local run, want the target")
	}
	var list struct {
		Items []json.RawMessage `json:"items"`
	}
	s.mustDo("GET", "/v1/webhooks", nil, &list, 200)
	if len(list.Items) != 0 {
		t.Errorf("got %d webhooks left on the target, want the bench's removed", len(list.Items))
	}
}

// TestBenchDead runs scenario 6 small, for each kind of dead endpoint: a
// backlog of 2,000 to the dead webhook, then 50 events/s for 3 s to a healthy
// one. The healthy deliveries all arrive, the dead ones are not counted missing,
// and the cost of the phase is reported.
func TestBenchDead(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"refuse", "timeout"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			code, out, rep := runBench(t, "--scenario", "6", "--dead", kind, "--backlog", "2000", "--duration", "3s")
			checkBench(t, code, out, rep, 150)
			if rep == nil {
				return
			}
			if b := rep.Backlog; b == nil || b.Events != 2000 || b.Accepted != 2000 {
				t.Errorf("backlog: got %+v, want 2000 events accepted", b)
			}
			if h := rep.HealthyLatency; h == nil || h.Count != 150 || h.P99 <= 0 || h.Max < h.P99 {
				t.Errorf("healthy latency: got %+v, want 150 deliveries with 0 < p99 ≤ max", h)
			}
			s := rep.Server
			switch {
			case s.Seconds < 2.9: // the last of 150 events is due at 2.98 s
				t.Errorf("server: got a measured phase of %gs, want about 3s", s.Seconds)
			case s.WriteBytes == nil || *s.WriteBytes <= 0:
				t.Errorf("server: got disk writes %v, want some bytes written (SQLite commits)", s.WriteBytes)
			}
			c := s.Counters
			switch {
			case c == nil:
				t.Errorf("got no delivery counters, want them read from /metrics")
			case c.Attempts["success"] < 100 || c.AttemptsTotal < c.Attempts["success"]:
				t.Errorf("attempts: got %+v, want about 150 successes (the healthy webhook's) among them", c.Attempts)
			case kind == "refuse" && c.Attempts["retry"] == 0:
				t.Errorf("attempts: got %+v, want refused attempts (outcome retry) to the dead webhook", c.Attempts)
			}
			if kind == "timeout" && rep.Receiver.DeadHeld == 0 {
				t.Error("got no request held for the dead webhook, want its attempts to reach the receiver")
			}
			for _, want := range []string{"dead webhook", "backlog", "healthy webhooks", "server disk writes", "attempts", "deferred", "recalled"} {
				if !strings.Contains(out, want) {
					t.Errorf("the table lacks %q:\n%s", want, out)
				}
			}
		})
	}
}

// TestBenchRefusals: wrong flags and targets stop the bench before any load,
// with a message naming the fault.
func TestBenchRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     string
	}{
		{"remote target", []string{"--target", "http://192.0.2.1:8080"}, 1, "not a loopback address"},
		{"unknown scenario", []string{"--scenario", "9"}, 2, "--scenario must be 1 to 8"},
		{"unknown dead kind", []string{"--dead", "slow"}, 2, "--dead must be refuse or timeout"},
		{"backlog without dead", []string{"--backlog", "1000"}, 2, "--backlog goes with --dead"},
		{"several SQLite nodes", []string{"--nodes", "2"}, 2, "needs --db postgres://"},
		{"events and duration", []string{"--rate", "10", "--duration", "1s", "--events", "5"}, 2, "not both"},
		{"db pid with SQLite", []string{"--db-pid", "1"}, 2, "--db-pid names a database server's process"},
		{"db pid not a number", []string{"--target", "http://127.0.0.1:1", "--db-pid", "pg"}, 2, `"pg" is not a process id`},
		{"db pid of no process", []string{"--target", "http://127.0.0.1:1", "--db-pid", "1073741824"}, 1, "--db-pid 1073741824:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, out, rep := runBench(t, tt.args...)
			if code != tt.wantCode || !strings.Contains(out, tt.want) || rep != nil {
				t.Errorf("got exit %d and no report %v, output:\n%s\nwant exit %d, no report, and %q", code, rep == nil, out, tt.wantCode, tt.want)
			}
		})
	}
}
