package delivery

import (
	"slices"
	"sort"
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
// A job over its webhook's limit is parked in memory, to start as soon as an
// attempt of the webhook ends, as long as its wait at the webhook's pace is
// short (maxParkWait) and the webhook has fewer than maxParked jobs parked.
// Otherwise, or while the webhook is paused, it is deferred: handed back to the
// store, with no attempt counted, due when a slot should be free for it. The
// guarantee is that a free slot is never left idle while the webhook has work:
// when an attempt ends, parked jobs fill every free slot, and if a slot is
// still free and this process has deferred jobs of the webhook, they are
// recalled (made due now) rather than left to their estimated time.
//
// A webhook whose endpoint keeps failing has its circuit opened (see
// circuitOpens): its jobs never attempted are held, handed back to the store
// until they expire, and one at a time, a probe, is let through when the
// store says one is due (probe); jobs attempted before keep their retry
// schedule. An answer to any attempt closes the circuit again, and the held
// jobs are recalled as slots free.
type gates struct {
	max       int // most attempts in flight to one webhook
	initial   int // a webhook's limit before anything is known of it
	maxParked int // most jobs one webhook keeps parked

	mu    sync.Mutex
	m     map[string]*gate
	swept time.Time
}

type gate struct {
	inFlight []inflight
	limit    float64
	parked   []job
	paused   time.Time // no attempt starts before
	deferEnd time.Time // when the last job deferred is due, plus a slot
	// deferred says the webhook may have deferred jobs waiting in the store:
	// this process deferred some, or it has not asked yet (a previous process,
	// or another node, may have left some).
	deferred bool
	// deferring counts the jobs deferred whose hand-back is not written yet,
	// and deferGen every deferral and every hand-back written: a recall that
	// finds fewer jobs than it asked for says none is left only if none was
	// on its way to the store meanwhile — neither still on its way when it
	// ends, nor written while it ran (PostgreSQL's recall skips the rows a
	// hand-back is writing). recallMissed says some still were: the recall
	// is to be made again once they are written (deferWritten).
	deferring    int
	deferGen     uint64
	recallMissed bool
	latency      time.Duration // moving average of attempt durations
	used         time.Time

	// failures counts the attempts in a row that failed in a way the
	// schedule retries (a network error, a timeout, 5xx, 429…), and
	// streakStart is when the first of them started.
	failures    int
	streakStart time.Time
	// open is the circuit: the endpoint keeps failing, so the webhook's jobs
	// are held, but for one probe at a time.
	open    bool
	probeAt time.Time // while open, when a probe may start
	probing time.Time // when the probe in flight started; zero if none

	// paceReads counts the reads of pace, each a scan of the attempts in
	// flight: a regression guard (TestGatePaceReads) for the work of one
	// admission or one attempt's end, which must not grow with the line.
	paceReads int
}

// inflight is one attempt in flight: when the gate let it start, and whether
// the endpoint has answered it (after which its age, spent storing the
// outcome, says nothing of the endpoint).
type inflight struct {
	start     time.Time
	responded bool
}

// signal is what an attempt tells its webhook's gate. The zero signal (with
// started set) says nothing: the attempt was not sent, or its outcome is not
// to be trusted.
type signal struct {
	// judged says the endpoint's answer, or its failure to give one, counts:
	// then failing says it is one the retry schedule retries (of a webhook
	// whose deliveries are unordered and retried), toward the circuit.
	judged   bool
	failing  bool
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

// admission is what the gate decides for a job.
type admission int

const (
	admitRun   admission = iota // attempt it now: its slot is taken
	admitPark                   // kept in memory; done starts it
	admitDefer                  // hand it back to the store, due at the time given
	admitHold                   // the circuit is open: hand it back until it expires
)

// Circuit thresholds. The circuit opens after circuitFailures failing
// attempts in a row, or after two when the first started circuitSpan or more
// before the last ended (an endpoint that lets requests time out is known at
// its second timeout). While it is open, the store paces probes from
// probeMinWait apart up to probeMaxWait, growing with the outage; if the store
// cannot say, a job that comes after probeMaxWait is the probe.
const (
	circuitFailures = 5
	circuitSpan     = 10 * time.Second
	probeMinWait    = 5 * time.Second
	probeMaxWait    = time.Minute
)

// admit decides for a job: run it now, park it, defer it until the returned
// time, or hold it.
func (g *gates) admit(j job, now time.Time) (admission, time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	gt := g.get(j.delivery.WebhookID, now)
	switch {
	case gt.open && j.delivery.Attempts == 0:
		// A delivery attempted before keeps its own retry schedule; those
		// never attempted wait for the endpoint, but for one probe at a time.
		if !gt.probing.IsZero() || now.Before(gt.probeAt) {
			return admitHold, time.Time{}
		}
		gt.probing = now
		gt.inFlight = append(gt.inFlight, inflight{start: now})
		return admitRun, time.Time{}
	case now.Before(gt.paused):
		return admitDefer, gt.deferTo(gt.paused, gt.pace(now))
	case len(gt.inFlight) < int(gt.limit):
		gt.inFlight = append(gt.inFlight, inflight{start: now})
		return admitRun, time.Time{}
	}
	pace := gt.pace(now)
	if len(gt.parked) < g.maxParked && gt.waitFor(len(gt.parked), pace) <= maxParkWait {
		gt.parked = append(gt.parked, j)
		return admitPark, time.Time{}
	}
	return admitDefer, gt.deferTo(now.Add(gt.waitFor(len(gt.parked), pace)), pace)
}

// holding reports whether a webhook's circuit is open in this process.
func (g *gates) holding(webhookID string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	gt := g.m[webhookID]
	return gt != nil && gt.open
}

// probe says a probe of the webhook is due (the store's pacing, shared by
// every node): its circuit is open, if this process did not know, and the
// next job to come is let through. It returns the deferral count, for the
// recall of that job (recalled).
func (g *gates) probe(webhookID string, now time.Time) (gen uint64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	gt := g.get(webhookID, now)
	gt.open, gt.probeAt, gt.deferred = true, now, true
	return gt.deferGen
}

// deferral is a job handed back to the store, due again at until.
type deferral struct {
	job   job
	until time.Time
}

// deferTo returns when a job deferred now is to be due again: at earliest, and
// after the jobs of the webhook deferred before it, a slot's worth apart, so
// that they come back as slots should free rather than all at once. The caller
// holds mu.
func (gt *gate) deferTo(earliest time.Time, pace time.Duration) time.Time {
	t := earliest
	if gt.deferEnd.After(t) {
		t = gt.deferEnd
	}
	slot := time.Duration(float64(pace) / gt.limit)
	gt.deferEnd = t.Add(slot)
	gt.deferred = true
	gt.deferring++
	gt.deferGen++
	return t
}

// maxParkWait is the longest a job is parked: one that would wait longer (its
// webhook is slow) is deferred, so that parked jobs do not outlive their lease.
const maxParkWait = 2 * time.Second

// pace is the time one attempt of the webhook takes: the average duration, or
// the age of the oldest attempt in flight not yet answered if that is longer,
// so that an endpoint that stopped answering is known to be slow before its
// first timeout. The caller holds mu.
func (gt *gate) pace(now time.Time) time.Duration {
	gt.paceReads++
	lat := max(gt.latency, 10*time.Millisecond)
	for _, f := range gt.inFlight {
		if !f.responded {
			lat = max(lat, now.Sub(f.start))
		}
	}
	return lat
}

// waitFor estimates how long the job at position pos of the line of parked
// jobs waits for a slot, at the webhook's pace (gt.pace: it reads every
// attempt in flight, so a caller working through the line reads it once).
// The caller holds mu.
func (gt *gate) waitFor(pos int, pace time.Duration) time.Duration {
	return time.Duration(float64(pace) * float64(pos+1) / gt.limit)
}

// responded records that the endpoint answered the attempt let in at started
// (or that it failed): what remains of it, storing the outcome, is not the
// endpoint's time.
func (g *gates) responded(webhookID string, started time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if gt := g.m[webhookID]; gt != nil {
		if i := slices.IndexFunc(gt.inFlight, func(f inflight) bool { return f.start.Equal(started) && !f.responded }); i >= 0 {
			gt.inFlight[i].responded = true
		}
	}
}

// doneResult is what the end of an attempt asks of the engine.
type doneResult struct {
	// start are parked jobs to start now, their slots taken, admitted at now.
	start []job
	// deferred are parked jobs to hand back to the store: the webhook is paused,
	// or they would wait too long in memory.
	deferred []deferral
	// recall is how many of the webhook's deferred jobs to make due now: slots
	// are free, nothing is parked, and this process deferred some earlier.
	// recallGen goes back to recalled with the recall's result.
	recall    int
	recallGen uint64
	// held are parked jobs to hold: the circuit has just opened.
	held []job
	// opened says the circuit has just opened: the webhook's backlog in the
	// store is to be held. closed says it has just closed.
	opened, closed bool
}

// done records the end of an attempt, and says which parked jobs start now in
// the slots free, which go back to the store, and how many deferred ones to
// recall.
func (g *gates) done(webhookID string, s signal, now time.Time) doneResult {
	g.mu.Lock()
	defer g.mu.Unlock()
	gt := g.get(webhookID, now)
	if i := slices.IndexFunc(gt.inFlight, func(f inflight) bool { return f.start.Equal(s.started) }); i >= 0 {
		gt.inFlight = slices.Delete(gt.inFlight, i, i+1)
	} else if len(gt.inFlight) > 0 {
		gt.inFlight = gt.inFlight[1:]
	}
	var r doneResult
	if !gt.probing.IsZero() && s.started.Equal(gt.probing) {
		gt.probing = time.Time{}
		if s.failing { // the next probe is when the store says, or at the latest:
			gt.probeAt = now.Add(probeMaxWait)
		}
	}
	switch {
	case s.failing:
		if gt.failures == 0 {
			gt.streakStart = s.started
		}
		gt.failures++
		if !gt.open && circuitOpens(gt.failures, now.Sub(gt.streakStart)) {
			gt.open, gt.probeAt, gt.deferred = true, now.Add(probeMaxWait), true
			r.opened = true
			kept := gt.parked[:0]
			for _, j := range gt.parked {
				if j.delivery.Attempts == 0 {
					r.held = append(r.held, j)
				} else {
					kept = append(kept, j)
				}
			}
			gt.parked = kept
		}
	case s.judged:
		gt.failures = 0
		if gt.open {
			gt.open, r.closed = false, true
		}
	}
	if s.duration > 0 { // the zero signal says nothing of the endpoint's pace
		if gt.latency == 0 {
			gt.latency = s.duration
		} else {
			gt.latency += (s.duration - gt.latency) / 8
		}
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
	pace := gt.pace(now) // the same for every parked job: read once (gt.waitFor)
	if now.Before(gt.paused) {
		for _, j := range gt.parked {
			r.deferred = append(r.deferred, deferral{job: j, until: gt.deferTo(gt.paused, pace)})
		}
		gt.parked = nil
		return r
	}
	for len(gt.parked) > 0 && len(gt.inFlight) < int(gt.limit) {
		j := gt.parked[0]
		j.admitted = now
		r.start = append(r.start, j)
		gt.parked = gt.parked[1:]
		gt.inFlight = append(gt.inFlight, inflight{start: now})
	}
	// Parked jobs that would now wait too long go back to the store, from the
	// back of the line; those that will start soon stay.
	keep := sort.Search(len(gt.parked), func(i int) bool { return gt.waitFor(i, pace) > maxParkWait })
	for i := keep; i < len(gt.parked); i++ {
		r.deferred = append(r.deferred, deferral{job: gt.parked[i], until: gt.deferTo(now.Add(gt.waitFor(i, pace)), pace)})
	}
	gt.parked = gt.parked[:keep]
	r.recall, r.recallGen = gt.recallNow()
	g.sweep(now)
	return r
}

// recalled records that a recall of asked deferred jobs, decided when the
// webhook's deferrals were at gen, found got. Fewer means none is left in the
// store, so there is nothing more to recall — unless deferrals were on their
// way to the store meanwhile, and so not found: those still on their way are
// recalled once written (deferWritten); if all were written during the
// recall, it returns how many to recall again now, with the gen to pass back.
func (g *gates) recalled(webhookID string, asked, got int, gen uint64) (again int, againGen uint64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	gt := g.m[webhookID]
	switch {
	case gt == nil || got >= asked:
		return 0, 0
	case gt.deferring > 0:
		gt.recallMissed = true
		return 0, 0
	case gt.deferGen == gen:
		gt.deferred = false
		return 0, 0
	}
	return gt.recallNow()
}

// deferWritten records that n of the webhook's deferred jobs were handed back
// to the store (or failed to be), and returns how many deferred jobs to
// recall now, with the gen for recalled: a recall that missed some of them
// while they were on their way is made again.
func (g *gates) deferWritten(webhookID string, n int) (recall int, gen uint64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	gt := g.m[webhookID]
	if gt == nil {
		return 0, 0
	}
	gt.deferring = max(gt.deferring-n, 0)
	gt.deferGen++
	if gt.deferring > 0 || !gt.recallMissed {
		return 0, 0
	}
	gt.recallMissed = false
	return gt.recallNow()
}

// recallNow returns how many deferred jobs to recall now, and the gen: as many
// as slots are free, if nothing is parked and the circuit is closed;
// otherwise none, and the next attempt's end recalls them (deferred stays
// true). The caller holds mu.
func (gt *gate) recallNow() (int, uint64) {
	if free := int(gt.limit) - len(gt.inFlight); free > 0 && len(gt.parked) == 0 && gt.deferred && !gt.open {
		gt.deferEnd = time.Time{} // what is deferred from now on is spaced from now
		return free, gt.deferGen
	}
	return 0, 0
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

// circuitOpens says whether failures failing attempts in a row, the first
// started span before the last ended, open a circuit.
func circuitOpens(failures int, span time.Duration) bool {
	return failures >= circuitFailures || failures >= 2 && span >= circuitSpan
}

// get returns a webhook's gate, made if needed; the caller holds mu.
func (g *gates) get(id string, now time.Time) *gate {
	gt := g.m[id]
	if gt == nil {
		gt = &gate{limit: float64(g.initial), deferred: true}
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
		if len(gt.inFlight) == 0 && len(gt.parked) == 0 && now.Sub(gt.used) > idleGate && !now.Before(gt.paused) && !gt.open {
			delete(g.m, id)
		}
	}
}
