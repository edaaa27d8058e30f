package store

import (
	"testing"
	"time"
)

func TestAutoDisableReason(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		rule   AutoDisableRule
		streak int
		want   string
	}{
		{"one, no quiet period", AutoDisableRule{Failures: 1}, 1, "auto-disabled: a delivery failed"},
		{"several, no quiet period", AutoDisableRule{Failures: 3}, 3, "auto-disabled: 3 deliveries in a row failed"},
		{"the default rule", AutoDisableRule{Failures: 5, After: 24 * time.Hour}, 7,
			"auto-disabled: 7 deliveries in a row failed and no delivery has succeeded for 24 hours"},
		{"one, an hour", AutoDisableRule{Failures: 1, After: time.Hour}, 1,
			"auto-disabled: a delivery failed and no delivery has succeeded for 1 hour"},
		{"mixed units", AutoDisableRule{Failures: 2, After: 90*time.Minute + time.Second}, 2,
			"auto-disabled: 2 deliveries in a row failed and no delivery has succeeded for 1 hour 30 minutes 1 second"},
		{"under a second", AutoDisableRule{Failures: 2, After: 1500 * time.Millisecond}, 2,
			"auto-disabled: 2 deliveries in a row failed and no delivery has succeeded for 1.5s"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.rule.Reason(tc.streak); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
