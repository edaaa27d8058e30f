package delivery

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/profile"
)

// Verdict is what one attempt's outcome means for its delivery.
type Verdict int

// Verdicts.
const (
	Success Verdict = iota
	Retry           // a retryable failure: try again per the schedule
	Fail            // a failure not worth retrying (a 4xx other than 408/429)
	Gone            // 410: fail and disable the webhook
)

// Judge classifies an attempt: network errors, timeouts, 3xx (redirects are not
// followed), 408, 429 and 5xx are retried; 410 disables the webhook; any other 4xx
// fails the delivery at once.
func Judge(status int, err error) Verdict {
	return JudgeWith(status, err, defaultRetryOn, true)
}

var defaultRetryOn, _ = profile.ParseStatusSet([]string{"3xx", "408", "429", "5xx"})

// JudgeWith classifies an attempt with a profile's rules: network errors and
// timeouts are retried, statuses in retryOn are retried, 410 disables the webhook
// when disableOnGone, anything else that is not 2xx fails at once.
func JudgeWith(status int, err error, retryOn profile.StatusSet, disableOnGone bool) Verdict {
	switch {
	case err != nil:
		return Retry
	case status >= 200 && status < 300:
		return Success
	case status == http.StatusGone && disableOnGone:
		return Gone
	case retryOn.Has(status):
		return Retry
	}
	return Fail
}

// Policy decides when the next attempt happens.
type Policy struct {
	// Schedule holds the delay before the first attempt, then before each retry;
	// its length is the number of attempts.
	Schedule []time.Duration
	// Jitter is the random spread applied to each retry delay (0.1 = ±10 %).
	Jitter float64
}

// FirstDelay is the delay before the first attempt.
func (p Policy) FirstDelay() time.Duration { return p.Schedule[0] }

// NextDelay returns the delay before attempt number made+1, after made attempts,
// and false when the schedule is exhausted. A Retry-After the receiver sent with
// 429 or 503 replaces the scheduled delay but is capped by it, so a receiver can
// ask for an earlier retry but cannot stall the schedule.
func (p Policy) NextDelay(made int, retryAfter time.Duration) (time.Duration, bool) {
	if made >= len(p.Schedule) {
		return 0, false
	}
	d := p.Schedule[made]
	if p.Jitter > 0 && d > 0 {
		d = time.Duration(float64(d) * (1 - p.Jitter + 2*p.Jitter*rand.Float64()))
	}
	if retryAfter > 0 && retryAfter < d {
		d = retryAfter
	}
	return d, true
}

// ParseRetryAfter reads a Retry-After header (delay-seconds or HTTP date) of a 429
// or 503 response; 0 when absent, unparsable or for other statuses.
func ParseRetryAfter(status int, h http.Header, now time.Time) time.Duration {
	if status != http.StatusTooManyRequests && status != http.StatusServiceUnavailable {
		return 0
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return time.Millisecond
		}
		if secs > 7*24*3600 {
			secs = 7 * 24 * 3600
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
		return time.Millisecond
	}
	return 0
}
