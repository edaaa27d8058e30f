package api

import (
	"testing"
	"time"
)

func TestRateLimiterAllowN(t *testing.T) {
	t.Parallel()
	l := newRateLimiter(time.Hour)
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	const limit = 60 // one token a minute
	steps := []struct {
		name     string
		n        int
		after    time.Duration // since the previous step
		ok       bool
		wantWait time.Duration
	}{
		{"most of a full bucket", 50, 0, true, 0},
		{"more than is left", 20, 0, false, 10 * time.Minute},
		{"what is left: the refusal took nothing", 10, 0, true, 0},
		{"one from an empty bucket", 1, 0, false, time.Minute},
		{"refilled at one a minute", 5, 5 * time.Minute, true, 0},
		{"the whole limit once full again", limit, 2 * time.Hour, true, 0},
	}
	for _, s := range steps {
		now = now.Add(s.after)
		ok, _, wait := l.allowN("k", s.n, limit, now)
		if ok != s.ok || (wait-s.wantWait).Abs() > time.Millisecond { // float arithmetic
			t.Errorf("%s: allowN(%d) got %v, %v; want %v, %v", s.name, s.n, ok, wait, s.ok, s.wantWait)
		}
	}
	if ok, _ := l.allow("other", limit, now); !ok {
		t.Error("another id's bucket is empty")
	}
}
