// Package logthrottle keeps a storm of one error from flooding the log. While
// storage is down every refused publish and every failed claim fails the same
// way, thousands of times a minute; an operator needs the first line, a count
// now and then, and a line when it is over.
package logthrottle

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultInterval is the least time between two lines of one message.
const DefaultInterval = 10 * time.Second

// Options configure a Handler.
type Options struct {
	// Level is the least level throttled; records below it pass untouched.
	// slog.LevelError when nil.
	Level slog.Leveler
	// Interval is the least time between two lines of one message;
	// DefaultInterval when zero.
	Interval time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// AfterFunc runs f after d and returns what cancels it; time.AfterFunc's
	// when nil.
	AfterFunc func(d time.Duration, f func()) (stop func() bool)
}

// Handler is a slog.Handler that writes, of the records at or above its level
// with one message (a run), the first at once and then at most one per
// Interval: the last one held back, at the end of the interval, with
// "suppressed", how many were held back since the line before. Resolved ends
// a run. Messages are expected to be constants, as a run is kept per message
// until it is resolved.
type Handler struct {
	next slog.Handler
	st   *state // shared with the handlers WithAttrs and WithGroup derive
}

type state struct {
	o    Options
	open atomic.Int32 // runs open, so that Resolved takes no lock when there are none
	mu   sync.Mutex
	runs map[string]*run
}

// run counts the records of one message since the first was written.
type run struct {
	since   time.Time // when the first was written
	written time.Time // when the last line was written
	total   int       // records, written or held back
	held    int       // held back since the last line
	last    slog.Record
	lastTo  slog.Handler // where last goes: the handler it came through
	stop    func() bool  // cancels the flush of the held records; nil when none is due
}

// New returns a Handler that throttles what it passes to next.
func New(next slog.Handler, o Options) *Handler {
	if o.Level == nil {
		o.Level = slog.LevelError
	}
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.AfterFunc == nil {
		o.AfterFunc = func(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }
	}
	return &Handler{next: next, st: &state{o: o, runs: map[string]*run{}}}
}

// Wrap returns a logger writing through log's handler, throttled.
func Wrap(log *slog.Logger, o Options) *slog.Logger {
	return slog.New(New(log.Handler(), o))
}

// Enabled implements slog.Handler.
func (h *Handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

// Handle implements slog.Handler.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < h.st.o.Level.Level() || !h.st.count(h.next, r) {
		return h.next.Handle(ctx, r)
	}
	return nil
}

// WithAttrs implements slog.Handler.
func (h *Handler) WithAttrs(as []slog.Attr) slog.Handler {
	return &Handler{next: h.next.WithAttrs(as), st: h.st}
}

// WithGroup implements slog.Handler.
func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{next: h.next.WithGroup(name), st: h.st}
}

// count adds rec, which came through to, to the run of its message, and
// tells whether it is held back rather than written now.
func (s *state) count(to slog.Handler, rec slog.Record) (held bool) {
	now := s.o.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.runs[rec.Message]
	if r == nil {
		s.runs[rec.Message] = &run{since: now, written: now, total: 1}
		s.open.Add(1)
		return false
	}
	r.total++
	if r.held == 0 && now.Sub(r.written) >= s.o.Interval {
		r.written = now // a quiet interval: written at once
		return false
	}
	r.held++
	r.last, r.lastTo = rec.Clone(), to
	if r.stop == nil {
		msg := rec.Message
		r.stop = s.o.AfterFunc(s.o.Interval-now.Sub(r.written), func() { s.flush(msg) })
	}
	return true
}

// flush writes the last record held back of msg's run, with the count held
// back since the line before.
func (s *state) flush(msg string) {
	s.mu.Lock()
	r := s.runs[msg]
	if r == nil || r.held == 0 {
		s.mu.Unlock()
		return
	}
	rec, to, held := r.last, r.lastTo, r.held
	r.held, r.last, r.lastTo, r.stop, r.written = 0, slog.Record{}, nil, nil, s.o.Now()
	s.mu.Unlock()
	rec.AddAttrs(slog.Int("suppressed", held))
	_ = to.Handle(context.Background(), rec)
}

// Resolved ends the run of records with message msg, if log's handler is a
// Handler with one open: it writes line at INFO with the run's count of
// records and how long it lasted, and the next record of msg is written at
// once. It is cheap when no run is open, for a caller to call it after every
// success.
func Resolved(ctx context.Context, log *slog.Logger, msg, line string) {
	h, ok := log.Handler().(*Handler)
	if !ok || h.st.open.Load() == 0 {
		return
	}
	s := h.st
	now := s.o.Now()
	s.mu.Lock()
	r := s.runs[msg]
	if r != nil {
		delete(s.runs, msg)
		s.open.Add(-1)
		if r.stop != nil {
			r.stop() // the line below counts the records held back too
		}
	}
	s.mu.Unlock()
	if r == nil || !h.next.Enabled(ctx, slog.LevelInfo) {
		return
	}
	rec := slog.NewRecord(time.Now(), slog.LevelInfo, line, 0)
	rec.AddAttrs(slog.Int("count", r.total), slog.Duration("lasted", now.Sub(r.since)))
	_ = h.next.Handle(ctx, rec)
}
