package hookline

import (
	"testing"
	"time"
)

func TestIDAtBoundsIDsByTime(t *testing.T) {
	t.Parallel()
	now := time.Now()
	before := NewIDAt(PrefixEvent, now.Add(-time.Millisecond))
	at := NewIDAt(PrefixEvent, now)
	later := NewID(PrefixEvent)
	bound := IDAt(PrefixEvent, now)
	if !(before < bound) {
		t.Errorf("an ID of the millisecond before %s: got %s, want it to sort before %s", now, before, bound)
	}
	if at < bound || later < bound {
		t.Errorf("IDs made at or after the bound: got %s and %s, want both at or after %s", at, later, bound)
	}
	if len(bound) != len(PrefixEvent)+26 || len(at) != len(bound) {
		t.Errorf("lengths: got %d and %d, want %d", len(bound), len(at), len(PrefixEvent)+26)
	}
	for range 1000 {
		if id := NewID(PrefixEvent); id < bound {
			t.Fatalf("NewID after the bound sorts before it: %s < %s", id, bound)
		}
	}
}
