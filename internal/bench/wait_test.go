package bench

import (
	"context"
	"testing"
	"time"
)

// TestWaitForDeliveries: a slow drain is waited for as long as deliveries keep
// arriving, even far past the idle time (--wait); a stall ends the wait after
// the idle time; the run's end (--max-time) ends it in any case.
func TestWaitForDeliveries(t *testing.T) {
	t.Parallel()
	// drip records n deliveries, one every gap, like a receiver that a slow
	// server drains; it stops when ctx ends.
	drip := func(ctx context.Context, d *deliveries, c clock, n int, gap time.Duration) {
		go func() {
			for seq := range n {
				select {
				case <-ctx.Done():
					return
				case <-time.After(gap):
				}
				d.record(0, seq, c.now())
			}
		}()
	}
	t.Run("slow drain", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		c, d := newClock(), newDeliveries(1, 20, false)
		drip(ctx, d, c, 20, 40*time.Millisecond) // about 0.8 s, ten times the idle time
		waited := waitForDeliveries(ctx, d, 20, 0, 200*time.Millisecond)
		if got := d.received.Load(); got != 20 {
			t.Errorf("got %d deliveries when the wait ended after %s, want all 20", got, waited)
		}
		if waited < 600*time.Millisecond {
			t.Errorf("waited %s, want the drain's length (about 800ms)", waited)
		}
	})
	t.Run("stall", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		c, d := newClock(), newDeliveries(1, 20, false)
		drip(ctx, d, c, 5, 20*time.Millisecond) // 5 of 20, then nothing
		waited := waitForDeliveries(ctx, d, 20, 0, 200*time.Millisecond)
		if got := d.received.Load(); got != 5 {
			t.Errorf("got %d deliveries, want 5", got)
		}
		if waited < 300*time.Millisecond || waited > 3*time.Second {
			t.Errorf("waited %s, want the last delivery (about 100ms) plus the idle time (200ms)", waited)
		}
	})
	t.Run("hold", func(t *testing.T) {
		t.Parallel()
		d := newDeliveries(1, 1, false)
		// Nothing arrives during the hold: the idle time counts from its end.
		waited := waitForDeliveries(context.Background(), d, 1, 300*time.Millisecond, 100*time.Millisecond)
		if waited < 400*time.Millisecond || waited > 3*time.Second {
			t.Errorf("waited %s, want the hold (300ms) plus the idle time (100ms)", waited)
		}
	})
	t.Run("max-time", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		c, d := newClock(), newDeliveries(1, 100, false)
		drip(ctx, d, c, 100, 20*time.Millisecond) // 2 s of progress, cut at 300 ms
		if waited := waitForDeliveries(ctx, d, 100, 0, time.Second); waited > 2*time.Second {
			t.Errorf("waited %s, want the run's end (300ms)", waited)
		}
	})
}
