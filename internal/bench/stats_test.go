package bench

import (
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	t.Parallel()
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one value", []time.Duration{7}, 99, 7},
		{"p50 of 1..100", hundred, 50, 50 * time.Millisecond},
		{"p90 of 1..100", hundred, 90, 90 * time.Millisecond},
		{"p99 of 1..100", hundred, 99, 99 * time.Millisecond},
		{"p100 is the max", hundred, 100, 100 * time.Millisecond},
		{"nearest rank rounds up", []time.Duration{1, 2, 3}, 50, 2},
		{"p99 of 3 is the max", []time.Duration{1, 2, 3}, 99, 3},
		{"tiny p is the min", []time.Duration{1, 2, 3}, 0.001, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Percentile(tt.sorted, tt.p); got != tt.want {
				t.Errorf("Percentile(p%g) = %s, want %s", tt.p, got, tt.want)
			}
		})
	}
}

func TestSummarise(t *testing.T) {
	t.Parallel()
	ds := []time.Duration{3 * time.Millisecond, 1500 * time.Microsecond, 2 * time.Second, time.Millisecond}
	got := summarise(ds)
	want := Latency{Count: 4, P50: 1.5, P90: 2000, P99: 2000, Max: 2000}
	if got != want {
		t.Errorf("summarise: got %+v, want %+v", got, want)
	}
	if got := rate(300, 2*time.Second); got != 150 {
		t.Errorf("rate(300, 2s): got %g, want 150", got)
	}
	if got := rate(300, 0); got != 0 {
		t.Errorf("rate(300, 0): got %g, want 0", got)
	}
}
