package bench

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// class is how the receiver treats one webhook's requests.
type class uint8

const (
	healthy class = iota // answered after --latency
	slow                 // answered after --slow-latency
	stuck                // never answered: held until the client gives up
)

func (c class) String() string {
	return [...]string{"healthy", "slow", "timeout"}[c]
}

// classes gives the first round(n×timeoutRatio) webhooks the class stuck, the
// next round(n×slowRatio) slow, and the rest healthy. Events go round-robin to
// the webhooks, so each class gets its share of the load.
func classes(n int, timeoutRatio, slowRatio float64) []class {
	cs := make([]class, n)
	stuckN := int(float64(n)*timeoutRatio + 0.5)
	slowN := min(int(float64(n)*slowRatio+0.5), n-stuckN)
	for k := range cs {
		switch {
		case k < stuckN:
			cs[k] = stuck
		case k < stuckN+slowN:
			cs[k] = slow
		}
	}
	return cs
}

// seqKey is the member of the event data the bench publishes that numbers the
// event; the receiver finds it in any envelope.
const seqKey = `"hlbench_seq":`

// ParseSeq finds "hlbench_seq": in a request body and returns the integer after
// it. Envelopes differ between servers and profiles; the data the bench
// publishes is inside all of them.
func ParseSeq(body []byte) (int, bool) {
	i := bytes.Index(body, []byte(seqKey))
	if i < 0 {
		return 0, false
	}
	rest := bytes.TrimLeft(body[i+len(seqKey):], " \t\r\n")
	end := 0
	for end < len(rest) && end <= 18 && rest[end] >= '0' && rest[end] <= '9' {
		end++
	}
	if end == 0 || end > 18 { // 18 digits fit in an int on every platform Go has
		return 0, false
	}
	n, err := strconv.Atoi(string(rest[:end]))
	return n, err == nil
}

// receiver is the webhooks' endpoint, on loopback: webhook k is POST /w/<k>.
type receiver struct {
	clock       clock
	deliveries  *deliveries
	classes     []class
	latency     time.Duration
	slowLatency time.Duration
	failRatio   float64

	srv     *http.Server
	ln      net.Listener
	release chan struct{} // closed at the end: held requests are dropped
	once    sync.Once
	bufs    sync.Pool

	requests atomic.Int64 // every request
	failed   atomic.Int64 // answered 500 because of --fail-ratio
	held     atomic.Int64 // requests to timeout webhooks, never answered
	other    atomic.Int64 // requests without hlbench_seq (e.g. a test send), answered 200
	dead     atomic.Int64 // requests to the dead webhook (deadPath), never answered
}

func startReceiver(c clock, d *deliveries, cs []class, o Options) (*receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	rc := &receiver{clock: c, deliveries: d, classes: cs, latency: o.Latency, slowLatency: o.SlowLatency,
		failRatio: o.FailRatio, ln: ln, release: make(chan struct{}),
		bufs: sync.Pool{New: func() any { return new(bytes.Buffer) }}}
	rc.srv = &http.Server{Handler: rc, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	go rc.srv.Serve(ln)
	return rc, nil
}

// url is the address of webhook k.
func (rc *receiver) url(k int) string {
	return rc.base() + "/w/" + strconv.Itoa(k)
}

func (rc *receiver) base() string { return "http://" + rc.ln.Addr().String() }

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	arrived := rc.clock.now()
	rc.requests.Add(1)
	if r.URL.Path == deadPath {
		rc.dead.Add(1)
		rc.hold(r.Context(), -1)
		panic(http.ErrAbortHandler) // no answer at all
	}
	k, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/w/"))
	if err != nil || k < 0 || k >= len(rc.classes) || !strings.HasPrefix(r.URL.Path, "/w/") {
		http.NotFound(w, r)
		return
	}
	buf := rc.bufs.Get().(*bytes.Buffer)
	defer rc.bufs.Put(buf)
	buf.Reset()
	if _, err := io.Copy(buf, io.LimitReader(r.Body, 4<<20)); err != nil {
		return
	}
	seq, ok := ParseSeq(buf.Bytes())
	if !ok {
		rc.other.Add(1)
		return // 200: not one of the bench's events (a test send, say)
	}
	delay := rc.latency
	switch rc.classes[k] {
	case stuck:
		rc.held.Add(1)
		rc.hold(r.Context(), -1)
		panic(http.ErrAbortHandler) // drop the connection: no answer at all
	case slow:
		delay = rc.slowLatency
	}
	if delay > 0 && !rc.hold(r.Context(), delay) {
		panic(http.ErrAbortHandler)
	}
	if rc.failRatio > 0 && rand.Float64() < rc.failRatio {
		rc.failed.Add(1)
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	rc.deliveries.record(k, seq, arrived)
	w.WriteHeader(http.StatusOK)
}

// hold waits d (forever when negative) and reports whether it did, rather than
// the request ending or the receiver closing first.
func (rc *receiver) hold(ctx context.Context, d time.Duration) bool {
	var timeout <-chan time.Time
	if d >= 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-timeout:
		return true
	case <-ctx.Done():
	case <-rc.release:
	}
	return false
}

// close drops held requests and stops the receiver.
func (rc *receiver) close() {
	rc.once.Do(func() {
		close(rc.release)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := rc.srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			rc.srv.Close()
		}
	})
}
