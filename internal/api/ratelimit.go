package api

import (
	"sync"
	"time"
)

// rateLimiter is a token bucket per id: a bucket holds up to limit tokens and
// refills at limit per window, so a key may burst up to its whole allowance and
// then proceeds at the average rate.
type rateLimiter struct {
	window  time.Duration
	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newRateLimiter(window time.Duration) *rateLimiter {
	return &rateLimiter{window: window, buckets: map[string]*bucket{}}
}

// refill brings id's bucket up to now and returns it; the caller holds mu.
func (l *rateLimiter) refill(id string, limit int, now time.Time) *bucket {
	b := l.buckets[id]
	if b == nil {
		if len(l.buckets) > 100_000 {
			clear(l.buckets)
		}
		b = &bucket{tokens: float64(limit), last: now}
		l.buckets[id] = b
	}
	rate := float64(limit) / l.window.Seconds()
	b.tokens = min(float64(limit), b.tokens+now.Sub(b.last).Seconds()*rate)
	b.last = now
	return b
}

// allow takes a token; when none is left it says how long until one is.
func (l *rateLimiter) allow(id string, limit int, now time.Time) (bool, time.Duration) {
	ok, _, wait := l.allowN(id, 1, limit, now)
	return ok, wait
}

// allowN takes n tokens at once, or none: when fewer are left it says how long
// until n are. left is what the bucket holds after. n must be at most limit,
// or the bucket can never hold them.
func (l *rateLimiter) allowN(id string, n, limit int, now time.Time) (ok bool, left float64, wait time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.refill(id, limit, now)
	if b.tokens >= float64(n) {
		b.tokens -= float64(n)
		return true, b.tokens, 0
	}
	return false, b.tokens, l.until(b, n, limit)
}

// wait says how long until id has a token again, without taking one; 0 if it has.
func (l *rateLimiter) wait(id string, limit int, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.buckets[id]; !ok {
		return 0
	}
	b := l.refill(id, limit, now)
	if b.tokens >= 1 {
		return 0
	}
	return l.until(b, 1, limit)
}

// until is how long until b holds n tokens.
func (l *rateLimiter) until(b *bucket, n, limit int) time.Duration {
	rate := float64(limit) / l.window.Seconds()
	return time.Duration((float64(n) - b.tokens) / rate * float64(time.Second))
}
