package store

import (
	"fmt"
	"strings"
	"time"
)

// Reason is the disabled_reason of a webhook the rule turns off after streak
// failed deliveries in a row, in words for the people who read it.
func (r AutoDisableRule) Reason(streak int) string {
	what := "a delivery failed"
	if streak > 1 {
		what = fmt.Sprintf("%d deliveries in a row failed", streak)
	}
	if r.After <= 0 {
		return "auto-disabled: " + what
	}
	return "auto-disabled: " + what + " and no delivery has succeeded for " + spell(r.After)
}

// spell writes d in words: "24 hours", "1 hour 30 minutes", "45 seconds";
// durations that are not whole seconds as Go writes them.
func spell(d time.Duration) string {
	if d%time.Second != 0 {
		return d.String()
	}
	var parts []string
	for _, u := range []struct {
		d    time.Duration
		name string
	}{{time.Hour, "hour"}, {time.Minute, "minute"}, {time.Second, "second"}} {
		n := d / u.d
		d -= n * u.d
		switch {
		case n == 1:
			parts = append(parts, "1 "+u.name)
		case n > 1:
			parts = append(parts, fmt.Sprintf("%d %ss", n, u.name))
		}
	}
	return strings.Join(parts, " ")
}

// AttemptsReason is the disabled_reason of a webhook the rule turns off after
// streak failed attempts in a row.
func (r AutoDisableRule) AttemptsReason(streak int) string {
	if streak <= 1 {
		return "auto-disabled: an attempt failed"
	}
	return fmt.Sprintf("auto-disabled: %d attempts in a row failed", streak)
}
