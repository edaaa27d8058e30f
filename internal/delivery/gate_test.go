package delivery

import (
	"fmt"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

func jobFor(webhook, id string) job {
	return job{delivery: hookline.Delivery{ID: id, WebhookID: webhook}}
}

// inFlightAt makes a gate's attempts in flight, all started at t.
func inFlightAt(t time.Time, n int) []inflight {
	out := make([]inflight, n)
	for i := range out {
		out[i].start = t
	}
	return out
}

func startedIDs(js []job) []string {
	var ids []string
	for _, j := range js {
		ids = append(ids, j.delivery.ID)
	}
	return ids
}

func TestGateAdmitsUpToTheLimitThenParks(t *testing.T) {
	t.Parallel()
	g := newGates(16, 16)
	now := time.Now()
	for i := range 2 {
		if run, _ := admitted(g, jobFor("wh_a", "d"+string(rune('0'+i))), now); !run {
			t.Fatalf("job %d: parked or deferred under the initial limit of 2", i)
		}
	}
	run, until := admitted(g, jobFor("wh_a", "d2"), now)
	if run || !until.IsZero() {
		t.Fatalf("third job: got run %v, defer until %v; want parked", run, until)
	}
	// Another webhook is not affected.
	if run, _ := admitted(g, jobFor("wh_b", "x"), now); !run {
		t.Fatal("another webhook's job was held back")
	}
	// A success frees a slot and starts the parked job; the limit grows.
	r := g.done("wh_a", signal{success: true, duration: time.Millisecond, started: now}, now)
	if got := startedIDs(r.start); len(got) != 1 || got[0] != "d2" || r.deferred != nil {
		t.Fatalf("done: got %+v; want d2 started", r)
	}
	if gt := g.m["wh_a"]; gt.limit != 3 || len(gt.inFlight) != 2 {
		t.Errorf("after a success: limit %v, in flight %d; want 3, 2", gt.limit, len(gt.inFlight))
	}
}

// When an attempt ends, parked jobs fill every free slot, not one: a limit
// that grew must not leave slots idle.
func TestGateFillsEveryFreeSlot(t *testing.T) {
	t.Parallel()
	g := newGates(16, 100)
	now := time.Now()
	gt := g.get("wh", now)
	gt.limit, gt.latency = 1, time.Millisecond
	admitted(g, jobFor("wh", "a"), now)
	for _, id := range []string{"p1", "p2", "p3", "p4"} {
		if run, until := admitted(g, jobFor("wh", id), now); run || !until.IsZero() {
			t.Fatalf("%s: got run %v, until %v; want parked", id, run, until)
		}
	}
	gt.limit = 3 // grown meanwhile, by other successes
	r := g.done("wh", signal{success: true, duration: time.Millisecond, started: now}, now)
	if got := startedIDs(r.start); len(got) != 4 || got[0] != "p1" || got[3] != "p4" {
		t.Errorf("done with 4 free slots: got started %v, want p1..p4", got)
	}
}

func TestGateHalvesOnOverloadAndGrowsBack(t *testing.T) {
	t.Parallel()
	g := newGates(16, 16)
	now := time.Now()
	gt := g.get("wh", now)
	gt.limit = 16
	for _, want := range []float64{8, 4, 2, 1, 1} {
		gt.inFlight = append(gt.inFlight, inflight{start: now})
		g.done("wh", signal{overload: true, duration: time.Second, started: now}, now)
		if gt.limit != want {
			t.Fatalf("limit after overload: got %v, want %v", gt.limit, want)
		}
	}
	for range 30 {
		gt.inFlight = append(gt.inFlight, inflight{start: now})
		g.done("wh", signal{success: true, duration: time.Millisecond, started: now}, now)
	}
	if gt.limit != 16 {
		t.Errorf("limit after 30 successes: got %v, want the maximum 16", gt.limit)
	}
	// A failure that is not overload (say 500) leaves the limit alone, and the
	// zero signal (an attempt not sent, or not to be trusted) the latency too.
	gt.inFlight = append(gt.inFlight, inflight{start: now})
	g.done("wh", signal{duration: time.Millisecond, started: now}, now)
	if gt.limit != 16 {
		t.Errorf("limit after a plain failure: got %v, want 16", gt.limit)
	}
	latency := gt.latency
	gt.inFlight = append(gt.inFlight, inflight{start: now})
	g.done("wh", signal{started: now}, now)
	if gt.limit != 16 || gt.latency != latency {
		t.Errorf("after the zero signal: limit %v, latency %s; want 16, %s", gt.limit, gt.latency, latency)
	}
}

func TestGateDefersWhenASlowWebhookIsFull(t *testing.T) {
	t.Parallel()
	g := newGates(16, 16)
	now := time.Now()
	gt := g.get("wh", now)
	gt.limit, gt.inFlight, gt.latency = 1, inFlightAt(now, 1), 30*time.Second // a webhook that times out
	run, until := admitted(g, jobFor("wh", "d"), now)
	if run || until.IsZero() {
		t.Fatalf("got run %v, until %v; want deferred (parking would outlive the lease)", run, until)
	}
	if d := until.Sub(now); d != 30*time.Second {
		t.Errorf("deferred by %s, want the webhook's pace, 30s", d)
	}
	// The next ones are spaced a slot (30 s) apart, however far that goes: a
	// free slot recalls them sooner.
	_, second := admitted(g, jobFor("wh", "d2"), now)
	_, third := admitted(g, jobFor("wh", "d3"), now)
	if second.Sub(until) != 30*time.Second || third.Sub(second) != 30*time.Second {
		t.Errorf("second and third: %s and %s after the one before, want 30s each", second.Sub(until), third.Sub(second))
	}

	// A fast webhook parks up to maxParked, then defers.
	gt = g.get("fast", now)
	gt.limit, gt.inFlight, gt.latency = 1, inFlightAt(now, 1), time.Millisecond
	for i := range g.maxParked {
		if run, until := admitted(g, jobFor("fast", "p"), now); run || !until.IsZero() {
			t.Fatalf("job %d: got run %v, until %v; want parked", i, run, until)
		}
	}
	if _, until := admitted(g, jobFor("fast", "over"), now); until.IsZero() {
		t.Error("job past maxParked: parked, want deferred")
	}
}

// The slow endpoint: a burst parked at first, a slow first answer.
// The jobs that can start within maxParkWait stay parked; only those further
// back go to the store, each due at its turn, and none is pushed a minute
// ahead as the whole line once was.
func TestGateDefersOnlyTheBackOfTheLine(t *testing.T) {
	t.Parallel()
	g := newGates(64, 1000)
	now := time.Now()
	admitted(g, jobFor("wh", "a"), now)
	admitted(g, jobFor("wh", "b"), now)
	for i := range 300 {
		if run, until := admitted(g, jobFor("wh", "p"+string(rune('A'+i%26))), now); run || !until.IsZero() {
			t.Fatalf("job %d of the burst: got run %v, until %v; want parked (nothing known yet)", i, run, until)
		}
	}
	later := now.Add(3 * time.Second) // each answer takes 3 s
	r := g.done("wh", signal{success: true, duration: 3 * time.Second, started: now}, later)
	gt := g.m["wh"]
	// limit 3 after the success, one still in flight: two start now.
	if len(r.start) != 2 {
		t.Errorf("started %d, want 2 (the limit of 3, less the one in flight)", len(r.start))
	}
	if len(gt.parked)+len(r.start)+len(r.deferred) != 300 {
		t.Fatalf("jobs lost: parked %d + started %d + deferred %d, want 300", len(gt.parked), len(r.start), len(r.deferred))
	}
	for i, d := range r.deferred {
		want := later.Add(time.Duration(float64(3*time.Second) * float64(len(gt.parked)+i+1) / 3))
		if !d.until.Equal(want) {
			t.Fatalf("deferral %d: due %s after, want its turn at the pace, %s", i, d.until.Sub(later), want.Sub(later))
		}
	}
}

// A free slot with nothing parked, on a webhook that deferred jobs, asks for
// them back rather than idling until their estimated time.
func TestGateRecallsWhenASlotIsFree(t *testing.T) {
	t.Parallel()
	g := newGates(16, 16)
	now := time.Now()
	gt := g.get("wh", now)
	gt.limit, gt.inFlight, gt.latency = 2, inFlightAt(now, 2), 30*time.Second
	if _, until := admitted(g, jobFor("wh", "d"), now); until.IsZero() {
		t.Fatal("want deferred")
	}
	g.deferWritten("wh", 1) // the deferral reached the store
	r := g.done("wh", signal{success: true, duration: time.Second, started: now}, now.Add(time.Second))
	if r.recall != 2 {
		t.Errorf("recall with 2 free slots: got %d, want 2", r.recall)
	}
	g.recalled("wh", 2, 1, r.recallGen) // one was left in the store: none now
	gt.inFlight = append(gt.inFlight, inflight{start: now})
	if r := g.done("wh", signal{success: true, duration: time.Second, started: now}, now.Add(2*time.Second)); r.recall != 0 {
		t.Errorf("recall once the store had none left: got %d, want 0", r.recall)
	}
	// A webhook this process knows nothing of asks once (a previous process,
	// or another node, may have deferred some), and not again once told none.
	admitted(g, jobFor("other", "x"), now)
	r = g.done("other", signal{success: true, duration: time.Second, started: now}, now)
	if r.recall == 0 {
		t.Error("no recall on a webhook new to this process, want one")
	}
	g.recalled("other", 3, 0, r.recallGen)
	admitted(g, jobFor("other", "y"), now)
	if r := g.done("other", signal{success: true, duration: time.Second, started: now}, now); r.recall != 0 {
		t.Errorf("recall once the store had none: got %d, want 0", r.recall)
	}
}

// A recall that runs while deferrals are on their way to the store (decided,
// their hand-back not yet written) finds fewer than it asked for, which does
// not mean none is left: the recall is made again once they are written, and
// the webhook keeps recalling at the end of its attempts until one finds
// fewer with none on the way. (The flake of TestDeferredDeliveriesAreRecalled:
// a recall of 5 of 24 deferrals, the rest left for their estimated time.)
func TestGateRecallsDeferralsOnTheirWay(t *testing.T) {
	t.Parallel()
	g := newGates(16, 16)
	now := time.Now()
	gt := g.get("wh", now)
	gt.limit, gt.inFlight, gt.latency = 2, inFlightAt(now, 2), 30*time.Second
	deferOne := func(id string) {
		t.Helper()
		gt.inFlight = inFlightAt(now, int(gt.limit)) // full: the job is deferred
		if _, until := admitted(g, jobFor("wh", id), now); until.IsZero() {
			t.Fatalf("%s: want deferred", id)
		}
	}
	// An attempt ends with slots free: a recall of as many.
	end := func(at time.Duration) doneResult {
		t.Helper()
		gt.inFlight = inFlightAt(now, 1)
		r := g.done("wh", signal{success: true, duration: time.Second, started: now}, now.Add(at))
		if r.recall == 0 {
			t.Fatalf("%s: no recall with free slots, want one", at)
		}
		return r
	}
	for _, id := range []string{"a", "b", "c"} {
		deferOne(id)
	}
	g.deferWritten("wh", 1) // "a" is in the store; "b" and "c" are on their way
	// A recall that runs before "b" and "c" are written finds only "a".
	r := end(time.Second)
	if again, _ := g.recalled("wh", r.recall, 1, r.recallGen); again != 0 {
		t.Errorf("deferrals still on their way: got a recall again of %d at once, want it when they are written", again)
	}
	if n, _ := g.deferWritten("wh", 1); n != 0 {
		t.Errorf("one deferral still on its way: got a recall of %d, want none yet", n)
	}
	n, gen := g.deferWritten("wh", 1)
	if n == 0 {
		t.Fatal("the deferrals a recall missed are written: got no recall, want one")
	}
	g.recalled("wh", n, n, gen) // as many as asked: there may be more
	if n, _ := g.deferWritten("wh", 0); n != 0 {
		t.Errorf("nothing missed since: got a recall of %d, want none", n)
	}
	if !gt.deferred {
		t.Fatal("a recall that found fewer while deferrals were on their way ended the recalls, want them to go on")
	}
	// A recall that finds fewer with none on the way, and no deferral since
	// it was decided, ends the recalls.
	r = end(2 * time.Second)
	g.recalled("wh", r.recall, 0, r.recallGen)
	gt.inFlight = inFlightAt(now, 1)
	if r := g.done("wh", signal{success: true, duration: time.Second, started: now}, now.Add(3*time.Second)); r.recall != 0 {
		t.Errorf("recall once the store had none left and none was on its way: got %d, want 0", r.recall)
	}
	// A deferral decided before a recall, and written while it runs (on
	// PostgreSQL the recall skips the rows being written): not found, and
	// not to be taken for none left.
	deferOne("w")
	r = end(3500 * time.Millisecond)
	g.deferWritten("wh", 1) // written while the recall ran
	again, _ := g.recalled("wh", r.recall, 0, r.recallGen)
	if again == 0 || !gt.deferred {
		t.Errorf("a deferral written while the recall ran: got a recall again of %d, deferred %v; want one, and the recalls to go on", again, gt.deferred)
	}
	// A deferral decided and written while a recall runs: the recall is made
	// again at once.
	deferOne("d")
	g.deferWritten("wh", 1)
	r = end(4 * time.Second)
	deferOne("e") // deferred while the recall runs…
	g.deferWritten("wh", 1)
	gt.inFlight = inFlightAt(now, 1)
	again, _ = g.recalled("wh", r.recall, 0, r.recallGen) // …and written before its answer
	if again == 0 {
		t.Error("a deferral made and written during the recall: got no recall again, want one")
	}
	if !gt.deferred {
		t.Error("a deferral made during the recall: the webhook no longer recalls, want it to")
	}
}

// An answered attempt's age is not the endpoint's: a store that is slow to
// record outcomes (a frozen disk) does not make the webhook look slow.
func TestGateAnsweredAttemptsDoNotAge(t *testing.T) {
	t.Parallel()
	g := newGates(16, 1000)
	now := time.Now()
	admitted(g, jobFor("wh", "a"), now)
	admitted(g, jobFor("wh", "b"), now)
	g.responded("wh", now) // both answered at once...
	g.responded("wh", now)
	later := now.Add(5 * time.Second) // ...and their outcomes wait on the store
	if run, until := admitted(g, jobFor("wh", "c"), later); run || !until.IsZero() {
		t.Errorf("got run %v, until %v; want parked (the endpoint answered quickly)", run, until)
	}
}

func TestGatePauseDefersParkedAndNewJobs(t *testing.T) {
	t.Parallel()
	g := newGates(16, 16)
	now := time.Now()
	admitted(g, jobFor("wh", "a"), now)
	admitted(g, jobFor("wh", "b"), now)
	admitted(g, jobFor("wh", "c"), now) // parked
	pause := now.Add(3 * time.Second)
	r := g.done("wh", signal{overload: true, pause: pause, started: now}, now)
	if len(r.start) != 0 || len(r.deferred) != 1 || r.deferred[0].job.delivery.ID != "c" || !r.deferred[0].until.Equal(pause) {
		t.Fatalf("done with a pause: got %+v; want c deferred until %v", r, pause)
	}
	// Jobs deferred one after another come back spaced at the webhook's pace.
	run, until := admitted(g, jobFor("wh", "d"), now.Add(time.Second))
	if run || !until.After(pause) || until.After(pause.Add(time.Minute)) {
		t.Errorf("during the pause: got run %v, until %v; want deferred to just after %v", run, until, pause)
	}
	g.done("wh", signal{success: true, started: now}, pause) // b ends
	if run, _ := admitted(g, jobFor("wh", "e"), pause); !run {
		t.Error("after the pause: held back, want run")
	}
}

func TestGateDrainAndSweep(t *testing.T) {
	t.Parallel()
	g := newGates(1, 16)
	now := time.Now()
	admitted(g, jobFor("wh", "a"), now)
	admitted(g, jobFor("wh", "b"), now) // parked
	if js := g.drain(); len(js) != 1 || js[0].delivery.ID != "b" {
		t.Fatalf("drain: got %v, want b", js)
	}
	g.done("wh", signal{success: true, started: now}, now)
	later := now.Add(2 * idleGate)
	admitted(g, jobFor("other", "x"), later)
	g.done("other", signal{started: later}, later) // sweeps
	if _, ok := g.m["wh"]; ok {
		t.Error("an idle webhook's state was kept past idleGate")
	}
}

func TestGateHangingAttemptsMakeAWebhookSlow(t *testing.T) {
	t.Parallel()
	g := newGates(16, 1000)
	now := time.Now()
	admitted(g, jobFor("wh", "a"), now)
	admitted(g, jobFor("wh", "b"), now)
	// Nothing has come back yet: a job is parked while the attempts are young...
	if run, until := admitted(g, jobFor("wh", "c"), now.Add(100*time.Millisecond)); run || !until.IsZero() {
		t.Fatalf("young attempts: got run %v, until %v; want parked", run, until)
	}
	// ...and deferred once they have hung for longer than a job may be parked.
	later := now.Add(3 * time.Second)
	run, until := admitted(g, jobFor("wh", "d"), later)
	if run || !until.After(later.Add(maxParkWait)) {
		t.Errorf("hanging attempts: got run %v, until %v; want deferred past %v", run, until, later.Add(maxParkWait))
	}
	// When one ends with a timeout, the limit halves to the one still hanging,
	// and c, parked early, would now wait too long: it is deferred too.
	r := g.done("wh", signal{overload: true, duration: 3 * time.Second, started: now}, later)
	if len(r.start) != 0 || len(r.deferred) != 1 || r.deferred[0].job.delivery.ID != "c" {
		t.Errorf("after a timeout: got %+v; want c deferred", r)
	}
}

// admitted is admit told as whether the job runs now, with its deferral time.
func admitted(g *gates, j job, now time.Time) (bool, time.Time) {
	a, until := g.admit(j, now)
	return a == admitRun, until
}

// A webhook whose attempts keep failing has its circuit opened: its jobs are
// held, one probe at a time goes through when one is due, and the first answer
// closes it and recalls what was held.
func TestGateCircuit(t *testing.T) {
	t.Parallel()
	g := newGates(16, 16)
	now := time.Now()
	fail := func(started time.Time) doneResult {
		return g.done("wh", signal{judged: true, failing: true, overload: true, duration: time.Millisecond, started: started}, now)
	}
	// Four failures, an answer, four more: an answer breaks the streak.
	for range 4 {
		fail(now)
	}
	g.done("wh", signal{judged: true, duration: time.Millisecond, started: now}, now) // a 500: an answer, not failing
	for range 4 {
		if r := fail(now); r.opened {
			t.Fatal("opened after an answer and 4 failures")
		}
	}
	// Attempts whose outcome says nothing (the zero signal) do not count.
	g.done("wh", signal{started: now}, now)
	admitted(g, jobFor("wh", "a"), now)
	admitted(g, jobFor("wh", "parked"), now) // the limit is 1 after the overloads
	r := fail(now)
	if !r.opened || startedIDs(r.held) == nil || startedIDs(r.held)[0] != "parked" || r.start != nil || r.recall != 0 {
		t.Fatalf("the 5th failure in a row: got %+v; want opened, the parked job held", r)
	}
	if a, _ := g.admit(jobFor("wh", "b"), now); a != admitHold {
		t.Fatalf("a job while open: got %v, want held", a)
	}
	retry := jobFor("wh", "retry")
	retry.delivery.Attempts = 1
	if a, _ := g.admit(retry, now); a != admitRun {
		t.Fatalf("a retry while open: got %v, want run (it keeps its own schedule)", a)
	}
	g.done("wh", signal{judged: true, failing: true, started: now}, now)
	if !g.holding("wh") || g.holding("other") {
		t.Error("holding: want wh only")
	}
	// A probe: one job goes through, the next is held.
	later := now.Add(5 * time.Second)
	g.probe("wh", later)
	if a, _ := g.admit(jobFor("wh", "p1"), later); a != admitRun {
		t.Fatalf("the job after a probe is due: got %v, want run", a)
	}
	if a, _ := g.admit(jobFor("wh", "c"), later); a != admitHold {
		t.Fatalf("a job while the probe is in flight: got %v, want held", a)
	}
	if r := fail(later); r.opened || r.closed || r.recall != 0 {
		t.Fatalf("the probe failed: got %+v; want still open, nothing recalled", r)
	}
	if a, _ := g.admit(jobFor("wh", "d"), later.Add(time.Second)); a != admitHold {
		t.Fatalf("after a failed probe: got %v, want held until the next one", a)
	}
	// With no word from the store, a job after probeMaxWait is the probe.
	last := later.Add(probeMaxWait + time.Second)
	if a, _ := g.admit(jobFor("wh", "p2"), last); a != admitRun {
		t.Fatalf("a job a probe interval later: got %v, want run", a)
	}
	r = g.done("wh", signal{judged: true, success: true, duration: time.Millisecond, started: last}, last)
	if !r.closed || r.recall == 0 {
		t.Fatalf("the probe answered: got %+v; want closed, held jobs recalled", r)
	}
	if a, _ := g.admit(jobFor("wh", "e"), last); a != admitRun {
		t.Errorf("after closing: got %v, want run", a)
	}
}

// An endpoint that lets requests time out opens the circuit at its second
// timeout: two failures, the first started circuitSpan before.
func TestGateCircuitOpensOnSlowFailures(t *testing.T) {
	t.Parallel()
	g := newGates(16, 16)
	t0 := time.Now()
	admitted(g, jobFor("wh", "a"), t0)
	admitted(g, jobFor("wh", "b"), t0)
	end := t0.Add(circuitSpan)
	if r := g.done("wh", signal{judged: true, failing: true, overload: true, duration: circuitSpan, started: t0}, end); r.opened {
		t.Fatal("opened at the first failure")
	}
	if r := g.done("wh", signal{judged: true, failing: true, overload: true, duration: circuitSpan, started: t0}, end); !r.opened {
		t.Fatal("not opened at the second failure, circuitSpan after the first started")
	}
}

// TestGatePaceReads is the regression guard for the work of the gate (issue
// 16): an attempt's end, or an admission, reads the webhook's pace — a scan of
// every attempt in flight — once, however long the line of parked jobs, and
// whether the jobs at its back are kept or deferred. Reading it once per
// parked job was 43 % of the server's CPU in scenario 1.
func TestGatePaceReads(t *testing.T) {
	t.Parallel()
	for _, latency := range []time.Duration{time.Millisecond, time.Second} { // the line kept; most of it deferred
		g := newGates(64, 4096)
		now := time.Now()
		gt := g.get("wh", now)
		gt.limit, gt.latency = 64, latency
		gt.inFlight = inFlightAt(now, 64)
		for i := range 2048 {
			gt.parked = append(gt.parked, jobFor("wh", fmt.Sprint(i)))
		}
		gt.paceReads = 0
		r := g.done("wh", signal{duration: latency, started: now}, now)
		if gt.paceReads > 1 {
			t.Errorf("latency %s: an attempt's end with %d parked (%d deferred) read the pace %d times, want once",
				latency, len(gt.parked)+len(r.deferred)+len(r.start), len(r.deferred), gt.paceReads)
		}
		gt.inFlight = inFlightAt(now, 64)
		gt.paceReads = 0
		admitted(g, jobFor("wh", "next"), now)
		if gt.paceReads > 1 {
			t.Errorf("latency %s: an admission read the pace %d times, want once", latency, gt.paceReads)
		}
	}
}

// BenchmarkGateDone is the end of an attempt on a webhook with a full line:
// 64 attempts in flight and 2,048 jobs parked, as one webhook taking events as
// fast as they come has (scenario 1). Reading the attempts in flight for each
// parked job made it 43 % of the server's CPU there (issue 16).
func BenchmarkGateDone(b *testing.B) {
	g := newGates(64, 4096)
	now := time.Now()
	gt := g.get("wh", now)
	gt.limit, gt.latency = 64, time.Millisecond
	for i := range 2048 {
		gt.parked = append(gt.parked, jobFor("wh", fmt.Sprint(i)))
	}
	for b.Loop() {
		gt.inFlight = inFlightAt(now, 64)
		r := g.done("wh", signal{duration: time.Millisecond, started: now}, now)
		gt.parked = append(gt.parked, r.start...) // the line stays as long
	}
}
