package delivery

import (
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

func jobFor(webhook, id string) job {
	return job{delivery: hookline.Delivery{ID: id, WebhookID: webhook}}
}

func TestGateAdmitsUpToTheLimitThenParks(t *testing.T) {
	t.Parallel()
	g := newGates(16, 16)
	now := time.Now()
	for i := range 2 {
		if run, _ := g.admit(jobFor("wh_a", "d"+string(rune('0'+i))), now); !run {
			t.Fatalf("job %d: parked or deferred under the initial limit of 2", i)
		}
	}
	run, until := g.admit(jobFor("wh_a", "d2"), now)
	if run || !until.IsZero() {
		t.Fatalf("third job: got run %v, defer until %v; want parked", run, until)
	}
	// Another webhook is not affected.
	if run, _ := g.admit(jobFor("wh_b", "x"), now); !run {
		t.Fatal("another webhook's job was held back")
	}
	// A success frees a slot and starts the parked job; the limit grows.
	start, deferred := g.done("wh_a", signal{success: true, duration: time.Millisecond}, now)
	if start == nil || start.delivery.ID != "d2" || deferred != nil {
		t.Fatalf("done: got start %v, deferred %v; want d2 started", start, deferred)
	}
	if gt := g.m["wh_a"]; gt.limit != 3 || len(gt.starts) != 2 {
		t.Errorf("after a success: limit %v, in flight %d; want 3, 2", gt.limit, len(gt.starts))
	}
}

func TestGateHalvesOnOverloadAndGrowsBack(t *testing.T) {
	t.Parallel()
	g := newGates(16, 16)
	now := time.Now()
	gt := g.get("wh", now)
	gt.limit = 16
	for _, want := range []float64{8, 4, 2, 1, 1} {
		gt.starts = append(gt.starts, now)
		g.done("wh", signal{overload: true, duration: time.Second}, now)
		if gt.limit != want {
			t.Fatalf("limit after overload: got %v, want %v", gt.limit, want)
		}
	}
	for range 30 {
		gt.starts = append(gt.starts, now)
		g.done("wh", signal{success: true, duration: time.Millisecond}, now)
	}
	if gt.limit != 16 {
		t.Errorf("limit after 30 successes: got %v, want the maximum 16", gt.limit)
	}
	// A failure that is not overload (say 500) leaves the limit alone.
	gt.starts = append(gt.starts, now)
	g.done("wh", signal{duration: time.Millisecond}, now)
	if gt.limit != 16 {
		t.Errorf("limit after a plain failure: got %v, want 16", gt.limit)
	}
}

func TestGateDefersWhenASlowWebhookIsFull(t *testing.T) {
	t.Parallel()
	g := newGates(16, 16)
	now := time.Now()
	gt := g.get("wh", now)
	gt.limit, gt.starts, gt.latency = 1, []time.Time{now}, 30*time.Second // a webhook that times out
	run, until := g.admit(jobFor("wh", "d"), now)
	if run || until.IsZero() {
		t.Fatalf("got run %v, until %v; want deferred (parking would outlive the lease)", run, until)
	}
	if d := until.Sub(now); d < 30*time.Second || d > time.Minute {
		t.Errorf("deferred by %s, want the webhook's pace: 30s to 1m", d)
	}
	// The next ones are spaced a slot (30 s) apart, up to a minute past the first.
	_, second := g.admit(jobFor("wh", "d2"), now)
	_, third := g.admit(jobFor("wh", "d3"), now)
	_, fourth := g.admit(jobFor("wh", "d4"), now)
	if d := second.Sub(until); d != 30*time.Second {
		t.Errorf("second deferral: %s after the first, want 30s", d)
	}
	if !fourth.Equal(third) || third.Sub(until) != time.Minute {
		t.Errorf("third and fourth: %s and %s after the first, want both capped at 1m", third.Sub(until), fourth.Sub(until))
	}

	// A fast webhook parks up to maxParked, then defers.
	gt = g.get("fast", now)
	gt.limit, gt.starts, gt.latency = 1, []time.Time{now}, time.Millisecond
	for i := range g.maxParked {
		if run, until := g.admit(jobFor("fast", "p"), now); run || !until.IsZero() {
			t.Fatalf("job %d: got run %v, until %v; want parked", i, run, until)
		}
	}
	if _, until := g.admit(jobFor("fast", "over"), now); until.IsZero() {
		t.Error("job past maxParked: parked, want deferred")
	}
}

func TestGatePauseDefersParkedAndNewJobs(t *testing.T) {
	t.Parallel()
	g := newGates(16, 16)
	now := time.Now()
	g.admit(jobFor("wh", "a"), now)
	g.admit(jobFor("wh", "b"), now)
	g.admit(jobFor("wh", "c"), now) // parked
	pause := now.Add(3 * time.Second)
	start, deferred := g.done("wh", signal{overload: true, pause: pause}, now)
	if start != nil || len(deferred) != 1 || deferred[0].job.delivery.ID != "c" || !deferred[0].until.Equal(pause) {
		t.Fatalf("done with a pause: got start %v, deferred %v; want c deferred until %v", start, deferred, pause)
	}
	// Jobs deferred one after another come back spaced at the webhook's pace.
	run, until := g.admit(jobFor("wh", "d"), now.Add(time.Second))
	if run || !until.After(pause) || until.After(pause.Add(time.Minute)) {
		t.Errorf("during the pause: got run %v, until %v; want deferred to just after %v", run, until, pause)
	}
	g.done("wh", signal{success: true}, pause) // b ends
	if run, _ := g.admit(jobFor("wh", "e"), pause); !run {
		t.Error("after the pause: held back, want run")
	}
}

func TestGateDrainAndSweep(t *testing.T) {
	t.Parallel()
	g := newGates(1, 16)
	now := time.Now()
	g.admit(jobFor("wh", "a"), now)
	g.admit(jobFor("wh", "b"), now) // parked
	if js := g.drain(); len(js) != 1 || js[0].delivery.ID != "b" {
		t.Fatalf("drain: got %v, want b", js)
	}
	g.done("wh", signal{success: true}, now)
	later := now.Add(2 * idleGate)
	g.admit(jobFor("other", "x"), later)
	g.done("other", signal{}, later) // sweeps
	if _, ok := g.m["wh"]; ok {
		t.Error("an idle webhook's state was kept past idleGate")
	}
}

func TestGateHangingAttemptsMakeAWebhookSlow(t *testing.T) {
	t.Parallel()
	g := newGates(16, 1000)
	now := time.Now()
	g.admit(jobFor("wh", "a"), now)
	g.admit(jobFor("wh", "b"), now)
	// Nothing has come back yet: a job is parked while the attempts are young...
	if run, until := g.admit(jobFor("wh", "c"), now.Add(100*time.Millisecond)); run || !until.IsZero() {
		t.Fatalf("young attempts: got run %v, until %v; want parked", run, until)
	}
	// ...and deferred once they have hung for longer than a job may be parked.
	later := now.Add(3 * time.Second)
	run, until := g.admit(jobFor("wh", "d"), later)
	if run || !until.After(later.Add(maxParkWait)) {
		t.Errorf("hanging attempts: got run %v, until %v; want deferred past %v", run, until, later.Add(maxParkWait))
	}
	// When one ends (a timeout), the job parked early is deferred too.
	start, deferred := g.done("wh", signal{overload: true, duration: 3 * time.Second, started: now}, later)
	if start != nil || len(deferred) != 1 || deferred[0].job.delivery.ID != "c" {
		t.Errorf("after a timeout: got start %v, deferred %v; want c deferred", start, deferred)
	}
}
