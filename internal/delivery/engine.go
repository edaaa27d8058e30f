// Package delivery is the delivery engine: it publishes events (storing them with
// their deliveries in one commit), hands fresh deliveries straight to its workers
// (the fast path), claims due deliveries from the store with leases (retries, and
// whatever a crashed process left), makes the HTTP attempts, decides retries and
// auto-disable, and emits operational events.
package delivery

import (
	"container/heap"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/logthrottle"
	"github.com/hookline/hookline/internal/metrics"
	"github.com/hookline/hookline/internal/profile"
	"github.com/hookline/hookline/internal/store"
)

// Options configure an Engine.
type Options struct {
	Store  store.Store
	Sender *Sender
	// Profiles renders requests and holds each webhook's delivery policy. When
	// nil, one holding the built-in profile is made with Policy, Timeout and
	// AutoDisable as its defaults.
	Profiles    *profile.Registry
	Policy      Policy
	Timeout     time.Duration
	Lease       time.Duration
	Workers     int
	AutoDisable store.AutoDisableRule
	Metrics     *metrics.Metrics
	Logger      *slog.Logger
	// WebhookConcurrency bounds the attempts in flight to one webhook (its
	// adaptive limit never exceeds it); Workers/4, at least 1, when zero.
	WebhookConcurrency int
	// QueueSize bounds deliveries claimed by this process and not yet finished;
	// 16 × Workers when zero.
	QueueSize int
	// PollInterval is how often the store is asked for due deliveries when nothing
	// wakes the engine sooner; 1 s when zero.
	PollInterval time.Duration
	// ClaimBatch is the most deliveries one claim takes; 256 when zero.
	ClaimBatch int
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

type job struct {
	delivery   hookline.Delivery
	event      *hookline.Event
	token      string
	leaseUntil time.Time // when the lease taken with token ends
	// admitted is when the webhook's gate let the job in, when a freed slot
	// started it; zero for a job that has yet to pass the gate.
	admitted time.Time
}

// Engine delivers events. Create it with New, then Start; Shutdown stops it.
type Engine struct {
	o     Options
	log   *slog.Logger
	cache *webhookCache

	// inserts and completions group concurrent store writes into one commit.
	inserts     *groupCommit[store.EventInsertParams, store.EventInsertResult]
	completions *groupCommit[store.DeliveryCompleteParams, store.DeliveryCompleteResult]
	renewals    *groupCommit[store.DeliveryRenewal, bool]

	gates   *gates
	jobs    chan job
	inUse   atomic.Int64 // claimed by this process: queued or in flight
	starved atomic.Bool  // the claim loop stopped for lack of room
	wake    chan struct{}

	// handbacks are jobs to hand back to the store (handback.go).
	handbacks     chan handback
	handbacksDone chan struct{}
	handbacksOnce sync.Once

	testSlots testSlots  // bound the test sends in flight (Test)
	stalls    stallWatch // when this process stood still (attempt signals ignored)

	wakeMu sync.Mutex
	wakes  wakeTimes // retries this process scheduled, earliest first

	pushMu sync.RWMutex // held for reading while pushing jobs; Shutdown closes jobs under it
	closed bool

	node     string
	tokenSeq atomic.Uint64

	claimCancel context.CancelFunc
	claimDone   chan struct{}
	listenDone  chan struct{} // closed when the listener for other nodes stops
	sendCtx     context.Context
	sendCancel  context.CancelFunc
	stopping    atomic.Bool
	workers     sync.WaitGroup
	releaseMu   sync.Mutex
	toRelease   []store.DeliveryLease
}

// New returns an Engine; nothing runs until Start.
func New(o Options) *Engine {
	if o.Workers <= 0 {
		o.Workers = 64
	}
	if o.WebhookConcurrency <= 0 {
		o.WebhookConcurrency = max(o.Workers/4, 1)
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 16 * o.Workers
	}
	if o.PollInterval <= 0 {
		o.PollInterval = time.Second
	}
	if o.ClaimBatch <= 0 {
		o.ClaimBatch = 256
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Metrics == nil {
		o.Metrics = metrics.New()
	}
	if o.Profiles == nil {
		reg, err := profile.NewRegistry(o.Store, profile.Defaults{
			RetrySchedule: o.Policy.Schedule, Jitter: o.Policy.Jitter, Timeout: o.Timeout,
			AutoDisable: profile.AutoDisableRule{Failures: o.AutoDisable.Failures, After: o.AutoDisable.After},
		})
		if err != nil {
			panic(err) // the built-in profile is part of the binary
		}
		o.Profiles = reg
	}
	// In an outage each claim and each completion fails alike: a line at once,
	// then a count every few seconds, not one line per failure.
	logger := logthrottle.Wrap(o.Logger.With("component", "delivery"), logthrottle.Options{})
	e := &Engine{
		o:     o,
		log:   logger,
		cache: newWebhookCache(o.Store, 5*time.Second),
		jobs:  make(chan job, o.QueueSize),
		// Every job handed back holds a queue slot: sending never blocks.
		handbacks:     make(chan handback, o.QueueSize),
		handbacksDone: make(chan struct{}),
		wake:          make(chan struct{}, 1),
		node:          hookline.NewID("node_"),
	}
	e.gates = newGates(o.WebhookConcurrency, o.QueueSize)
	insert, complete, renew := o.Store.EventInsert, o.Store.DeliveryComplete, o.Store.DeliveryRenew
	if w, ok := o.Store.(store.Writer); ok {
		// One commit for all three kinds: each kind's group hands its batch to
		// the shared one, which takes whatever batches are waiting.
		writes := newGroupCommit(w.Write, 3*maxGroupItems)
		insert = writeVia(writes, func(p *store.EventInsertParams) store.Write { return store.Write{Insert: p} },
			func(r store.WriteResult) store.EventInsertResult { return r.Insert })
		complete = writeVia(writes, func(p *store.DeliveryCompleteParams) store.Write { return store.Write{Complete: p} },
			func(r store.WriteResult) store.DeliveryCompleteResult { return r.Complete })
		renew = writeVia(writes, func(p *store.DeliveryRenewal) store.Write { return store.Write{Renew: p} },
			func(r store.WriteResult) bool { return r.Renewed })
	}
	e.inserts = newGroupCommit(insert, maxGroupItems)
	e.completions = newGroupCommit(complete, maxGroupItems)
	e.completions.linger = completionLinger
	e.renewals = newGroupCommit(renew, maxGroupItems)
	e.sendCtx, e.sendCancel = context.WithCancel(context.Background())
	return e
}

// completionLinger is how long attempt outcomes wait to share a commit when
// few are waiting: the receiver has its request already, and at a low rate it
// halves the commits (and their fsyncs) per delivered event.
const completionLinger = 2 * time.Millisecond

// maxGroupItems bounds the events, or the attempt outcomes, one commit takes:
// enough to carry a full batch publish, small enough that a commit stays short.
const maxGroupItems = 1000

// Profiles returns the engine's profile registry.
func (e *Engine) Profiles() *profile.Registry { return e.o.Profiles }

// Start launches the workers and the claim loop. On a single-node store it first
// frees every lease left by a previous process, so work a crash interrupted
// resumes at once instead of when the lease would have expired. When storage
// cannot be written (a full disk) it starts all the same, so that the API
// answers 503 rather than nothing: those leases then run out, and their
// deliveries are claimed again once storage takes writes.
func (e *Engine) Start(ctx context.Context) error {
	if e.o.Store.SingleNode() {
		n, err := e.o.Store.DeliveryReleaseAll(ctx, e.o.Now())
		switch {
		case errors.Is(err, store.ErrUnavailable):
			e.log.Warn("cannot free the deliveries left in flight by a previous run; they resume when their leases end", "lease", e.o.Lease, "err", err)
		case err != nil:
			return err
		case n > 0:
			e.log.Info("resuming deliveries left in flight by a previous run", "count", n)
		}
	}
	// Deliveries a previous process deferred come back now, a few per
	// webhook: their webhook's first attempt here recalls the rest as slots
	// free, where one with nothing else to do would wait for their time.
	if n, err := e.o.Store.DeliveryRecallEach(ctx, e.o.Now(), e.gates.initial); err != nil {
		e.log.Warn("cannot recall the deliveries a previous run deferred; they come back at their time", "err", err)
	} else if n > 0 {
		e.o.Metrics.DeliveriesRecalled.Add(float64(n))
	}
	for range e.o.Workers {
		e.workers.Add(1)
		go e.worker()
	}
	go e.handbackLoop()
	claimCtx, cancel := context.WithCancel(context.Background())
	e.claimCancel = cancel
	e.claimDone = make(chan struct{})
	go e.claimLoop(claimCtx)
	if n := e.notifier(); n != nil {
		e.listenDone = make(chan struct{})
		go e.listen(claimCtx, n)
	}
	return nil
}

// Shutdown stops claiming, lets attempts in flight finish until ctx ends (then
// aborts them), and gives back to the store every delivery claimed but not
// attempted, so another process — or the next start — takes it at once.
func (e *Engine) Shutdown(ctx context.Context) error {
	e.stopping.Store(true)
	if e.claimCancel != nil {
		e.claimCancel()
		<-e.claimDone
		if e.listenDone != nil {
			<-e.listenDone
		}
	}
	e.pushMu.Lock()
	if !e.closed {
		e.closed = true
		close(e.jobs)
	}
	e.pushMu.Unlock()

	done := make(chan struct{})
	go func() { e.workers.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = fmt.Errorf("delivery: attempts still in flight at the shutdown deadline were aborted and released: %w", ctx.Err())
		e.sendCancel()
		<-done
	}
	if e.claimCancel != nil { // started: the hand-back loop runs
		e.handbacksOnce.Do(func() { close(e.handbacks) }) // no worker is left to send
		<-e.handbacksDone
	}
	for _, j := range e.gates.drain() {
		e.keepForRelease(j.delivery.ID, j.token)
		e.give(1)
	}
	e.releaseMu.Lock()
	leases := e.toRelease
	e.toRelease = nil
	e.releaseMu.Unlock()
	if len(leases) > 0 {
		rctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if rerr := e.o.Store.DeliveryRelease(rctx, leases); rerr != nil {
			return errors.Join(err, rerr)
		}
		e.log.Info("released claimed deliveries for the next process", "count", len(leases))
		e.broadcast(store.TopicWork, "")
	}
	return err
}

// Notify wakes the claim loop: new due work may be in the store.
func (e *Engine) Notify() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// WebhookChanged must be called after a webhook is created, changed or deleted,
// so the engine stops using its cached copy.
func (e *Engine) WebhookChanged(id, tenant string) {
	e.cache.invalidate(id, tenant)
	e.broadcast(store.TopicWebhook, id+" "+tenant)
}

func (e *Engine) newToken() string {
	return e.node + "." + strconv.FormatUint(e.tokenSeq.Add(1), 36)
}

// take reserves up to n queue slots and returns how many it got.
func (e *Engine) take(n int) int { return e.takeWithin(n, e.o.QueueSize) }

// claimRoom is how much of the queue claims may fill. The rest is kept for
// fresh deliveries (Publish's fast path), so that a large backlog of one
// webhook, claimed only to be deferred or held, cannot keep every other
// webhook's new deliveries waiting behind it in the store.
func (e *Engine) claimRoom() int { return e.o.QueueSize - e.o.QueueSize/4 }

// takeWithin reserves up to n queue slots, while no more than limit are in
// use, and returns how many it got.
func (e *Engine) takeWithin(n, limit int) int {
	for {
		cur := e.inUse.Load()
		free := int64(limit) - cur
		if free <= 0 {
			return 0
		}
		got := min(int64(n), free)
		if e.inUse.CompareAndSwap(cur, cur+got) {
			e.o.Metrics.QueueInUse.Set(float64(cur + got))
			return int(got)
		}
	}
}

func (e *Engine) give(n int) {
	if n == 0 {
		return
	}
	v := e.inUse.Add(int64(-n))
	e.o.Metrics.QueueInUse.Set(float64(v))
	if e.starved.CompareAndSwap(true, false) {
		e.Notify()
	}
}

// maxWakes bounds the retry times remembered for waking; past it, polling covers
// the rest.
const maxWakes = 100_000

// wakeTimes is a min-heap of times (container/heap).
type wakeTimes []time.Time

func (h wakeTimes) Len() int           { return len(h) }
func (h wakeTimes) Less(i, j int) bool { return h[i].Before(h[j]) }
func (h wakeTimes) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *wakeTimes) Push(x any)        { *h = append(*h, x.(time.Time)) }
func (h *wakeTimes) Pop() any {
	old := *h
	t := old[len(old)-1]
	*h = old[:len(old)-1]
	return t
}

// scheduleWake makes the claim loop look again at t (a retry this process set).
// Every such time is kept, not only the earliest: once the earliest has been
// claimed, the next one must still wake the loop.
func (e *Engine) scheduleWake(t time.Time) {
	e.wakeMu.Lock()
	if len(e.wakes) < maxWakes {
		heap.Push(&e.wakes, t)
	}
	e.wakeMu.Unlock()
	e.Notify() // the loop recomputes its timer
}

func (e *Engine) nextPoll() time.Duration {
	d := e.o.PollInterval
	now := e.o.Now()
	e.wakeMu.Lock()
	defer e.wakeMu.Unlock()
	due := false
	for len(e.wakes) > 0 && !e.wakes[0].After(now) {
		heap.Pop(&e.wakes)
		due = true
	}
	if due {
		return 0
	}
	if len(e.wakes) > 0 {
		d = min(d, e.wakes[0].Sub(now)+time.Millisecond)
	}
	return d
}

func (e *Engine) claimLoop(ctx context.Context) {
	defer close(e.claimDone)
	timer := time.NewTimer(0)
	defer timer.Stop()
	var probed time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-e.wake:
		case <-timer.C:
		}
		if now := e.o.Now(); now.Sub(probed) >= e.o.PollInterval {
			probed = now
			e.probeDue(ctx)
		}
		e.claimDue(ctx)
		timer.Reset(e.nextPoll())
	}
}

// msgClaimFailed is logged, throttled, while claims fail.
const msgClaimFailed = "claiming due deliveries failed; will retry"

// claimDue claims due deliveries until none is left or the queue is full.
func (e *Engine) claimDue(ctx context.Context) {
	for ctx.Err() == nil {
		n := e.takeWithin(e.o.ClaimBatch, e.claimRoom())
		if n == 0 {
			e.starved.Store(true)
			if e.inUse.Load() < int64(e.claimRoom()) && e.starved.CompareAndSwap(true, false) {
				continue // a slot came free between the two checks
			}
			return
		}
		now := e.o.Now()
		token := e.newToken()
		claimed, err := e.o.Store.DeliveryClaim(ctx, store.DeliveryClaimParams{
			Now: now, LeaseUntil: now.Add(e.o.Lease), LeaseToken: token, Limit: n,
		})
		e.give(n - len(claimed))
		if err != nil {
			if ctx.Err() == nil {
				e.log.Error(msgClaimFailed, "err", err)
			}
			return
		}
		logthrottle.Resolved(ctx, e.log, msgClaimFailed, "claiming due deliveries works again")
		if !e.push(claimed, now.Add(e.o.Lease)) {
			return
		}
		if len(claimed) < n {
			return
		}
	}
}

// push queues claimed deliveries, leased until leaseUntil; after Shutdown began
// it keeps them for release.
func (e *Engine) push(claimed []store.ClaimedDelivery, leaseUntil time.Time) bool {
	e.pushMu.RLock()
	defer e.pushMu.RUnlock()
	for i := range claimed {
		c := &claimed[i]
		if e.closed {
			e.keepForRelease(c.Delivery.ID, c.LeaseToken)
			e.give(1)
			continue
		}
		ev := c.Event
		e.jobs <- job{delivery: c.Delivery, event: &ev, token: c.LeaseToken, leaseUntil: leaseUntil}
	}
	return !e.closed
}

func (e *Engine) keepForRelease(id, token string) {
	e.releaseMu.Lock()
	e.toRelease = append(e.toRelease, store.DeliveryLease{ID: id, LeaseToken: token})
	e.releaseMu.Unlock()
}

func (e *Engine) worker() {
	defer e.workers.Done()
	for j := range e.jobs {
		e.handle(j)
	}
}

// handle passes a job through its webhook's gate: it is attempted now, parked
// for the webhook's next free slot, or deferred. After an attempt, the worker
// goes on with a job the freed slot lets start, if one was parked; other
// parked jobs that free slots let start go to other workers.
func (e *Engine) handle(j job) {
	for {
		if e.stopping.Load() {
			e.keepForRelease(j.delivery.ID, j.token)
			e.give(1)
			return
		}
		started := j.admitted // set when done let it in
		if started.IsZero() {
			started = e.o.Now()
			switch a, until := e.gates.admit(j, started); a {
			case admitPark:
				return // its queue slot stays taken until it runs
			case admitDefer:
				e.deferJob(j, until)
				return
			case admitHold:
				e.holdJob(j)
				return
			}
		}
		s := e.attempt(j, started)
		s.started = started
		e.give(1)
		now := e.o.Now()
		r := e.gates.done(j.delivery.WebhookID, s, now)
		for _, d := range r.deferred {
			e.deferJob(d.job, d.until)
		}
		for _, h := range r.held {
			e.holdJob(h)
		}
		switch {
		case r.opened:
			go e.openCircuit(j.delivery.WebhookID)
		case r.closed:
			e.closeCircuit(j.delivery.WebhookID)
		}
		if r.recall > 0 {
			e.recall(j.delivery.WebhookID, r.recall, r.recallGen)
		}
		if len(r.start) == 0 {
			return
		}
		for _, next := range r.start[1:] {
			e.requeue(next)
		}
		j = r.start[0]
	}
}

// requeue hands a job its gate let in to another worker; after Shutdown began
// it keeps it for release.
func (e *Engine) requeue(j job) {
	e.pushMu.RLock()
	defer e.pushMu.RUnlock()
	if e.closed {
		e.keepForRelease(j.delivery.ID, j.token)
		e.give(1)
		return
	}
	e.jobs <- j // room: every job in the channel holds a queue slot already
}

// recall makes up to n of a webhook's deferred deliveries due now, since it
// has free slots and nothing waiting, and wakes the claim loop to take them;
// gen is the gate's deferral count when the recall was decided. A recall
// that missed deferrals written while it ran is made again, a few times at
// most (more means deferrals keep coming, and the next attempt's end recalls).
func (e *Engine) recall(webhookID string, n int, gen uint64) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	total := 0
	for range 3 {
		got, err := e.o.Store.DeliveryRecall(ctx, store.DeliveryRecallParams{WebhookID: webhookID, Limit: n, Now: e.o.Now()})
		if err != nil {
			e.log.Error("recalling deferred deliveries failed; they come back at their time", "webhook", webhookID, "err", err)
			break
		}
		total += got
		if n, gen = e.gates.recalled(webhookID, n, got, gen); n == 0 {
			break
		}
	}
	if total > 0 {
		e.o.Metrics.DeliveriesRecalled.Add(float64(total))
		e.Notify()
		e.broadcast(store.TopicWork, "")
	}
}

// renew moves a job's lease end to until, in a commit shared with concurrent
// renewals, and reports whether the job's token still held the delivery.
func (e *Engine) renew(ctx context.Context, j job, until time.Time) (bool, error) {
	ok, err := e.renewals.run(ctx, []store.DeliveryRenewal{{
		DeliveryLease: store.DeliveryLease{ID: j.delivery.ID, LeaseToken: j.token}, Until: until,
	}})
	if err != nil {
		return false, err
	}
	return ok[0], nil
}

// marshalOps encodes an operational event's data.
func marshalOps(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}
