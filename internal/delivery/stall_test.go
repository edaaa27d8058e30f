package delivery

import (
	"testing"
	"time"
)

func TestStallWatch(t *testing.T) {
	t.Parallel()
	var w stallWatch
	t0 := time.Now()
	w.inFlight, w.running, w.last = 1, true, t0
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	for i := 1; i <= 10; i++ {
		if !w.observe(at(time.Duration(i) * 100 * time.Millisecond)) {
			t.Fatal("the ticker stopped with an attempt in flight")
		}
	}
	if w.overlaps(at(0), at(time.Second)) {
		t.Error("ticks on time: got a stall, want none")
	}
	// Paused from 1 s to 6 s: the first tick after it is late.
	if w.overlaps(at(500*time.Millisecond), at(6*time.Second)) != true {
		t.Error("an attempt ending right after a pause, before the late tick: got no stall, want one (the last tick is 5 s old)")
	}
	w.observe(at(6 * time.Second))
	w.observe(at(6100 * time.Millisecond))
	for _, c := range []struct {
		name     string
		from, to time.Duration
		want     bool
	}{
		{"spans the pause", 500 * time.Millisecond, 6050 * time.Millisecond, true},
		{"starts in the pause", 3 * time.Second, 7 * time.Second, true},
		{"before the pause", 0, 900 * time.Millisecond, false},
		{"after the pause", 6050 * time.Millisecond, 6100 * time.Millisecond, false},
	} {
		if got := w.overlaps(at(c.from), at(c.to)); got != c.want {
			t.Errorf("%s: got stall %v, want %v", c.name, got, c.want)
		}
	}
	w.inFlight = 0
	if w.observe(at(6200 * time.Millisecond)) {
		t.Error("the ticker goes on with nothing in flight")
	}
}

// With attempts in flight the ticker runs; without, it stops, so an idle
// engine has no timer waking it.
func TestStallWatchTickerStops(t *testing.T) {
	t.Parallel()
	var w stallWatch
	w.begin()
	w.begin()
	w.end()
	time.Sleep(3 * stallTick)
	w.mu.Lock()
	running := w.running
	w.mu.Unlock()
	if !running {
		t.Fatal("the ticker stopped with an attempt in flight")
	}
	w.end()
	deadline := time.Now().Add(5 * time.Second)
	for {
		w.mu.Lock()
		running = w.running
		w.mu.Unlock()
		if !running {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the ticker still runs with nothing in flight")
		}
		time.Sleep(stallTick)
	}
}
