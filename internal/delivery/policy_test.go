package delivery

import (
	"errors"
	"net/http"
	"testing"
	"time"
)

func TestJudge(t *testing.T) {
	t.Parallel()
	netErr := errors.New("connection refused")
	tests := []struct {
		name   string
		status int
		err    error
		want   Verdict
	}{
		{"200", 200, nil, Success},
		{"201", 201, nil, Success},
		{"204", 204, nil, Success},
		{"299", 299, nil, Success},
		{"301 is not followed", 301, nil, Retry},
		{"302 is not followed", 302, nil, Retry},
		{"307 is not followed", 307, nil, Retry},
		{"400", 400, nil, Fail},
		{"401", 401, nil, Fail},
		{"403", 403, nil, Fail},
		{"404", 404, nil, Fail},
		{"405", 405, nil, Fail},
		{"413", 413, nil, Fail},
		{"422", 422, nil, Fail},
		{"408", 408, nil, Retry},
		{"429", 429, nil, Retry},
		{"410", 410, nil, Gone},
		{"500", 500, nil, Retry},
		{"502", 502, nil, Retry},
		{"503", 503, nil, Retry},
		{"504", 504, nil, Retry},
		{"599", 599, nil, Retry},
		{"network error", 0, netErr, Retry},
		{"timeout", 0, errors.New("request timeout after 30s"), Retry},
		{"blocked address", 0, &BlockedError{Addr: "10.0.0.1"}, Retry},
		{"error wins over a 2xx", 200, netErr, Retry},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Judge(tt.status, tt.err); got != tt.want {
				t.Errorf("Judge(%d, %v): got %d, want %d", tt.status, tt.err, got, tt.want)
			}
		})
	}
}

func TestNextDelay(t *testing.T) {
	t.Parallel()
	seeds := []time.Duration{0, time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour, 6 * time.Hour}
	p := Policy{Schedule: seeds}
	if got := p.FirstDelay(); got != 0 {
		t.Errorf("FirstDelay: got %s, want 0", got)
	}
	for made := 1; made < len(seeds); made++ {
		got, ok := p.NextDelay(made, 0)
		if !ok || got != seeds[made] {
			t.Errorf("NextDelay(%d): got %s, %v; want %s, true", made, got, ok, seeds[made])
		}
	}
	for _, made := range []int{len(seeds), len(seeds) + 1} {
		if got, ok := p.NextDelay(made, 0); ok {
			t.Errorf("NextDelay(%d) after the last step: got %s, true; want false", made, got)
		}
	}
	late := Policy{Schedule: []time.Duration{time.Minute, 5 * time.Minute, 30 * time.Minute}}
	if got := late.FirstDelay(); got != time.Minute {
		t.Errorf("FirstDelay of 1m,5m,30m: got %s, want 1m", got)
	}
	if got, ok := late.NextDelay(3, 0); ok {
		t.Errorf("NextDelay(3) of three steps: got %s, true; want false", got)
	}
}

func TestNextDelayJitter(t *testing.T) {
	t.Parallel()
	p := Policy{Schedule: []time.Duration{0, 5 * time.Second, 0}, Jitter: 0.1}
	lo, hi := 4500*time.Millisecond, 5500*time.Millisecond
	minSeen, maxSeen := time.Duration(1<<62), time.Duration(0)
	for range 2000 {
		d, ok := p.NextDelay(1, 0)
		if !ok || d < lo || d > hi {
			t.Fatalf("NextDelay with ±10%% jitter: got %s, %v; want within [%s, %s]", d, ok, lo, hi)
		}
		minSeen, maxSeen = min(minSeen, d), max(maxSeen, d)
	}
	// 2000 draws spread over ±500 ms: both tails are reached.
	if minSeen > 4900*time.Millisecond || maxSeen < 5100*time.Millisecond {
		t.Errorf("jitter spread: got [%s, %s], want it to reach below 4.9s and above 5.1s", minSeen, maxSeen)
	}
	if d, ok := p.NextDelay(2, 0); !ok || d != 0 {
		t.Errorf("jitter on a zero step: got %s, %v; want 0, true", d, ok)
	}
}

func TestNextDelayRetryAfter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		policy     Policy
		retryAfter time.Duration
		lo, hi     time.Duration
	}{
		{"shorter than the step replaces it", Policy{Schedule: []time.Duration{0, time.Minute}}, 10 * time.Second, 10 * time.Second, 10 * time.Second},
		{"longer than the step is capped", Policy{Schedule: []time.Duration{0, time.Minute}}, time.Hour, time.Minute, time.Minute},
		{"absent keeps the step", Policy{Schedule: []time.Duration{0, time.Minute}}, 0, time.Minute, time.Minute},
		{"capped by the jittered step", Policy{Schedule: []time.Duration{0, time.Minute}, Jitter: 0.1}, time.Hour, 54 * time.Second, 66 * time.Second},
		{"immediate", Policy{Schedule: []time.Duration{0, time.Minute}}, time.Millisecond, time.Millisecond, time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := tt.policy.NextDelay(1, tt.retryAfter)
			if !ok || got < tt.lo || got > tt.hi {
				t.Errorf("NextDelay(1, %s): got %s, %v; want within [%s, %s], true", tt.retryAfter, got, ok, tt.lo, tt.hi)
			}
		})
	}
	if got, ok := (Policy{Schedule: []time.Duration{0}}).NextDelay(1, time.Second); ok {
		t.Errorf("Retry-After after the last step: got %s, true; want false (the schedule decides the count)", got)
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	tests := []struct {
		name   string
		status int
		value  string
		want   time.Duration
	}{
		{"429 seconds", 429, "120", 120 * time.Second},
		{"503 seconds", 503, "5", 5 * time.Second},
		{"spaces", 429, " 30 ", 30 * time.Second},
		{"zero means now", 429, "0", time.Millisecond},
		{"negative means now", 503, "-5", time.Millisecond},
		{"huge is capped at a week", 429, "999999999", 7 * 24 * time.Hour},
		{"HTTP date", 503, now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{"RFC 850 date", 429, now.Add(time.Hour).Format(time.RFC850), time.Hour},
		{"date in the past means now", 503, now.Add(-time.Hour).Format(http.TimeFormat), time.Millisecond},
		{"garbage", 429, "soon", 0},
		{"fraction", 429, "1.5", 0},
		{"absent", 429, "", 0},
		{"ignored on 500", 500, "10", 0},
		{"ignored on 200", 200, "10", 0},
		{"ignored on 408", 408, "10", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			if tt.value != "" {
				h.Set("Retry-After", tt.value)
			}
			if got := ParseRetryAfter(tt.status, h, now); got != tt.want {
				t.Errorf("ParseRetryAfter(%d, %q): got %s, want %s", tt.status, tt.value, got, tt.want)
			}
		})
	}
}
