package logthrottle

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a settable time, with the functions AfterFunc scheduled, run when
// advance reaches them.
type clock struct {
	mu     sync.Mutex
	t      time.Time
	timers []*timer
}

type timer struct {
	at      time.Time
	f       func()
	stopped bool
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) afterFunc(d time.Duration, f func()) func() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	tm := &timer{at: c.t.Add(d), f: f}
	c.timers = append(c.timers, tm)
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		was := !tm.stopped
		tm.stopped = true
		return was
	}
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	var due []func()
	for _, tm := range c.timers {
		if !tm.stopped && !tm.at.After(c.t) {
			tm.stopped = true
			due = append(due, tm.f)
		}
	}
	c.mu.Unlock()
	for _, f := range due {
		f()
	}
}

// setup returns a throttled logger writing text lines to the returned buffer,
// and its clock.
func setup(t *testing.T, level slog.Leveler) (*slog.Logger, *bytes.Buffer, *clock) {
	t.Helper()
	var buf bytes.Buffer
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	next := slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})
	return slog.New(New(next, Options{Level: level, Interval: 10 * time.Second, Now: c.now, AfterFunc: c.afterFunc})), &buf, c
}

func lines(buf *bytes.Buffer) []string {
	s := strings.TrimSpace(buf.String())
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func TestRepeatedErrorsAreCounted(t *testing.T) {
	t.Parallel()
	log, buf, c := setup(t, nil)
	for i := range 1000 {
		log.Error("publish refused", "n", i)
		c.advance(5 * time.Millisecond)
	}
	// 5 s of errors: the first line only; the others wait for the interval's end.
	if got := lines(buf); len(got) != 1 || !strings.Contains(got[0], "n=0") {
		t.Fatalf("1000 errors within the interval: got %q, want the first line only", got)
	}
	c.advance(5 * time.Second)
	got := lines(buf)
	if len(got) != 2 || !strings.Contains(got[1], "n=999") || !strings.Contains(got[1], "suppressed=999") {
		t.Fatalf("at the interval's end: got %q, want the last error with suppressed=999", got)
	}
	c.advance(time.Hour)
	if got := lines(buf); len(got) != 2 {
		t.Fatalf("nothing held back: got %q, want no more lines", got)
	}
	log.Error("publish refused", "n", 1000)
	if got := lines(buf); len(got) != 3 || strings.Contains(got[2], "suppressed") {
		t.Errorf("after a quiet interval: got %q, want a third line at once, nothing suppressed", got)
	}
}

// A storm that goes on gets one line per interval, whatever its rate.
func TestOneLinePerInterval(t *testing.T) {
	t.Parallel()
	log, buf, c := setup(t, nil)
	for range 60_000 { // a minute at 1000/s
		log.Error("publish refused")
		c.advance(time.Millisecond)
	}
	if got := lines(buf); len(got) != 7 {
		t.Errorf("a minute of errors: got %d lines, want 7 (the first, then one per 10 s)", len(got))
	}
}

func TestMessagesAreThrottledApart(t *testing.T) {
	t.Parallel()
	log, buf, _ := setup(t, nil)
	for range 10 {
		log.Error("claim failed")
		log.Error("publish refused")
		log.With("component", "delivery").Error("claim failed") // derived loggers share the runs
	}
	got := lines(buf)
	if len(got) != 2 || !strings.Contains(got[0], "claim failed") || !strings.Contains(got[1], "publish refused") {
		t.Errorf("got %q, want one line of each message", got)
	}
}

func TestBelowLevelPasses(t *testing.T) {
	t.Parallel()
	log, buf, _ := setup(t, slog.LevelError)
	for range 5 {
		log.Warn("webhook disabled")
		log.Info("purged")
	}
	if got := lines(buf); len(got) != 10 {
		t.Errorf("got %d lines, want all 10 below the throttled level", len(got))
	}
}

func TestResolved(t *testing.T) {
	t.Parallel()
	log, buf, c := setup(t, nil)
	ctx := context.Background()
	Resolved(ctx, log, "publish refused", "storage is back")
	if got := lines(buf); len(got) != 0 {
		t.Fatalf("Resolved with no run open: got %q, want nothing", got)
	}
	for range 50 {
		log.Error("publish refused")
	}
	c.advance(3 * time.Second)
	Resolved(ctx, log, "publish refused", "storage is back")
	Resolved(ctx, log, "publish refused", "storage is back")
	got := lines(buf)
	if len(got) != 2 || !strings.Contains(got[1], "level=INFO msg=\"storage is back\" count=50 lasted=3s") {
		t.Fatalf("got %q, want the first error then one INFO line with count=50 lasted=3s", got)
	}
	c.advance(time.Minute)
	if got := lines(buf); len(got) != 2 {
		t.Fatalf("after Resolved: got %q, want no line for the records it counted", got)
	}
	log.Error("publish refused")
	if got := lines(buf); len(got) != 3 {
		t.Errorf("an error after Resolved: got %q, want it written at once", got)
	}
	Resolved(ctx, slog.New(slog.NewTextHandler(buf, nil)), "publish refused", "storage is back") // not throttled: a no-op
	if got := lines(buf); len(got) != 3 {
		t.Errorf("Resolved on a logger that is not throttled: got %q", got)
	}
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	log, buf, _ := setup(t, nil)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				log.Error("publish refused")
				Resolved(context.Background(), log, "other", "never logged")
			}
		}()
	}
	wg.Wait()
	if got := lines(buf); len(got) != 1 {
		t.Errorf("1600 concurrent errors: got %d lines, want 1", len(got))
	}
}
