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

// publisher is the load generator: concurrency goroutines publishing events
// 0..events-1 through the API, one by one or in batches, as fast as possible or
// on a fixed schedule.
type publisher struct {
	clock   clock
	client  *client
	bases   []string // the nodes, used round-robin
	runID   string
	tenant  func(seq int) string
	events  int
	batch   int
	rate    float64 // events per second; 0: as fast as possible
	padding string
	noBatch string // what to say when the server has no batch endpoint

	// sentAt[seq] is the instant the event was scheduled (fixed rate) or its
	// first publish request was sent: latencies count from it. Each event is
	// written by the one goroutine that publishes it and read after they end.
	sentAt   []int64
	accepted []bool

	next      atomic.Int64 // the next seq to publish
	rr        atomic.Uint64
	nAccepted atomic.Int64
	nErrors   atomic.Int64
	retries   atomic.Int64
	start     int64 // instant publishing started
	end       atomic.Int64

	failOnce  sync.Once
	fatal     error  // a refusal that retrying cannot fix; publishing stops
	lastError string // the last publish error, for the report
	mu        sync.Mutex
}

func (p *publisher) run(ctx context.Context, concurrency int) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	p.start = p.clock.now()
	var wg sync.WaitGroup
	for range concurrency {
		wg.Go(func() {
			for ctx.Err() == nil {
				lo := int(p.next.Add(int64(p.batch))) - p.batch
				if lo >= p.events {
					return
				}
				hi := min(lo+p.batch, p.events)
				if err := p.publish(ctx, lo, hi); err != nil {
					p.failOnce.Do(func() { p.fatal = err })
					cancel()
				}
			}
		})
	}
	wg.Wait()
	p.end.Store(p.clock.now())
}

// due is when event seq is scheduled in fixed-rate mode.
func (p *publisher) due(seq int) int64 {
	return p.start + int64(float64(seq)/p.rate*1e9)
}

// publish sends events lo..hi-1 in one request, retrying the ones not accepted
// a bounded number of times.
func (p *publisher) publish(ctx context.Context, lo, hi int) error {
	if p.rate > 0 {
		wait := time.Duration(p.due(hi-1) - p.clock.now()) // a batch leaves with its last event
		if wait > 0 {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(wait):
			}
		}
		for seq := lo; seq < hi; seq++ {
			p.sentAt[seq] = p.due(seq) // not when sent: no coordinated omission
		}
	} else {
		now := p.clock.now()
		for seq := lo; seq < hi; seq++ {
			p.sentAt[seq] = now
		}
	}
	pending := make([]int, 0, hi-lo)
	for seq := lo; seq < hi; seq++ {
		pending = append(pending, seq)
	}
	base := p.bases[p.rr.Add(1)%uint64(len(p.bases))]
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
	p.nErrors.Add(int64(len(pending)))
	p.mu.Lock()
	p.lastError = last
	p.mu.Unlock()
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
