package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/bench"
)

const benchIntro = `Usage: hookline bench [--scenario N] [flags]

An end-to-end load test, on this machine only. The bench runs a receiver on
127.0.0.1, creates webhooks pointing at it, publishes events through the
public HTTP API and measures what arrives: publish rate, delivered rate (first
publish → last receipt), publish → receipt latency (p50, p90, p99, max),
duplicates and missing deliveries, the servers' CPU time, disk writes, peak
memory and delivery counters (attempts, deferrals, recalls, from /metrics),
and with --db-pid the database server's CPU. It prints a table, and with
--json the same as JSON.

Without --target it starts a throwaway deployment: --nodes processes of this
executable running "hookline serve" on free loopback ports, on a SQLite file
in a temporary directory (removed afterwards) or the --db given, with a
generated admin key and --allow-private-targets. With --target it measures a
server already running on loopback (a Hookline, or the nullhook reference).

Each event's data is {"hlbench_seq":N}: the receiver finds it in any envelope.
Every event has an idempotency id, so a publish retried after an error is not
published twice. With --rate, latency counts from each event's scheduled time
(a slow server cannot hide its queue); otherwise from its publish request.

With --verify it measures key verification instead (POST /v1/keys/verify):
it creates a key space hlbench-<run> (four permissions, a rate limit too high
to refuse) and --keys keys over 10 tenants, then sends --events verifications
(or --rate × --duration), each of the next key in turn with a permission it
holds, and reports verifications/s, latency to the answer (from the scheduled
time with --rate), errors, and the servers' CPU per verification. No webhook,
event or receiver is involved; every answer must be 200 with code VALID.

Scenarios (--scenario N sets these flags; flags given explicitly win):
`

const benchOutro = `
Exit status: 0 when the run completed and every expected delivery arrived;
1 when a setup step failed (a server not ready, a webhook refused: the
server's answer is printed), when deliveries were still missing at the end
of the wait, or when a --verify run had verifications not answered 200 VALID;
2 for wrong flags. docs/benchmarks.md explains the method.
`

// runBench is `hookline bench`: the flags, the scenario presets, and the run.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hookline bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o bench.Options
	var pids, dbPIDs pidList
	var serverFlags stringList
	scenario := fs.Int("scenario", 0, fmt.Sprintf("preset `N` (1 to %d, listed above); flags given explicitly override it", len(bench.Scenarios)))

	fs.StringVar(&o.Target, "target", "", "base `URL` of a running server to measure, on loopback (e.g. http://127.0.0.1:8080); empty: start a local deployment")
	fs.StringVar(&o.APIKey, "api-key", "", "API key with webhooks:write and events:write (admin for --hold and --verify) (env HOOKLINE_API_KEY); with a local deployment, its admin key (generated when empty)")
	fs.Var(&pids, "server-pid", "with --target: `PID` of a server process whose CPU and memory to report; repeat it or give a comma-separated list")
	fs.Var(&dbPIDs, "db-pid", "with --target or --db postgres://…: `PID` of the database server whose CPU, with its descendants' (PostgreSQL's backends, those that exit included), to report as database CPU and add to server CPU; for PostgreSQL its postmaster: --db-pid $(head -1 $PGDATA/postmaster.pid); repeat it or give a comma-separated list")
	fs.IntVar(&o.Nodes, "nodes", 1, "local deployment: number of serve processes; publishes are spread over them round-robin (more than 1 needs --db postgres://…)")
	fs.StringVar(&o.DB, "db", "", "local deployment: the database, a SQLite file or a postgres:// `URL` (the bench generates HOOKLINE_SECRET_KEY unless set); empty: SQLite in a temporary directory")
	fs.Var(&serverFlags, "server-flag", "local deployment: `name=value` passed to serve as --name=value, e.g. workers=128; repeatable (the bench sets addr, db, admin-key, allow-private-targets, and shutdown-timeout=5s unless given)")

	fs.IntVar(&o.Webhooks, "webhooks", 1, "webhooks to create, each at its own path of the receiver")
	fs.BoolVar(&o.Ordered, "ordered", false, "create the webhooks with ordered delivery (one attempt at a time per webhook, in publish order); with --hold, measures how fast an ordered backlog drains")
	fs.BoolVar(&o.Fanout, "fanout", false, "put every webhook in one tenant so that each event goes to all of them (the server's --max-webhooks-per-tenant, default 50, must allow it; a local deployment gets it raised); otherwise webhook k has a tenant of its own and events go round-robin, one delivery each")
	fs.IntVar(&o.Events, "events", 10000, "events to publish in all, or verifications with --verify (with --rate and --duration: rate × duration)")
	fs.Float64Var(&o.Rate, "rate", 0, "fixed publishing rate in `events/s`, or verifications/s with --verify (latency then counts from each one's scheduled time); 0: as fast as the publishers go")
	duration := fs.Duration("duration", 0, "with --rate: publish (or verify) for this long (sets --events to rate × duration)")
	fs.IntVar(&o.Concurrency, "concurrency", 16, "publishing (or verifying) goroutines, each with its own keep-alive connection")
	fs.IntVar(&o.Batch, "batch", 1, "events per publish request: 0 or 1 POST /v1/events each; above 1 POST /v1/events/batch")
	fs.IntVar(&o.PayloadBytes, "payload-bytes", 0, "pad each event's data to about this many bytes")
	fs.DurationVar(&o.Hold, "hold", 0, "backlog test: create a profile (a copy of standard) whose first attempt waits this long, and put the webhooks on it: the deliveries pile up pending, then come due together; the report gives the drain rate (needs a Hookline server with an admin key)")

	fs.StringVar(&o.Dead, "dead", "", "add one webhook, in a tenant of its own, whose endpoint never succeeds: `KIND` refuse (a loopback port with nothing listening: connection refused) or timeout (the receiver accepts and never answers; the server gives up after its --timeout, 30s by default); its deliveries are not expected, and the healthy webhooks' latency is shown apart")
	fs.IntVar(&o.Backlog, "backlog", 0, "with --dead: publish this many events to the dead webhook before the measured phase, as fast as the server takes them, in batches of 1,000 (POST /v1/events/batch); the load and every figure but the backlog line come after")

	fs.BoolVar(&o.Verify, "verify", false, "measure key verification instead of events: create a key space (name hlbench-<run>) and --keys keys, then send --events verifications (POST /v1/keys/verify) at --rate with --concurrency goroutines, each of the next key in turn asking a permission it holds (needs a Hookline server with key spaces and an admin key); the event, webhook and receiver flags do not apply")
	fs.IntVar(&o.Keys, "keys", bench.DefaultKeys, fmt.Sprintf("with --verify: keys to create and verify round-robin, for tenants spread over 10 (1 to %d)", bench.MaxKeys))

	fs.DurationVar(&o.Latency, "latency", 0, "receiver: time before answering each request")
	fs.Float64Var(&o.FailRatio, "fail-ratio", 0, "receiver: fraction of requests answered 500 (the server retries them; a delivery counts once a later attempt gets 2xx)")
	fs.Float64Var(&o.TimeoutWebhooks, "timeout-webhooks", 0, "receiver: fraction of webhooks whose requests are never answered (held until the server gives up); their deliveries are not expected")
	fs.Float64Var(&o.SlowWebhooks, "slow-webhooks", 0, "receiver: fraction of webhooks answered after --slow-latency; the report shows healthy webhooks apart")
	fs.DurationVar(&o.SlowLatency, "slow-latency", 500*time.Millisecond, "receiver: answer time of the slow webhooks")

	fs.DurationVar(&o.Wait, "wait", 60*time.Second, "after publishing (and --hold), how long to wait for the deliveries still expected without any arriving: the wait goes on while they keep arriving (up to --max-time), and what is still missing is reported only after this long with none")
	fs.DurationVar(&o.MaxTime, "max-time", 10*time.Minute, "the whole run stops after this long, reporting what it has")
	jsonOut := fs.String("json", "", "also write the report as JSON to this `file` (- for stdout; the table then goes to stderr)")
	fs.Usage = func() {
		fmt.Fprint(stderr, benchIntro+bench.ScenarioHelp()+"\nFlags:\n")
		fs.PrintDefaults()
		fmt.Fprint(stderr, benchOutro)
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	explicit, err := bench.ApplyScenario(fs, *scenario)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	switch {
	case *duration < 0:
		return fmt.Errorf("%w: --duration must not be negative", errUsage)
	case *duration > 0 && o.Rate <= 0:
		return fmt.Errorf("%w: --duration goes with --rate (events per second)", errUsage)
	case *duration > 0 && explicit["events"] && explicit["duration"]:
		return fmt.Errorf("%w: with --rate, give --events or --duration, not both", errUsage)
	case *duration > 0:
		o.Events = int(math.Round(o.Rate * duration.Seconds()))
	}
	if err := verifyFlags(o.Verify, o.Keys, explicit); err != nil {
		return err
	}
	if o.APIKey == "" {
		o.APIKey = os.Getenv("HOOKLINE_API_KEY")
	}
	o.ServerPIDs, o.DBPIDs, o.ServerFlags, o.Scenario, o.Version, o.Progress = pids, dbPIDs, serverFlags, *scenario, Version, stderr
	if err := o.Check(); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}

	rep, err := bench.Run(ctx, o)
	if err != nil {
		return err
	}
	table := stdout
	if *jsonOut == "-" {
		table = stderr
	}
	if err := rep.WriteTable(table); err != nil {
		return err
	}
	if *jsonOut != "" {
		if err := rep.WriteJSON(*jsonOut, stdout); err != nil {
			return fmt.Errorf("--json: %w", err)
		}
	}
	if n := rep.Deliveries.Missing; n > 0 {
		return fmt.Errorf("%d of %d expected deliveries missing at the end of the wait", n, rep.Deliveries.Expected)
	}
	if v := rep.Verify; v != nil && v.Errors > 0 {
		return fmt.Errorf("%d of %d verifications not answered 200 VALID", v.Errors, v.Verifications)
	}
	return nil
}

// verifyFlags refuses flags given explicitly that do not apply: --keys
// without --verify, and with it the flags of webhooks and of the wait for
// deliveries that bench.Options cannot tell from their defaults (Check
// refuses the others), and --keys 0, which Options would take for the
// default.
func verifyFlags(verify bool, keys int, explicit map[string]bool) error {
	if !verify {
		if explicit["keys"] {
			return fmt.Errorf("%w: --keys goes with --verify", errUsage)
		}
		return nil
	}
	if keys == 0 {
		return fmt.Errorf("%w: --keys must be 1 to %d", errUsage, bench.MaxKeys)
	}
	var unused []string
	for _, name := range []string{"webhooks", "slow-latency", "wait"} {
		if explicit[name] {
			unused = append(unused, "--"+name)
		}
	}
	if len(unused) > 0 {
		return fmt.Errorf("%w: --verify measures key verification, with no events, webhooks or receiver: leave out %s", errUsage, strings.Join(unused, ", "))
	}
	return nil
}

// pidList is a repeatable flag of process ids, also comma-separated.
type pidList []int

func (p *pidList) String() string { return fmt.Sprint([]int(*p)) }

func (p *pidList) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		pid, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || pid <= 0 {
			return fmt.Errorf("%q is not a process id", s)
		}
		*p = append(*p, pid)
	}
	return nil
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, " ") }

func (l *stringList) Set(v string) error {
	*l = append(*l, v)
	return nil
}
