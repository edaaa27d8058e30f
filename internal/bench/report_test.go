package bench

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestReportCost: the cost figures of the measured phase, in the table and the
// JSON, and "n/a" for those that could not be read.
func TestReportCost(t *testing.T) {
	t.Parallel()
	written := int64(3 << 30)
	rep := &Report{
		Params:  Params{Dead: DeadRefuse, Backlog: 200000},
		Backlog: &PublishResult{Events: 200000, Accepted: 200000, Seconds: 10, Rate: 20000},
		Server: ServerResult{Seconds: 60, CPUSeconds: 45, CPUCores: 0.75, WriteBytes: &written,
			Counters: &CounterResult{
				Attempts: map[string]int64{"success": 3000, "retry": 12500}, AttemptsTotal: 15500, AttemptsTotalPerMinute: 15500,
				Deferred: 243000, DeferredPerMinute: 243000, Recalled: 12, RecalledPerMinute: 12}},
	}
	var table bytes.Buffer
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"dead webhook", "refuse (connection refused", "backlog of 200000", "200000 of 200000 events in 10.00s",
		"0.75 of a core", "3.00 GiB", "51.2 MiB/s", "15500", "retry 12500, success 3000", "243000", "243000.0/min", "recalled"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("the table lacks %q:\n%s", want, table.String())
		}
	}
	var out bytes.Buffer
	if err := rep.WriteJSON("-", &out); err != nil {
		t.Fatal(err)
	}
	var back struct {
		Server struct {
			WriteBytes *int64 `json:"disk_write_bytes"`
			Counters   struct {
				Attempts          map[string]int64   `json:"attempts"`
				AttemptsPerMinute map[string]float64 `json:"attempts_per_minute"`
				DeferredPerMinute float64            `json:"deferred_per_minute"`
			} `json:"counters"`
		} `json:"server"`
		Params struct {
			Dead    string `json:"dead"`
			Backlog int    `json:"backlog"`
		} `json:"params"`
	}
	if err := json.Unmarshal(out.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.Server.WriteBytes == nil || *back.Server.WriteBytes != written || back.Server.Counters.Attempts["retry"] != 12500 ||
		back.Server.Counters.DeferredPerMinute != 243000 || back.Params.Dead != DeadRefuse || back.Params.Backlog != 200000 {
		t.Errorf("JSON: got %s", out.String())
	}

	// A target without --server-pid or /metrics (nullhook): n/a, and null.
	rep = &Report{Server: ServerResult{MeasurementErrors: []string{"delivery counters (attempts, deferred, recalled): GET …/metrics answered 404"}}}
	table.Reset()
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"server disk writes n/a", "attempts, deferred, recalled n/a", "note: delivery counters"} {
		if !strings.Contains(strings.Join(strings.Fields(table.String()), " "), want) {
			t.Errorf("the table lacks %q:\n%s", want, table.String())
		}
	}
	if strings.Contains(table.String(), "dead webhook") || strings.Contains(table.String(), "backlog") {
		t.Errorf("a run without --dead shows a dead webhook or backlog:\n%s", table.String())
	}
	out.Reset()
	if err := rep.WriteJSON("-", &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"disk_write_bytes": null`) || !strings.Contains(out.String(), `"counters": null`) {
		t.Errorf("JSON: want disk_write_bytes and counters null, got %s", out.String())
	}
}

// TestReportVerify: a --verify run's report has a section of its own —
// rate, latency to the answer, errors, CPU per verification — and none of
// an event run's lines or JSON members.
func TestReportVerify(t *testing.T) {
	t.Parallel()
	written := int64(0)
	rep := &Report{
		RunID: "0a1b2c3d", Target: Target{Local: true, DB: "sqlite (temporary)", Nodes: []string{"http://127.0.0.1:1"}},
		Params: Params{Verify: true, Keys: 100, Events: 60000, Rate: 2000, Concurrency: 64, Webhooks: 1, Batch: 1},
		Verify: &VerifyResult{
			Keyspace: "hlbench-0a1b2c3d", Keys: 100, Tenants: 10, SetupSeconds: 0.25,
			Verifications: 60000, Valid: 59990, Errors: 10, LastError: "503 Service Unavailable: busy",
			Seconds: 30, Rate: 1999.7, CPUMSPerVerification: 0.0452,
			Latency: Latency{Count: 59990, P50: 0.412, P90: 0.903, P99: 2.718, Max: 14.2},
		},
		Server:   ServerResult{Seconds: 30, CPUSeconds: 2.712, CPUCores: 0.09, WriteBytes: &written, PeakRSSBytes: 40 << 20, Nodes: []NodeResult{{PID: 1}}},
		BenchCPU: 1.5,
		Warnings: []string{"10 of 60000 verifications were not answered 200 VALID (last error: 503 Service Unavailable: busy)"},
	}
	var table bytes.Buffer
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	text := strings.Join(strings.Fields(table.String()), " ")
	for _, want := range []string{
		"load 60000 key verifications, 2000 verifications/s, concurrency 64",
		"keys 100 of key space hlbench-0a1b2c3d, 10 tenant(s), created in 0.25s before the measured phase",
		"verified 59990 of 60000 in 30.00s 1999.7 verifications/s (200 VALID; errors 10;",
		"latency p50 0.41ms p90 0.90ms p99 2.72ms max 14.2ms (59990 verifications, each from its scheduled time to its answer)",
		"server CPU 2.71s 0.0452 ms per verification (1 process(es), over 30.0s of verifying: 0.09 of a core)",
		"server disk writes 0 B", "server peak RSS 40.0 MiB", "bench CPU 1.50s", "WARNING: 10 of 60000 verifications",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the table lacks %q:\n%s", want, table.String())
		}
	}
	for _, unwanted := range []string{"published", "delivered", "deliveries", "duplicates", "missing", "received", "receiver", "attempts", "per delivery"} {
		if strings.Contains(text, unwanted) {
			t.Errorf("the table of a --verify run shows %q:\n%s", unwanted, table.String())
		}
	}

	var out bytes.Buffer
	if err := rep.WriteJSON("-", &out); err != nil {
		t.Fatal(err)
	}
	var back map[string]json.RawMessage
	if err := json.Unmarshal(out.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	for _, member := range []string{"publish", "deliveries", "latency", "receiver"} {
		if _, ok := back[member]; ok {
			t.Errorf("the JSON of a --verify run has %q: %s", member, out.String())
		}
	}
	var v struct {
		Params struct {
			Verify bool `json:"verify"`
			Keys   int  `json:"keys"`
		} `json:"params"`
		Verify VerifyResult `json:"verify"`
		Server struct {
			CPUSeconds float64 `json:"cpu_seconds"`
		} `json:"server"`
	}
	if err := json.Unmarshal(out.Bytes(), &v); err != nil {
		t.Fatal(err)
	}
	if !v.Params.Verify || v.Params.Keys != 100 || v.Verify != *rep.Verify || v.Server.CPUSeconds != 2.712 {
		t.Errorf("JSON: got %+v from %s", v, out.String())
	}

	// An event run's JSON keeps its members, and has no verify member.
	rep = &Report{Params: Params{Events: 10}}
	out.Reset()
	if err := rep.WriteJSON("-", &out); err != nil {
		t.Fatal(err)
	}
	back = nil
	if err := json.Unmarshal(out.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	for _, member := range []string{"publish", "deliveries", "latency", "receiver", "server"} {
		if _, ok := back[member]; !ok {
			t.Errorf("the JSON of an event run lacks %q: %s", member, out.String())
		}
	}
	if _, ok := back["verify"]; ok || strings.Contains(out.String(), `"keys"`) {
		t.Errorf("the JSON of an event run has verify members: %s", out.String())
	}
}
