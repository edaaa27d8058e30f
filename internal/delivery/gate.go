package delivery

import (
	"slices"
	"sync"
	"time"
)

// gates bound, per webhook, how many attempts run at once, so that a slow or
// dead endpoint holds at most its own share of the workers: no customer's
// endpoint can starve another's. A webhook's limit adapts (AIMD): it grows by
// one with each success up to the maximum and halves when the endpoint shows
// overload — a timeout, a refused or reset connection, 429 or 503. A 429 or 503
// with Retry-After also pauses the webhook's other attempts until then.
//
// A job over its webhook's limit is parked in memory and started by the next
// attempt of the webhook to end, as long as the wait this implies at the
// webhook's pace is short (maxParkWait) and the webhook has fewer than
// maxParked jobs parked; otherwise, or while the webhook is paused, it is
// deferred: handed back to the store to be claimed again later, with no
// attempt counted. Bursts to a fast webhook are thus absorbed in memory, and
// only a slow or failing webhook's backlog goes back to the store.
type gates struct {
	max       int // most attempts in flight to one webhook
	initial   int // a webhook's limit before anything is known of it
	maxParked int // most jobs one webhook keeps parked

	mu    sync.Mutex
	m     map[string]*gate
	swept time.Time
}

type gate struct {
	starts   []time.Time // when the attempts in flight started, one each
	limit    float64
	parked   []job
	paused   time.Time     // no attempt starts before
	deferEnd time.Time     // when the last deferred job is due, plus a slot
	latency  time.Duration // moving average of attempt durations
	used     time.Time
}

// signal is what an attempt tells its webhook's gate.
type signal struct {
	overload bool // timeout, connection failure, 429 or 503
	// pause is when the webhook's attempts may start again after a 429 or 503
	// with Retry-After: the failed delivery's own next attempt, so the
	// schedule's cap on Retry-After holds for the pause too. Zero if none.
	pause    time.Time
	duration time.Duration
	success  bool
	// started is the time the gate gave when the attempt was let in.
	started time.Time
}

// idleGate is how long an unused webhook's state is kept.
const idleGate = 10 * time.Minute

// newGates returns gates with a per-webhook maximum of limit attempts in
// flight and of parked jobs parked (the engine gives its queue size: the wait
// at the webhook's pace, not this bound, is what sends a backlog back to the
// store).
func newGates(limit, parked int) *gates {
	return &gates{max: limit, initial: min(2, limit), maxParked: max(parked, 1), m: map[string]*gate{}}
}

// admit decides for a job: run it now (its slot is taken), park it (it is
// kept and will be returned by done), or defer it until the returned time.
func (g *gates) admit(j job, now time.Time) (run bool, deferUntil time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	gt := g.get(j.delivery.WebhookID, now)
	switch {
	case now.Before(gt.paused):
		return false, gt.later(now)
	case len(gt.starts) < int(gt.limit):
		gt.starts = append(gt.starts, now)
		return true, time.Time{}
	case len(gt.parked) < g.maxParked && gt.wait(now) <= maxParkWait:
		gt.parked = append(gt.parked, j)
		return false, time.Time{}
	}
	return false, gt.later(now)
}

// deferral is a job handed back to the store, due again at until.
type deferral struct {
	job   job
	until time.Time
}

// later returns when a job deferred now is to be due again: after the pause or
// the wait for a slot, and after the jobs of the webhook deferred before it,
// spaced at the webhook's pace, so that they come back a slot's worth at a time
// rather than all at once (to be deferred again). The spacing reaches at most
// a minute past the pause or wait. The caller holds mu.
func (gt *gate) later(now time.Time) time.Time {
	base := now.Add(gt.wait(now))
	if gt.paused.After(base) {
		base = gt.paused
	}
	t := base
	if gt.deferEnd.After(t) {
		t = gt.deferEnd
		if limit := base.Add(time.Minute); t.After(limit) {
			t = limit
		}
	}
	slot := time.Duration(float64(max(gt.latency, time.Millisecond)) / gt.limit)
	gt.deferEnd = t.Add(slot)
	return t
}

// maxParkWait is the longest a job is parked: one that would wait longer (its
// webhook is slow) is deferred, so that parked jobs do not outlive their lease.
const maxParkWait = 2 * time.Second

// wait estimates how long a job for a webhook at its limit waits for a slot:
// the parked jobs' worth of attempts at the webhook's pace, and its own. The
// pace is the attempts' average duration, or the age of the oldest attempt in
// flight if that is longer: an endpoint that stopped answering is known to be
// slow before its first timeout.
func (gt *gate) wait(now time.Time) time.Duration {
	lat := max(gt.latency, 10*time.Millisecond)
	for _, s := range gt.starts {
		lat = max(lat, now.Sub(s))
	}
	d := time.Duration(float64(lat) * float64(len(gt.parked)+1) / gt.limit)
	return min(max(d, 100*time.Millisecond), time.Minute)
}

// done records the end of an attempt and returns the parked job to start now,
// if any (its slot taken, started at now), and the parked jobs to defer when
// the webhook is now paused or too slow for them to wait. One job at a time is
// started this way, by the worker that finished: when the limit has grown, new
// jobs fill the other free slots, and each later end starts one more.
func (g *gates) done(webhookID string, s signal, now time.Time) (start *job, deferred []deferral) {
	g.mu.Lock()
	defer g.mu.Unlock()
	gt := g.get(webhookID, now)
	if i := slices.IndexFunc(gt.starts, s.started.Equal); i >= 0 {
		gt.starts = slices.Delete(gt.starts, i, i+1)
	} else if len(gt.starts) > 0 {
		gt.starts = gt.starts[1:]
	}
	if gt.latency == 0 {
		gt.latency = s.duration
	} else {
		gt.latency += (s.duration - gt.latency) / 8
	}
	switch {
	case s.success:
		gt.limit = min(gt.limit+1, float64(g.max))
	case s.overload:
		gt.limit = max(gt.limit/2, 1)
		if s.pause.After(gt.paused) {
			gt.paused = s.pause
		}
	}
	// Paused, or so slow that the parked jobs would wait too long: defer them.
	if now.Before(gt.paused) || len(gt.parked) > 0 && gt.wait(now) > maxParkWait {
		for _, j := range gt.parked {
			deferred = append(deferred, deferral{job: j, until: gt.later(now)})
		}
		gt.parked = nil
		return nil, deferred
	}
	if len(gt.parked) > 0 && len(gt.starts) < int(gt.limit) {
		start = &gt.parked[0]
		gt.parked = gt.parked[1:]
		gt.starts = append(gt.starts, now)
	}
	g.sweep(now)
	return start, nil
}

// drain removes and returns every parked job (at shutdown).
func (g *gates) drain() []job {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []job
	for _, gt := range g.m {
		out = append(out, gt.parked...)
		gt.parked = nil
	}
	return out
}

// get returns a webhook's gate, made if needed; the caller holds mu.
func (g *gates) get(id string, now time.Time) *gate {
	gt := g.m[id]
	if gt == nil {
		gt = &gate{limit: float64(g.initial)}
		g.m[id] = gt
	}
	gt.used = now
	return gt
}

// sweep forgets webhooks idle for a while, at most once a minute; the caller
// holds mu.
func (g *gates) sweep(now time.Time) {
	if now.Sub(g.swept) < time.Minute {
		return
	}
	g.swept = now
	for id, gt := range g.m {
		if len(gt.starts) == 0 && len(gt.parked) == 0 && now.Sub(gt.used) > idleGate && !now.Before(gt.paused) {
			delete(g.m, id)
		}
	}
}
