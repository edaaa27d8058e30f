package delivery

import (
	"sync"
	"time"
)

// stallWatch notices when this process stood still: paused (SIGSTOP, a VM
// migrated), or starved of CPU. An attempt that spans such a stall measures
// the process, not the endpoint, and says nothing of the endpoint's health. A
// ticker runs while attempts are in flight (none when idle), and a tick later
// than stallGap marks the time since the previous tick as a stall.
type stallWatch struct {
	mu       sync.Mutex
	inFlight int
	running  bool
	last     time.Time  // the latest tick
	stalls   [8]stretch // the latest stalls, newest at next-1
	next     int
}

// stretch is a span of time.
type stretch struct{ from, to time.Time }

const (
	stallTick = 100 * time.Millisecond
	// stallGap is how late a tick must be to count as a stall: far beyond what
	// a busy but running process delays a timer.
	stallGap = time.Second
)

// begin counts an attempt in flight, starting the ticker if it was idle.
func (w *stallWatch) begin() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.inFlight++
	if !w.running {
		w.running = true
		w.last = time.Now()
		go w.tick()
	}
}

// end counts an attempt done; the ticker stops at its next tick when none is
// in flight.
func (w *stallWatch) end() {
	w.mu.Lock()
	w.inFlight--
	w.mu.Unlock()
}

func (w *stallWatch) tick() {
	t := time.NewTicker(stallTick)
	defer t.Stop()
	for range t.C {
		if !w.observe(time.Now()) {
			return
		}
	}
}

// observe records a tick at now and reports whether the ticker is to go on.
func (w *stallWatch) observe(now time.Time) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if now.Sub(w.last) > stallGap {
		w.stalls[w.next%len(w.stalls)] = stretch{from: w.last, to: now}
		w.next++
	}
	w.last = now
	if w.inFlight <= 0 {
		w.running = false
		return false
	}
	return true
}

// overlaps reports whether the span from..to overlaps a stall: one seen so
// far, or one still going on at to, when the last tick is older than stallGap
// (the process resumed, and the ticker has not yet had its turn).
func (w *stallWatch) overlaps(from, to time.Time) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.running && to.Sub(w.last) > stallGap {
		return true
	}
	for _, s := range w.stalls {
		if !s.to.IsZero() && s.from.Before(to) && from.Before(s.to) {
			return true
		}
	}
	return false
}
