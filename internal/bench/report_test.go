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
