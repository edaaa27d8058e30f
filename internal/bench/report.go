package bench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is what a run measured; WriteTable and WriteJSON print it.
type Report struct {
	RunID      string    `json:"run_id"`
	Date       time.Time `json:"date"`
	Version    string    `json:"hookline_version"` // of the bench; the target's may differ
	GoVersion  string    `json:"go_version"`
	GOMAXPROCS int       `json:"gomaxprocs"`
	NumCPU     int       `json:"num_cpu"`
	CPUModel   string    `json:"cpu_model"`
	Params     Params    `json:"params"`
	Target     Target    `json:"target"`

	// Backlog is the publishing of --backlog to the dead webhook, before the
	// measured phase; Publish and everything below are the measured phase.
	Backlog *PublishResult `json:"backlog,omitempty"`
	// Verify is the measured phase of a --verify run, which has no publish,
	// deliveries, latency to receipt or receiver (the JSON leaves them out).
	Verify     *VerifyResult  `json:"verify,omitempty"`
	Publish    PublishResult  `json:"publish"`
	Deliveries DeliveryResult `json:"deliveries"`
	// Latency is publish → first 2xx-answered receipt, over every delivery
	// received; Healthy and Slow split it when some webhooks are slow or time out.
	Latency        Latency        `json:"latency"`
	HealthyLatency *Latency       `json:"healthy_latency,omitempty"`
	SlowLatency    *Latency       `json:"slow_latency,omitempty"`
	Drain          *DrainResult   `json:"drain,omitempty"`
	Receiver       ReceiverResult `json:"receiver"`
	Server         ServerResult   `json:"server"`
	BenchCPU       float64        `json:"bench_cpu_seconds"`
	Warnings       []string       `json:"warnings"`
}

// Params are the options of the run, as given or preset.
type Params struct {
	Scenario        int      `json:"scenario,omitempty"`
	Webhooks        int      `json:"webhooks"`
	Fanout          bool     `json:"fanout"`
	Events          int      `json:"events"`
	Rate            float64  `json:"rate"`
	Concurrency     int      `json:"concurrency"`
	Batch           int      `json:"batch"`
	PayloadBytes    int      `json:"payload_bytes"`
	Hold            string   `json:"hold"`
	Dead            string   `json:"dead,omitempty"`   // "refuse" or "timeout": one dead webhook beside the others
	Backlog         int      `json:"backlog"`          // events published to the dead webhook first
	Verify          bool     `json:"verify,omitempty"` // key verifications instead of events
	Keys            int      `json:"keys,omitempty"`   // with Verify: the keys verified
	Latency         string   `json:"latency"`
	FailRatio       float64  `json:"fail_ratio"`
	TimeoutWebhooks float64  `json:"timeout_webhooks"`
	SlowWebhooks    float64  `json:"slow_webhooks"`
	SlowLatency     string   `json:"slow_latency"`
	Wait            string   `json:"wait"`
	MaxTime         string   `json:"max_time"`
	Nodes           int      `json:"nodes"`
	ServerFlags     []string `json:"server_flags"`
}

// Target is the server measured.
type Target struct {
	URL   string   `json:"url"`
	Local bool     `json:"local"` // started by the bench
	DB    string   `json:"db"`    // local deployments: "sqlite (temporary)", "postgres", or the SQLite file
	Nodes []string `json:"nodes"`
	PIDs  []int    `json:"pids"`
}

// PublishResult: events accepted (202) over the publishing time.
type PublishResult struct {
	Events    int     `json:"events"`
	Accepted  int64   `json:"accepted"`
	Errors    int64   `json:"errors"`  // given up after the retries: not expected at the receiver
	Retries   int64   `json:"retries"` // requests sent again after a 408, 429, 5xx or transport error
	Seconds   float64 `json:"seconds"`
	Rate      float64 `json:"rate_per_second"`
	LastError string  `json:"last_error,omitempty"`
}

// VerifyResult is a --verify run: verifications (POST /v1/keys/verify)
// answered 200 VALID over the verifying time, first request → last answer.
type VerifyResult struct {
	Keyspace     string  `json:"keyspace"`
	Keys         int     `json:"keys"`
	Tenants      int     `json:"tenants"`
	SetupSeconds float64 `json:"setup_seconds"` // creating the key space and the keys, before the measured phase

	Verifications int64   `json:"verifications"` // to send
	Valid         int64   `json:"valid"`         // answered 200 with code VALID
	Errors        int64   `json:"errors"`        // any other answer, or none
	LastError     string  `json:"last_error,omitempty"`
	Seconds       float64 `json:"seconds"`
	Rate          float64 `json:"rate_per_second"` // valid verifications per second
	// Latency is from each verification's scheduled time (fixed rate) or
	// its request (as fast as possible) to its answer, over the valid ones.
	Latency Latency `json:"latency"`
	// CPUMSPerVerification is the servers' CPU time over the measured phase
	// per valid verification, in milliseconds.
	CPUMSPerVerification float64 `json:"server_cpu_ms_per_verification"`
	// DatabaseCPUMSPerVerification is the same for the database server of
	// --db-pid (Server.Database), and ServerAndDatabaseCPUMSPerVerification
	// their sum; null when it was not measured (a measurement error says
	// why), or when the servers' CPU was not.
	DatabaseCPUMSPerVerification          *float64 `json:"database_cpu_ms_per_verification"`
	ServerAndDatabaseCPUMSPerVerification *float64 `json:"server_and_database_cpu_ms_per_verification"`
}

// DeliveryResult: deliveries received over first publish → last receipt.
type DeliveryResult struct {
	Expected   int64 `json:"expected"`  // accepted events × the webhooks each goes to, less timeout webhooks'
	Delivered  int64 `json:"delivered"` // first 2xx-answered receipts
	Missing    int64 `json:"missing"`   // expected but not received when the wait ended: none had arrived for --wait
	Duplicates int64 `json:"duplicates"`
	Unexpected int64 `json:"unexpected"` // receipts at a webhook the event was not sent to
	// NotExpected is the deliveries to timeout webhooks, which never answer.
	NotExpected int64   `json:"timeout_webhook_deliveries"`
	Seconds     float64 `json:"seconds"`
	Rate        float64 `json:"rate_per_second"`
	// WaitSeconds is how long the bench waited for deliveries after
	// publishing: while they kept arriving, even past --wait.
	WaitSeconds float64 `json:"wait_seconds"`
	// TailSeconds and TailRate are the last publish answer → last receipt,
	// and the deliveries received in it per second: how the backlog left at
	// the end of publishing drained.
	TailDelivered int64   `json:"tail_delivered"`
	TailSeconds   float64 `json:"tail_seconds"`
	TailRate      float64 `json:"tail_rate_per_second"`
}

// DrainResult is the backlog run (--hold): first receipt → last receipt.
type DrainResult struct {
	Seconds float64 `json:"seconds"`
	Rate    float64 `json:"rate_per_second"`
}

// ReceiverResult counts the requests the receiver got.
type ReceiverResult struct {
	Requests int64 `json:"requests"`
	Failed   int64 `json:"answered_5xx"` // by --fail-ratio; the server retries them
	Held     int64 `json:"held"`         // to timeout webhooks: never answered
	Other    int64 `json:"other"`        // without hlbench_seq (test sends)
	Dead     int64 `json:"dead_held"`    // to the dead webhook of --dead timeout: never answered
}

// ServerResult is what the servers did over the measured phase (publishing and
// waiting): CPU, disk writes, delivery counters; and their memory peaks since
// they started. A figure that could not be read is null, and a measurement
// error says why.
type ServerResult struct {
	Seconds          float64 `json:"seconds"` // the measured phase
	CPUSeconds       float64 `json:"cpu_seconds"`
	CPUCores         float64 `json:"cpu_cores"` // CPU seconds per second of the phase
	CPUMSPerDelivery float64 `json:"cpu_ms_per_delivery"`
	PeakRSSBytes     int64   `json:"peak_rss_bytes"`
	// WriteBytes is write_bytes of /proc/PID/io, summed over the processes:
	// what they wrote to storage (a PostgreSQL server's writes are its own).
	WriteBytes *int64         `json:"disk_write_bytes"`
	Counters   *CounterResult `json:"counters"` // from /metrics
	Nodes      []NodeResult   `json:"nodes"`
	// Database is the CPU of the database server of --db-pid over the same
	// phase; null when none was given or it could not be read.
	Database *DatabaseResult `json:"database"`
	// ServerAndDatabaseCPUMSPerDelivery is the servers' and the database's
	// CPU per delivery; null when either is unknown.
	ServerAndDatabaseCPUMSPerDelivery *float64 `json:"server_and_database_cpu_ms_per_delivery"`
	MeasurementErrors                 []string `json:"measurement_errors,omitempty"`
}

// DatabaseResult is the CPU (user + system) over the measured phase of the
// database server processes given with --db-pid, of their descendants (a
// PostgreSQL backend per connection) and of those that exited in it: see
// ProcTreeCPU.
type DatabaseResult struct {
	PIDs             []int   `json:"pids"`
	Processes        int     `json:"processes"` // in the trees at the end of the phase
	CPUSeconds       float64 `json:"cpu_seconds"`
	CPUCores         float64 `json:"cpu_cores"`
	CPUMSPerDelivery float64 `json:"cpu_ms_per_delivery"`
}

// CounterResult is how much the servers' delivery counters (their /metrics,
// summed over the nodes) grew over the measured phase.
type CounterResult struct {
	Attempts               map[string]int64   `json:"attempts"` // hookline_attempts_total by outcome
	AttemptsPerMinute      map[string]float64 `json:"attempts_per_minute"`
	AttemptsTotal          int64              `json:"attempts_total"`
	AttemptsTotalPerMinute float64            `json:"attempts_total_per_minute"`
	Deferred               int64              `json:"deferred"` // hookline_deliveries_deferred_total
	DeferredPerMinute      float64            `json:"deferred_per_minute"`
	Recalled               int64              `json:"recalled"` // hookline_deliveries_recalled_total
	RecalledPerMinute      float64            `json:"recalled_per_minute"`
	Held                   int64              `json:"held"` // hookline_deliveries_held_total
	HeldPerMinute          float64            `json:"held_per_minute"`
}

// NodeResult is one server process.
type NodeResult struct {
	PID           int     `json:"pid"`
	CPUSeconds    float64 `json:"cpu_seconds"`
	HWMBytes      int64   `json:"vm_hwm_bytes"`
	MaxSampledRSS int64   `json:"max_sampled_rss_bytes"`
	WriteBytes    *int64  `json:"disk_write_bytes"`
}

// MarshalJSON leaves out of a --verify run's report the figures of an event
// run, which it does not have.
func (r *Report) MarshalJSON() ([]byte, error) {
	type plain Report
	if r.Verify == nil {
		return json.Marshal((*plain)(r))
	}
	// The outer fields hide the embedded ones of the same name; nil, they
	// are left out.
	return json.Marshal(struct {
		*plain
		Publish        *PublishResult  `json:"publish,omitempty"`
		Deliveries     *DeliveryResult `json:"deliveries,omitempty"`
		Latency        *Latency        `json:"latency,omitempty"`
		Receiver       *ReceiverResult `json:"receiver,omitempty"`
		HealthyLatency *Latency        `json:"healthy_latency,omitempty"`
		SlowLatency    *Latency        `json:"slow_latency,omitempty"`
		Drain          *DrainResult    `json:"drain,omitempty"`
	}{plain: (*plain)(r)})
}

// WriteJSON writes the report as indented JSON to path, or stdout for "-".
func (r *Report) WriteJSON(path string, stdout io.Writer) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if path == "-" {
		_, err = stdout.Write(b)
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// WriteTable writes the report for a person to read.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	p := r.Params
	target := r.Target.URL
	if r.Target.Local {
		target = fmt.Sprintf("local, %d node(s), %s", len(r.Target.Nodes), r.Target.DB)
	}
	fmt.Fprintf(tw, "hookline bench\trun %s, %s, hookline %s\n", r.RunID, r.Date.Format(time.RFC3339), r.Version)
	fmt.Fprintf(tw, "machine\t%s, %d CPUs, GOMAXPROCS %d, %s\n", r.CPUModel, r.NumCPU, r.GOMAXPROCS, r.GoVersion)
	fmt.Fprintf(tw, "target\t%s\n", target)
	if r.Verify != nil {
		return r.writeVerify(w, tw)
	}
	mode := "as fast as possible"
	if p.Rate > 0 {
		mode = fmt.Sprintf("%g events/s", p.Rate)
	}
	fanout := ""
	if p.Fanout {
		fanout = ", fan-out"
	}
	fmt.Fprintf(tw, "load\t%d events, %s, %d webhook(s)%s, concurrency %d, batch %d\n", p.Events, mode, p.Webhooks, fanout, p.Concurrency, p.Batch)
	fmt.Fprintf(tw, "receiver\tlatency %s, fail ratio %g, timeout webhooks %g, slow webhooks %g (%s)\n", p.Latency, p.FailRatio, p.TimeoutWebhooks, p.SlowWebhooks, p.SlowLatency)
	if p.Dead != "" {
		fmt.Fprintf(tw, "dead webhook\t%s, backlog of %d events\n", deadKinds[p.Dead], p.Backlog)
	}
	fmt.Fprintln(tw)
	if b := r.Backlog; b != nil {
		fmt.Fprintf(tw, "backlog\t%d of %d events in %.2fs\t%.1f events/s\t(to the dead webhook, before the measured phase; errors %d, retries %d)\n", b.Accepted, b.Events, b.Seconds, b.Rate, b.Errors, b.Retries)
	}
	pub := r.Publish
	fmt.Fprintf(tw, "published\t%d of %d events in %.2fs\t%.1f events/s\t(errors %d, retries %d)\n", pub.Accepted, pub.Events, pub.Seconds, pub.Rate, pub.Errors, pub.Retries)
	d := r.Deliveries
	fmt.Fprintf(tw, "delivered\t%d of %d in %.2fs\t%.1f deliveries/s\t(first publish → last receipt)\n", d.Delivered, d.Expected, d.Seconds, d.Rate)
	if d.TailSeconds > 0 {
		fmt.Fprintf(tw, "after publishing\t%d more in %.2fs\t%.1f deliveries/s\t(last publish answer → last receipt; waited %.2fs)\n", d.TailDelivered, d.TailSeconds, d.TailRate, d.WaitSeconds)
	}
	if r.Drain != nil {
		fmt.Fprintf(tw, "drain\t%d in %.2fs\t%.1f deliveries/s\t(first receipt → last receipt)\n", d.Delivered, r.Drain.Seconds, r.Drain.Rate)
	}
	writeLatency(tw, "latency", r.Latency)
	if r.HealthyLatency != nil {
		writeLatency(tw, "  healthy webhooks", *r.HealthyLatency)
	}
	if r.SlowLatency != nil {
		writeLatency(tw, "  slow webhooks", *r.SlowLatency)
	}
	fmt.Fprintf(tw, "duplicates\t%d\n", d.Duplicates)
	fmt.Fprintf(tw, "missing\t%d\n", d.Missing)
	if d.Unexpected > 0 {
		fmt.Fprintf(tw, "unexpected\t%d\t(received by a webhook the event was not sent to)\n", d.Unexpected)
	}
	rv := r.Receiver
	dead := ""
	if p.Dead == DeadTimeout {
		dead = fmt.Sprintf(", %d held (dead webhook)", rv.Dead)
	}
	fmt.Fprintf(tw, "received\t%d requests\t%d answered 5xx, %d held (timeout webhooks)%s, %d other\n", rv.Requests, rv.Failed, rv.Held, dead, rv.Other)
	s := r.Server
	fmt.Fprintf(tw, "server CPU\t%.2fs\t%.3f ms per delivery\t(%d process(es), over %.1fs of publishing and waiting: %.2f of a core)\n", s.CPUSeconds, s.CPUMSPerDelivery, len(s.Nodes), s.Seconds, s.CPUCores)
	writeDatabaseCPU(tw, s, "delivery", "%.3f", s.ServerAndDatabaseCPUMSPerDelivery, dbPerDelivery(s.Database))
	writeDiskWrites(tw, s)
	if c := s.Counters; c != nil {
		fmt.Fprintf(tw, "attempts\t%d\t%.1f/min\t(%s; hookline_attempts_total)\n", c.AttemptsTotal, c.AttemptsTotalPerMinute, outcomes(c))
		fmt.Fprintf(tw, "deferred\t%d\t%.1f/min\t(hookline_deliveries_deferred_total)\n", c.Deferred, c.DeferredPerMinute)
		fmt.Fprintf(tw, "recalled\t%d\t%.1f/min\t(hookline_deliveries_recalled_total)\n", c.Recalled, c.RecalledPerMinute)
		fmt.Fprintf(tw, "held\t%d\t%.1f/min\t(hookline_deliveries_held_total: an open circuit's backlog)\n", c.Held, c.HeldPerMinute)
	} else {
		fmt.Fprintf(tw, "attempts, deferred, recalled\tn/a\t\t(from /metrics: see the note below)\n")
	}
	return r.writeEnd(w, tw)
}

// writeVerify writes the load and figures of a --verify run, after the
// header.
func (r *Report) writeVerify(w io.Writer, tw *tabwriter.Writer) error {
	p, v, s := r.Params, r.Verify, r.Server
	mode := "as fast as possible"
	from := "from its request"
	if p.Rate > 0 {
		mode = fmt.Sprintf("%g verifications/s", p.Rate)
		from = "from its scheduled time"
	}
	fmt.Fprintf(tw, "load\t%d key verifications, %s, concurrency %d\n", v.Verifications, mode, p.Concurrency)
	fmt.Fprintf(tw, "keys\t%d of key space %s, %d tenant(s), created in %.2fs before the measured phase\n", v.Keys, v.Keyspace, v.Tenants, v.SetupSeconds)
	fmt.Fprintln(tw)
	fmt.Fprintf(tw, "verified\t%d of %d in %.2fs\t%.1f verifications/s\t(200 VALID; errors %d; first request → last answer)\n", v.Valid, v.Verifications, v.Seconds, v.Rate, v.Errors)
	fmt.Fprintf(tw, "latency\tp50 %s  p90 %s  p99 %s  max %s\t(%d verifications, each %s to its answer)\n", fineMS(v.Latency.P50), fineMS(v.Latency.P90), fineMS(v.Latency.P99), fineMS(v.Latency.Max), v.Latency.Count, from)
	fmt.Fprintf(tw, "server CPU\t%.2fs\t%.4f ms per verification\t(%d process(es), over %.1fs of verifying: %.2f of a core)\n", s.CPUSeconds, v.CPUMSPerVerification, len(s.Nodes), s.Seconds, s.CPUCores)
	writeDatabaseCPU(tw, s, "verification", "%.4f", v.ServerAndDatabaseCPUMSPerVerification, v.DatabaseCPUMSPerVerification)
	writeDiskWrites(tw, s)
	return r.writeEnd(w, tw)
}

// writeDatabaseCPU writes the database CPU line, and the servers' and the
// database's together, per unit (a delivery, or a verification) with
// format; both, and perUnit, are the JSON's figures.
func writeDatabaseCPU(tw io.Writer, s ServerResult, unit, format string, both, perUnit *float64) {
	db := s.Database
	if db == nil || perUnit == nil {
		fmt.Fprintf(tw, "database CPU\tn/a\t\t(see the note below)\n")
		return
	}
	fmt.Fprintf(tw, "database CPU\t%.2fs\t"+format+" ms per %s\t(--db-pid %s and descendants, %d process(es) at the end, over the same time: %.2f of a core)\n",
		db.CPUSeconds, *perUnit, unit, pidsText(db.PIDs), db.Processes, db.CPUCores)
	if both != nil {
		fmt.Fprintf(tw, "server + database CPU\t%.2fs\t"+format+" ms per %s\t(%.2f of a core)\n", s.CPUSeconds+db.CPUSeconds, *both, unit, s.CPUCores+db.CPUCores)
	}
}

func dbPerDelivery(db *DatabaseResult) *float64 {
	if db == nil {
		return nil
	}
	return &db.CPUMSPerDelivery
}

func writeDiskWrites(tw io.Writer, s ServerResult) {
	if s.WriteBytes != nil {
		fmt.Fprintf(tw, "server disk writes\t%s\t%s/s\t(write_bytes of /proc/PID/io, over the same time)\n", size(*s.WriteBytes), size(int64(perSecond(*s.WriteBytes, s.Seconds))))
	} else {
		fmt.Fprintf(tw, "server disk writes\tn/a\t\t(see the note below)\n")
	}
}

// writeEnd writes the lines every report ends with: memory, the bench's own
// CPU, notes and warnings.
func (r *Report) writeEnd(w io.Writer, tw *tabwriter.Writer) error {
	s := r.Server
	fmt.Fprintf(tw, "server peak RSS\t%s\t\t(largest VmHWM or sampled VmRSS of one process)\n", mib(s.PeakRSSBytes))
	fmt.Fprintf(tw, "bench CPU\t%.2fs\n", r.BenchCPU)
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, m := range s.MeasurementErrors {
		fmt.Fprintf(w, "note: %s\n", m)
	}
	for _, m := range r.Warnings {
		fmt.Fprintf(w, "WARNING: %s\n", m)
	}
	return nil
}

func writeLatency(w io.Writer, name string, l Latency) {
	fmt.Fprintf(w, "%s\tp50 %s  p90 %s  p99 %s  max %s\t(%d deliveries)\n", name, ms(l.P50), ms(l.P90), ms(l.P99), ms(l.Max), l.Count)
}

func ms(v float64) string {
	if v >= 1000 {
		return fmt.Sprintf("%.2fs", v/1000)
	}
	return fmt.Sprintf("%.1fms", v)
}

// fineMS is ms with two decimals below 10 ms: a verification takes a
// fraction of a millisecond.
func fineMS(v float64) string {
	if v < 10 {
		return fmt.Sprintf("%.2fms", v)
	}
	return ms(v)
}

// deadKinds describe the kinds of --dead in the table.
var deadKinds = map[string]string{
	DeadRefuse:  "refuse (connection refused: a loopback port with nothing listening)",
	DeadTimeout: "timeout (accepted, never answered: held until the server gives up)",
}

// outcomes lists the attempts by outcome, in a fixed order.
func outcomes(c *CounterResult) string {
	if len(c.Attempts) == 0 {
		return "none"
	}
	names := slices.Sorted(maps.Keys(c.Attempts))
	parts := make([]string, len(names))
	for i, name := range names {
		parts[i] = fmt.Sprintf("%s %d", name, c.Attempts[name])
	}
	return strings.Join(parts, ", ")
}

func perSecond(n int64, seconds float64) float64 {
	if seconds <= 0 {
		return 0
	}
	return float64(n) / seconds
}

// size is a byte count for a person: B, KiB, MiB or GiB.
func size(b int64) string {
	switch {
	case b < 1<<10:
		return fmt.Sprintf("%d B", b)
	case b < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(b)/(1<<10))
	case b < 1<<30:
		return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
	}
	return fmt.Sprintf("%.2f GiB", float64(b)/(1<<30))
}

func mib(b int64) string {
	if b <= 0 {
		return "unknown"
	}
	return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
}

// cpuModel is the first "model name" of /proc/cpuinfo, or the architecture.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err == nil {
		defer f.Close()
		sc := bufio.NewScanner(io.LimitReader(f, 1<<20))
		for sc.Scan() {
			name, value, ok := bytes.Cut(sc.Bytes(), []byte(":"))
			if ok && strings.TrimSpace(string(name)) == "model name" {
				return strings.TrimSpace(string(value))
			}
		}
	}
	return runtime.GOARCH
}
