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
	for _, want := range []string{"server disk writes n/a", "attempts, deferred, recalled n/a", "note: delivery counters", "database CPU n/a (see the note below)"} {
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
	if !strings.Contains(out.String(), `"disk_write_bytes": null`) || !strings.Contains(out.String(), `"counters": null`) ||
		!strings.Contains(out.String(), `"database": null`) || !strings.Contains(out.String(), `"server_and_database_cpu_ms_per_delivery": null`) {
		t.Errorf("JSON: want disk_write_bytes, counters, database and server_and_database_cpu_ms_per_delivery null, got %s", out.String())
	}
	if strings.Contains(table.String(), "server + database") {
		t.Errorf("a run without database CPU shows server + database CPU:\n%s", table.String())
	}
}

// TestReportDatabaseCPU: the CPU of --db-pid's processes, and the servers'
// and the database's together, per delivery or per verification, in the
// table and the JSON; without the servers' CPU, no sum.
func TestReportDatabaseCPU(t *testing.T) {
	t.Parallel()
	both := 0.319
	rep := &Report{Server: ServerResult{Seconds: 60, CPUSeconds: 45, CPUCores: 0.75, CPUMSPerDelivery: 0.25, Nodes: []NodeResult{{PID: 1}},
		Database:                          &DatabaseResult{PIDs: []int{812}, Processes: 18, CPUSeconds: 12.5, CPUCores: 0.208, CPUMSPerDelivery: 0.069},
		ServerAndDatabaseCPUMSPerDelivery: &both}}
	table := func(rep *Report) string {
		var b bytes.Buffer
		if err := rep.WriteTable(&b); err != nil {
			t.Fatal(err)
		}
		return strings.Join(strings.Fields(b.String()), " ")
	}
	text := table(rep)
	for _, want := range []string{
		"database CPU 12.50s 0.069 ms per delivery (--db-pid 812 and descendants, 18 process(es) at the end, over the same time: 0.21 of a core)",
		"server + database CPU 57.50s 0.319 ms per delivery (0.96 of a core)",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the table lacks %q:\n%s", want, text)
		}
	}
	var out bytes.Buffer
	if err := rep.WriteJSON("-", &out); err != nil {
		t.Fatal(err)
	}
	var back struct {
		Server struct {
			Database *DatabaseResult `json:"database"`
			Both     *float64        `json:"server_and_database_cpu_ms_per_delivery"`
		} `json:"server"`
	}
	if err := json.Unmarshal(out.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if d := back.Server.Database; d == nil || d.CPUSeconds != 12.5 || d.CPUCores != 0.208 || d.CPUMSPerDelivery != 0.069 || d.Processes != 18 ||
		len(d.PIDs) != 1 || d.PIDs[0] != 812 || back.Server.Both == nil || *back.Server.Both != both {
		t.Errorf("JSON: got %s", out.String())
	}

	// The database measured, the servers not (--target without --server-pid):
	// no sum.
	rep.Server.Nodes, rep.Server.CPUSeconds, rep.Server.ServerAndDatabaseCPUMSPerDelivery = nil, 0, nil
	if text := table(rep); !strings.Contains(text, "database CPU 12.50s") || strings.Contains(text, "server + database") {
		t.Errorf("without server CPU: want the database line and no sum:\n%s", text)
	}

	// A --verify run: per verification.
	dbMS, bothMS := 0.0125, 0.0577
	rep = &Report{
		Params: Params{Verify: true, Keys: 100, Events: 60000, Concurrency: 64},
		Verify: &VerifyResult{Verifications: 60000, Valid: 60000, Seconds: 30, CPUMSPerVerification: 0.0452,
			DatabaseCPUMSPerVerification: &dbMS, ServerAndDatabaseCPUMSPerVerification: &bothMS},
		Server: ServerResult{Seconds: 30, CPUSeconds: 2.712, CPUCores: 0.09, Nodes: []NodeResult{{PID: 1}},
			Database:                          &DatabaseResult{PIDs: []int{812, 900}, Processes: 66, CPUSeconds: 0.75, CPUCores: 0.03},
			ServerAndDatabaseCPUMSPerDelivery: new(float64)},
	}
	text = table(rep)
	for _, want := range []string{
		"database CPU 0.75s 0.0125 ms per verification (--db-pid 812,900 and descendants, 66 process(es) at the end, over the same time: 0.03 of a core)",
		"server + database CPU 3.46s 0.0577 ms per verification (0.12 of a core)",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the table lacks %q:\n%s", want, text)
		}
	}
	out.Reset()
	if err := rep.WriteJSON("-", &out); err != nil {
		t.Fatal(err)
	}
	var v struct {
		Verify VerifyResult `json:"verify"`
	}
	if err := json.Unmarshal(out.Bytes(), &v); err != nil {
		t.Fatal(err)
	}
	if p := v.Verify.DatabaseCPUMSPerVerification; p == nil || *p != dbMS {
		t.Errorf("JSON: database_cpu_ms_per_verification: got %v in %s", p, out.String())
	}
	if p := v.Verify.ServerAndDatabaseCPUMSPerVerification; p == nil || *p != bothMS {
		t.Errorf("JSON: server_and_database_cpu_ms_per_verification: got %v in %s", p, out.String())
	}

	// Not measured: n/a, and null.
	rep.Verify.DatabaseCPUMSPerVerification, rep.Verify.ServerAndDatabaseCPUMSPerVerification, rep.Server.Database = nil, nil, nil
	if text := table(rep); !strings.Contains(text, "database CPU n/a") || strings.Contains(text, "server + database") {
		t.Errorf("without database CPU: want n/a and no sum:\n%s", text)
	}
	out.Reset()
	if err := rep.WriteJSON("-", &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"database_cpu_ms_per_verification": null`, `"server_and_database_cpu_ms_per_verification": null`, `"database": null`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("JSON: want %s, got %s", want, out.String())
		}
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
