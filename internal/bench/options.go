package bench

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/store/postgres"
)

// Options is one run of the bench. The zero values of the durations and ratios
// mean "none"; Check tells what is missing or out of bounds.
type Options struct {
	// Target is the base URL of a running server, on loopback; empty: the bench
	// starts a throwaway deployment of its own.
	Target     string
	APIKey     string // sent as a Bearer token; with a local deployment, its admin key (generated when empty)
	ServerPIDs []int  // processes of the target whose CPU and memory are reported
	// DBPIDs are database server processes (PostgreSQL's postmaster) whose
	// CPU, with their descendants', is reported beside the servers'.
	DBPIDs []int

	// A local deployment: Nodes `serve` processes of Executable (this program
	// when empty) on DB (a SQLite file in a temporary directory when empty),
	// each also given ServerFlags ("name=value").
	Nodes       int
	DB          string
	ServerFlags []string
	Executable  string

	Webhooks     int
	Fanout       bool    // every event to every webhook (one tenant); else round-robin, one delivery each
	Ordered      bool    // webhooks deliver in publish order, one at a time
	Events       int     // total events published
	Rate         float64 // events per second; 0: as fast as possible
	Concurrency  int     // publishing goroutines
	Batch        int     // events per request; above 1 through POST /v1/events/batch
	PayloadBytes int     // size of each event's data, padded; 0: as small as it comes
	Hold         time.Duration

	// Dead adds one webhook, beside the others, whose endpoint never succeeds:
	// DeadRefuse or DeadTimeout; empty for none. Backlog events are published
	// to it alone before the measured phase.
	Dead    string
	Backlog int

	// Verify replaces the event load by key verifications: a key space with
	// Keys keys is created, and Events verifications (POST /v1/keys/verify)
	// are sent at Rate by Concurrency goroutines. No webhook is created.
	Verify bool
	Keys   int

	Latency         time.Duration // the receiver's answer time
	FailRatio       float64       // fraction of requests answered 500
	TimeoutWebhooks float64       // fraction of webhooks never answered
	SlowWebhooks    float64       // fraction of webhooks answered after SlowLatency
	SlowLatency     time.Duration

	Wait    time.Duration // after publishing (and the hold): the wait ends when no delivery arrived for this long
	MaxTime time.Duration // the whole run

	Scenario int       // the preset used, for the report
	Version  string    // of the bench's own hookline, for the report
	Progress io.Writer // a line every few seconds; nil for none
}

// Limits that keep a run's memory and duration bounded.
const (
	MaxEvents     = 10_000_000
	MaxWebhooks   = 10_000
	MaxDeliveries = 20_000_000 // one int64 per delivery, one duration per delivered one
	MaxBatch      = 10_000
	MaxKeys       = 100_000
)

// DefaultKeys is the number of keys a --verify run creates unless told.
const DefaultKeys = 100

// The kinds of --dead.
const (
	DeadRefuse  = "refuse"  // a loopback port with nothing listening: connection refused
	DeadTimeout = "timeout" // the receiver accepts and never answers
)

// Check validates the options and fills in defaults (Nodes, Batch, and Keys
// with Verify).
func (o *Options) Check() error {
	if o.Nodes == 0 {
		o.Nodes = 1
	}
	if o.Batch == 0 {
		o.Batch = 1
	}
	if o.Verify && o.Keys == 0 {
		o.Keys = DefaultKeys
	}
	_, pg := postgres.ParseDSN(o.DB)
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	switch {
	case o.Webhooks < 1 || o.Webhooks > MaxWebhooks:
		bad("--webhooks must be 1 to %d", MaxWebhooks)
	case o.Events < 1 || o.Events > MaxEvents:
		bad("--events must be 1 to %d (with --rate: rate × duration)", MaxEvents)
	case o.Fanout && int64(o.Events)*int64(o.Webhooks) > MaxDeliveries:
		bad("--events × --webhooks with --fanout is %d deliveries, more than the %d a run may make", int64(o.Events)*int64(o.Webhooks), MaxDeliveries)
	}
	if o.Concurrency < 1 || o.Concurrency > 1024 {
		bad("--concurrency must be 1 to 1024")
	}
	if o.Batch < 1 || o.Batch > MaxBatch {
		bad("--batch must be 0 to %d", MaxBatch)
	}
	if o.Rate < 0 || o.Rate > 1e6 {
		bad("--rate must be 0 (as fast as possible) to 1000000 events/s")
	}
	if o.PayloadBytes < 0 || o.PayloadBytes > 1<<20 {
		bad("--payload-bytes must be 0 to %d", 1<<20)
	}
	for _, r := range []struct {
		name string
		v    float64
	}{{"--fail-ratio", o.FailRatio}, {"--timeout-webhooks", o.TimeoutWebhooks}, {"--slow-webhooks", o.SlowWebhooks}} {
		if r.v < 0 || r.v > 1 {
			bad("%s must be between 0 and 1", r.name)
		}
	}
	if o.FailRatio >= 1 {
		bad("--fail-ratio must be below 1: no delivery could succeed")
	}
	if o.Webhooks >= 1 && o.Webhooks <= MaxWebhooks {
		// Timeout webhooks come first: when the last one is, no webhook answers.
		if cs := classes(o.Webhooks, o.TimeoutWebhooks, o.SlowWebhooks); cs[len(cs)-1] == stuck {
			bad("--timeout-webhooks leaves no webhook that answers")
		}
	}
	if o.TimeoutWebhooks+o.SlowWebhooks > 1 {
		bad("--timeout-webhooks + --slow-webhooks must not exceed 1")
	}
	switch o.Dead {
	case "", DeadRefuse, DeadTimeout:
	default:
		bad("--dead must be %s or %s", DeadRefuse, DeadTimeout)
	}
	switch {
	case o.Backlog < 0 || o.Backlog > MaxEvents:
		bad("--backlog must be 0 to %d", MaxEvents)
	case o.Backlog > 0 && o.Dead == "":
		bad("--backlog goes with --dead: it is published to the dead webhook")
	}
	if o.Verify {
		if unused := o.eventOnly(); len(unused) > 0 {
			bad("--verify measures key verification, with no events, webhooks or receiver: leave out %s", strings.Join(unused, ", "))
		}
		if o.Keys < 1 || o.Keys > MaxKeys {
			bad("--keys must be 1 to %d", MaxKeys)
		}
	}
	if o.Latency < 0 || o.SlowLatency < 0 || o.Hold < 0 {
		bad("--latency, --slow-latency and --hold must not be negative")
	}
	if o.Wait <= 0 || o.MaxTime <= 0 {
		bad("--wait and --max-time must be positive")
	}
	for _, pid := range o.DBPIDs {
		switch {
		case pid <= 0:
			bad("--db-pid %d is not a process id", pid)
		case slices.Contains(o.ServerPIDs, pid):
			bad("--db-pid %d is also a --server-pid: its CPU would be counted twice", pid)
		}
	}
	if o.Target != "" {
		if o.DB != "" || len(o.ServerFlags) > 0 || o.Nodes != 1 {
			bad("--db, --nodes and --server-flag start a local deployment: leave them out with --target")
		}
	} else {
		if len(o.ServerPIDs) > 0 {
			bad("--server-pid goes with --target: the bench knows the processes it starts")
		}
		if len(o.DBPIDs) > 0 && !pg {
			bad("--db-pid names a database server's process, and a local deployment has one only with --db postgres://…: SQLite works inside the server processes, whose CPU is server CPU")
		}
		if o.Nodes < 1 || o.Nodes > 16 {
			bad("--nodes must be 1 to 16")
		}
		if o.Nodes > 1 && !pg {
			bad("--nodes %d needs --db postgres://…: several nodes share one PostgreSQL database, not a SQLite file", o.Nodes)
		}
		if err := CheckServerFlags(o.ServerFlags); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// eventOnly lists the flags given that only shape an event run: its events,
// its webhooks and its receiver.
func (o *Options) eventOnly() []string {
	var names []string
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"--fanout", o.Fanout}, {"--ordered", o.Ordered}, {"--batch", o.Batch > 1}, {"--payload-bytes", o.PayloadBytes > 0},
		{"--hold", o.Hold > 0}, {"--dead", o.Dead != ""}, {"--backlog", o.Backlog > 0},
		{"--latency", o.Latency > 0}, {"--fail-ratio", o.FailRatio > 0},
		{"--timeout-webhooks", o.TimeoutWebhooks > 0}, {"--slow-webhooks", o.SlowWebhooks > 0},
	} {
		if f.set {
			names = append(names, f.name)
		}
	}
	return names
}
