// Package bench is `hookline bench`: an end-to-end load test of a Hookline
// deployment (or of any server speaking the same two API calls, such as the
// nullhook reference). It runs its own receiver on loopback, creates the
// webhooks, publishes through the public HTTP API and measures what reaches the
// receiver: rates, publish → receipt latency, duplicates and losses, and the
// servers' CPU and memory. With Options.Verify it measures the verification
// of a product's API keys (POST /v1/keys/verify) instead: see verify.go.
package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"slices"
	"time"
)

// Run performs one run and returns its report. An error means a step before or
// around the load failed (a server that did not start, a webhook refused, a
// publish refused for a reason retrying cannot fix): there is nothing to report.
// Missing deliveries are not an error; they are in the report.
func Run(ctx context.Context, o Options) (rep *Report, err error) {
	if err := o.Check(); err != nil {
		return nil, err
	}
	if o.Verify {
		return runVerify(ctx, o)
	}
	runCtx, cancel := context.WithTimeout(ctx, o.MaxTime)
	defer cancel()

	c := newClock()
	runID := newRunID()
	cs := classes(o.Webhooks, o.TimeoutWebhooks, o.SlowWebhooks)
	d := newDeliveries(o.Webhooks, o.Events, o.Fanout)
	rc, err := startReceiver(c, d, cs, o)
	if err != nil {
		return nil, fmt.Errorf("starting the receiver: %w", err)
	}
	defer rc.close()
	var dead *deadEndpoint
	if o.Dead != "" {
		if dead, err = startDead(o.Dead, rc); err != nil {
			return nil, fmt.Errorf("--dead %s: %w", o.Dead, err)
		}
		defer dead.release() // after the servers have stopped
	}
	rep = newReport(runID, o)

	api := newClient(o.APIKey, o.Concurrency)
	srv, err := startServers(runCtx, o, api)
	if srv != nil {
		defer func() { err = srv.stop(rc, rep, err) }()
	}
	if err != nil {
		return nil, err
	}
	bases, pids := srv.bases, srv.pids
	rep.Target.Local, rep.Target.URL, rep.Target.Nodes, rep.Target.PIDs = srv.dep != nil, bases[0], bases, pids

	profile := ""
	var ids []string
	if o.Hold > 0 {
		profile = "hlbench-" + runID
		if err := createHoldProfile(runCtx, api, bases[0], profile, o.Hold); err != nil {
			return nil, err
		}
	}
	if o.Target != "" || o.DB != "" { // the database outlives the run: leave no webhook retrying to a dead receiver
		defer func() {
			cerr := cleanup(context.Background(), api, bases[0], ids, profile)
			switch {
			case cerr == nil:
			case rep == nil: // the run failed: say both
				err = errors.Join(err, fmt.Errorf("removing the run's webhooks from the server: %w", cerr))
			default:
				rep.Warnings = append(rep.Warnings, "removing the run's webhooks from the server: "+cerr.Error())
			}
		}()
	}
	ids, err = createWebhooks(runCtx, api, bases[0], rc, o, runID, profile)
	if err != nil {
		return nil, err
	}
	if first := answering(cs); first < len(ids) {
		if err := checkDelivery(runCtx, api, bases[0], ids[first]); err != nil {
			return nil, err
		}
	}

	if dead != nil {
		id, err := createDeadWebhook(runCtx, api, bases[0], dead.url, o, runID)
		if id != "" {
			ids = append(ids, id)
		}
		if err != nil {
			return nil, err
		}
	}
	if o.Backlog > 0 {
		if err := publishBacklog(runCtx, c, api, bases, runID, o, rc, rep); err != nil {
			return nil, err
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("interrupted: %w", context.Cause(ctx))
		}
	}

	// The measured phase: the load, and the wait for its deliveries. The
	// servers' counters are read even when the run's time is up.
	scrapeCtx := context.WithoutCancel(ctx)
	scrape := func(ctx context.Context) (Counters, error) { return scrapeCounters(ctx, api, bases) }
	m := startMeasuring(scrapeCtx, pids, o.DBPIDs, scrape)
	pub := newPublisher(c, api, bases, runID, o)
	stopProgress := reportProgress(o.Progress, "published", o.Events, &pub.load, d, rc)
	pub.run(runCtx, o.Concurrency)
	expected, notExpected := expectedDeliveries(pub.accepted, cs, o.Fanout)
	var waited time.Duration
	if pub.fatal == nil && ctx.Err() == nil {
		waited = waitForDeliveries(runCtx, d, expected, o.Hold, o.Wait)
	}
	stopProgress()
	m.finish(scrapeCtx, rep, d.received.Load())
	switch {
	case pub.fatal != nil:
		return nil, pub.fatal
	case ctx.Err() != nil:
		return nil, fmt.Errorf("interrupted: %w", context.Cause(ctx))
	case runCtx.Err() != nil:
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("--max-time %s ended the run before it was complete", o.MaxTime))
	}
	rep.Deliveries.Expected, rep.Deliveries.NotExpected = expected, notExpected
	rep.Deliveries.WaitSeconds = round3(waited.Seconds())
	fillReport(rep, o, pub, d, rc, cs)
	return rep, nil
}

// servers are the API base URLs and processes measured: a target's, or a local
// deployment's.
type servers struct {
	bases []string
	pids  []int
	dep   *deployment // nil for a target
}

// startServers checks the target, or starts the local deployment. On an error
// the servers returned, when not nil, must still be stopped.
func startServers(ctx context.Context, o Options, api *client) (*servers, error) {
	if err := checkDBPIDs(o.DBPIDs); err != nil {
		return nil, err
	}
	if o.Target == "" {
		dep, err := startLocal(ctx, o, api)
		if dep == nil {
			return nil, err
		}
		api.key = dep.adminKey
		s := &servers{bases: dep.bases(), pids: dep.pids(), dep: dep}
		if err == nil {
			err = checkDBTrees(o.DBPIDs, s.pids)
		}
		return s, err
	}
	base, err := LoopbackURL(o.Target)
	if err != nil {
		return nil, fmt.Errorf("--target: %w", err)
	}
	if err := api.awaitReady(ctx, base, 5*time.Second, nil); err != nil {
		return nil, fmt.Errorf("--target: %w", err)
	}
	for _, pid := range o.ServerPIDs {
		if _, err := ProcCPU(pid); err != nil {
			return nil, fmt.Errorf("--server-pid %d: %w", pid, err)
		}
	}
	if err := checkDBTrees(o.DBPIDs, o.ServerPIDs); err != nil {
		return nil, err
	}
	return &servers{bases: []string{base}, pids: o.ServerPIDs}, nil
}

// checkDBPIDs refuses a --db-pid that names no process. Without Linux's
// /proc there is nothing to check: the report says the database CPU could
// not be read.
func checkDBPIDs(dbPIDs []int) error {
	if runtime.GOOS != "linux" {
		return nil
	}
	for _, pid := range dbPIDs {
		if _, err := ProcCPU(pid); errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("--db-pid %d: no such process: is the database server running? (PostgreSQL's is the first line of $PGDATA/postmaster.pid): %w", pid, err)
		} else if err != nil {
			return fmt.Errorf("--db-pid %d: %w", pid, err)
		}
	}
	return nil
}

// checkDBTrees refuses a --db-pid whose descendants include the bench or a
// server measured (a shell's pid given by mistake, say): their CPU would be
// counted as the database's.
func checkDBTrees(dbPIDs, serverPIDs []int) error {
	if len(dbPIDs) == 0 || runtime.GOOS != "linux" {
		return nil
	}
	procs, err := readProcs()
	if err != nil {
		return fmt.Errorf("--db-pid: %w", err)
	}
	for _, root := range dbPIDs {
		members, err := procTree(procs, []int{root})
		if err != nil {
			return fmt.Errorf("--db-pid %d: %w", root, err)
		}
		for _, pid := range members {
			switch {
			case pid == os.Getpid():
				return fmt.Errorf("--db-pid %d: the bench itself is among its descendants: give the database server's process (PostgreSQL: the first line of $PGDATA/postmaster.pid)", root)
			case slices.Contains(serverPIDs, pid):
				return fmt.Errorf("--db-pid %d: its process tree holds server process %d: give the database server's process (PostgreSQL: the first line of $PGDATA/postmaster.pid)", root, pid)
			}
		}
	}
	return nil
}

// stop ends a local deployment, after the receiver if any (attempts it holds
// end at once), and removes its directory unless something went wrong: then
// its logs are kept and named. It returns the run's error, completed.
func (s *servers) stop(rc *receiver, rep *Report, err error) error {
	if s.dep == nil {
		return err
	}
	if rc != nil {
		rc.close()
	}
	stopErr := s.dep.stop(15 * time.Second)
	switch {
	case len(s.dep.nodes) == 0: // none started: no logs to keep
		s.dep.remove()
		return err
	case err != nil || stopErr != nil:
		return fmt.Errorf("%w\nserver logs (kept): %s", errors.Join(err, stopErr), s.dep.logs())
	case rep.Deliveries.Missing > 0 || rep.Verify != nil && rep.Verify.Errors > 0:
		rep.Warnings = append(rep.Warnings, "server logs (kept): "+s.dep.logs())
	default:
		s.dep.remove()
	}
	return nil
}

func newRunID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// answering is the first webhook that answers (timeout webhooks come first).
func answering(cs []class) int {
	for k, c := range cs {
		if c != stuck {
			return k
		}
	}
	return len(cs)
}

// expectedDeliveries counts the deliveries of the accepted events, and apart
// those to timeout webhooks, which can never arrive.
func expectedDeliveries(accepted []bool, cs []class, fanout bool) (expected, toTimeout int64) {
	stuckN := int64(answering(cs))
	for seq, ok := range accepted {
		switch {
		case !ok:
		case fanout:
			expected += int64(len(cs)) - stuckN
			toTimeout += stuckN
		case cs[seq%len(cs)] == stuck:
			toTimeout++
		default:
			expected++
		}
	}
	return expected, toTimeout
}

// waitForDeliveries returns once expected deliveries arrived, ctx ended (the
// run's --max-time), or no delivery arrived for idle: a slow drain is waited
// for as long as it makes progress, and only a stall ends the wait early.
// Nothing is expected before hold has passed, so the idle time counts from
// then at the earliest. It returns how long it waited.
func waitForDeliveries(ctx context.Context, d *deliveries, expected int64, hold, idle time.Duration) time.Duration {
	begin := time.Now()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	seen, progress := d.received.Load(), begin.Add(hold)
	for seen < expected {
		select {
		case <-ctx.Done():
			return time.Since(begin)
		case now := <-tick.C:
			if n := d.received.Load(); n > seen {
				seen, progress = n, now
				continue
			}
			if now.Sub(progress) >= idle {
				return time.Since(begin)
			}
		}
	}
	return time.Since(begin)
}

func newReport(runID string, o Options) *Report {
	return &Report{
		RunID: runID, Date: time.Now().UTC().Truncate(time.Second), Version: o.Version, GoVersion: runtime.Version(),
		GOMAXPROCS: runtime.GOMAXPROCS(0), NumCPU: runtime.NumCPU(), CPUModel: cpuModel(),
		Params: Params{
			Scenario: o.Scenario, Webhooks: o.Webhooks, Fanout: o.Fanout, Events: o.Events, Rate: o.Rate,
			Concurrency: o.Concurrency, Batch: o.Batch, PayloadBytes: o.PayloadBytes, Hold: o.Hold.String(),
			Dead: o.Dead, Backlog: o.Backlog, Verify: o.Verify, Keys: keysParam(o),
			Latency: o.Latency.String(), FailRatio: o.FailRatio, TimeoutWebhooks: o.TimeoutWebhooks,
			SlowWebhooks: o.SlowWebhooks, SlowLatency: o.SlowLatency.String(), Wait: o.Wait.String(),
			MaxTime: o.MaxTime.String(), Nodes: o.Nodes, ServerFlags: append([]string{}, o.ServerFlags...),
		},
		Target:   Target{DB: localDB(o)},
		Warnings: []string{},
	}
}

func localDB(o Options) string {
	switch {
	case o.Target != "":
		return ""
	case o.DB == "":
		return "sqlite (temporary)"
	case isPostgres(o.DB):
		return "postgres"
	}
	return "sqlite " + o.DB
}

func keysParam(o Options) int {
	if o.Verify {
		return o.Keys
	}
	return 0
}
