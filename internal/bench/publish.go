package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// publishAttempts bounds how often one publish request is sent before its events
// count as publish errors.
const publishAttempts = 5

// load is the engine of the load generator, shared by the event publisher and
// the key verifier: concurrency goroutines working through operations
// 0..n-1 in groups of batch (one request each), as fast as possible or on a
// fixed schedule, each request to the next node in turn. It records when each
// operation was scheduled or sent, counts those that succeeded and those given
// up, and stops at the first fatal error.
type load struct {
	clock clock
	bases []string // the nodes, used round-robin
	n     int
	batch int
	rate  float64 // operations per second; 0: as fast as possible

	// sentAt[seq] is the instant operation seq was scheduled (fixed rate) or
	// its first request was sent: latencies count from it. Each is written by
	// the one goroutine that performs it and read after they end.
	sentAt []int64

	next      atomic.Int64 // the next seq to perform
	rr        atomic.Uint64
	nAccepted atomic.Int64 // operations that succeeded
	nErrors   atomic.Int64 // operations given up
	start     int64        // instant the load started
	end       atomic.Int64

	failOnce  sync.Once
	fatal     error  // an answer that retrying cannot fix; the load stops
	lastError string // the last error of an operation given up, for the report
	mu        sync.Mutex
}

func newLoad(c clock, bases []string, n, batch int, rate float64) load {
	return load{clock: c, bases: bases, n: n, batch: batch, rate: rate, sentAt: make([]int64, n)}
}

// run performs the operations: do(ctx, lo, hi) performs lo..hi-1 in one
// request, once they are due. An error from do is fatal: it stops the load.
func (l *load) run(ctx context.Context, concurrency int, do func(ctx context.Context, lo, hi int) error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	l.start = l.clock.now()
	var wg sync.WaitGroup
	for range concurrency {
		wg.Go(func() {
			for ctx.Err() == nil {
				lo := int(l.next.Add(int64(l.batch))) - l.batch
				if lo >= l.n {
					return
				}
				hi := min(lo+l.batch, l.n)
				if !l.pace(ctx, lo, hi) {
					return
				}
				if err := do(ctx, lo, hi); err != nil {
					l.failOnce.Do(func() { l.fatal = err })
					cancel()
				}
			}
		})
	}
	wg.Wait()
	l.end.Store(l.clock.now())
}

// due is when operation seq is scheduled in fixed-rate mode.
func (l *load) due(seq int) int64 {
	return l.start + int64(float64(seq)/l.rate*1e9)
}

// pace waits until operations lo..hi-1 are due (a batch leaves with its last
// one) and records when each counts from: its scheduled instant at a fixed
// rate — not when it is sent: no coordinated omission — or now. It returns
// false when ctx ended first.
func (l *load) pace(ctx context.Context, lo, hi int) bool {
	if l.rate <= 0 {
		now := l.clock.now()
		for seq := lo; seq < hi; seq++ {
			l.sentAt[seq] = now
		}
		return true
	}
	if wait := time.Duration(l.due(hi-1) - l.clock.now()); wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
	}
	for seq := lo; seq < hi; seq++ {
		l.sentAt[seq] = l.due(seq)
	}
	return true
}

// base is the node the next request goes to.
func (l *load) base() string {
	return l.bases[l.rr.Add(1)%uint64(len(l.bases))]
}

// giveUp counts n operations given up, for why.
func (l *load) giveUp(n int, why string) {
	l.nErrors.Add(int64(n))
	l.mu.Lock()
	l.lastError = why
	l.mu.Unlock()
}

// publisher is the event load: events 0..n-1 published through the API, one
// by one or in batches, as fast as possible or on a fixed schedule.
type publisher struct {
	load
	client  *client
	runID   string
	tenant  func(seq int) string
	padding string
	noBatch string // what to say when the server has no batch endpoint

	accepted []bool // each written by the one goroutine that publishes it
	retries  atomic.Int64
}

func (p *publisher) run(ctx context.Context, concurrency int) {
	p.load.run(ctx, concurrency, p.publish)
}

// publish sends events lo..hi-1, which are due, in one request, retrying the
// ones not accepted a bounded number of times.
func (p *publisher) publish(ctx context.Context, lo, hi int) error {
	pending := make([]int, 0, hi-lo)
	for seq := lo; seq < hi; seq++ {
		pending = append(pending, seq)
	}
	base := p.base()
	var last string
	for attempt := range publishAttempts {
		if attempt > 0 {
			p.retries.Add(1)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(time.Duration(50<<attempt) * time.Millisecond):
			}
		}
		var err error
		pending, last, err = p.send(ctx, base, pending)
		if err != nil || len(pending) == 0 || ctx.Err() != nil {
			return err
		}
	}
	p.giveUp(len(pending), last)
	return nil
}

// send makes one publish request for seqs and returns those to try again, with
// why. It returns an error for an answer that retrying will not change.
func (p *publisher) send(ctx context.Context, base string, seqs []int) ([]int, string, error) {
	path, body := "/v1/events", p.body(seqs)
	if p.batch > 1 {
		path = "/v1/events/batch"
	}
	a, err := p.client.do(ctx, http.MethodPost, base+path, body)
	switch {
	case err != nil:
		return seqs, err.Error(), nil
	case retryable(a.status):
		return seqs, truncate(a.String(), 300), nil
	case a.status != http.StatusAccepted:
		hint := authHint(a)
		if a.status == http.StatusNotFound && p.batch > 1 {
			hint = p.noBatch
		}
		return nil, "", setupError("publishing (POST "+path+")", a, hint)
	case p.batch <= 1:
		p.accept(seqs[0])
		return nil, "", nil
	}
	var out struct {
		Results []struct {
			Status int             `json:"status"`
			Error  json.RawMessage `json:"error"`
		} `json:"results"`
	}
	if err := json.Unmarshal(a.body, &out); err != nil || len(out.Results) != len(seqs) {
		return nil, "", fmt.Errorf("publishing (POST %s): want one result per event (%d), got %s", path, len(seqs), truncate(string(a.body), 300))
	}
	var again []int
	var why string
	for i, r := range out.Results {
		switch {
		case r.Status == http.StatusAccepted || r.Status == http.StatusOK || r.Status == http.StatusCreated:
			p.accept(seqs[i])
		case retryable(r.Status):
			again, why = append(again, seqs[i]), fmt.Sprintf("event result %d %s", r.Status, r.Error)
		default:
			return nil, "", fmt.Errorf("publishing (POST %s): event %d refused: %d %s", path, seqs[i], r.Status, truncate(string(r.Error), 1000))
		}
	}
	return again, why, nil
}

func (p *publisher) accept(seq int) {
	p.accepted[seq] = true
	p.nAccepted.Add(1)
}

// retryable: answers that may change if asked again.
func retryable(status int) bool {
	return status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500
}

// body is the request publishing seqs: one event, or {"events": [...]}.
func (p *publisher) body(seqs []int) []byte {
	var b bytes.Buffer
	if p.batch > 1 {
		b.WriteString(`{"events":[`)
	}
	for i, seq := range seqs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"type":"` + eventType + `","tenant":`)
		b.WriteString(strconv.Quote(p.tenant(seq)))
		b.WriteString(`,"id":"hlbench-` + p.runID + "-" + strconv.Itoa(seq) + `","data":{` + seqKey)
		b.WriteString(strconv.Itoa(seq))
		if p.padding != "" {
			b.WriteString(`,"pad":"` + p.padding + `"`)
		}
		b.WriteString("}}")
	}
	if p.batch > 1 {
		b.WriteString("]}")
	}
	return b.Bytes()
}

// padding returns the filler that makes the event data about n bytes long.
func padding(n int) string {
	const overhead = len(`{"hlbench_seq":1234567,"pad":""}`)
	if n <= overhead {
		return ""
	}
	return strings.Repeat("x", n-overhead)
}
