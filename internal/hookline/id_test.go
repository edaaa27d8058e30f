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

func TestValidID(t *testing.T) {
	t.Parallel()
	good := NewID(PrefixWebhook)
	tests := []struct {
		name string
		id   string
		want bool
	}{
		{"made by NewID", good, true},
		{"lowest", PrefixWebhook + "00000000000000000000000000", true},
		{"highest", PrefixWebhook + "7zzzzzzzzzzzzzzzzzzzzzzzzz", true},
		{"another noun's prefix", PrefixEvent + good[len(PrefixWebhook):], false},
		{"no prefix", good[len(PrefixWebhook):], false},
		{"empty", "", false},
		{"garbage", "not-a-cursor", false},
		{"one character short", good[:len(good)-1], false},
		{"one character more", good + "0", false},
		{"upper case", PrefixWebhook + "0123456789ABCDEFGHJKMNPQRS", false},
		{"letter outside the alphabet", PrefixWebhook + "0000000000000000000000000u", false},
		{"more than 128 bits", PrefixWebhook + "80000000000000000000000000", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := ValidID(PrefixWebhook, tt.id); got != tt.want {
				t.Errorf("ValidID(%q, %q): got %v, want %v", PrefixWebhook, tt.id, got, tt.want)
			}
		})
	}
}
