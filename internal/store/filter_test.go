package store

import (
	"slices"
	"testing"
)

// A Filter writes the same query for both drivers but for its placeholders.
func TestFilterPlaceholders(t *testing.T) {
	pg, err := ListParams{Cursor: "wh_2", Limit: 10}.Page("id", true)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		numbered bool
		want     string
	}{
		{false, "SELECT id FROM webhooks WHERE tenant = ? AND id < ? ORDER BY id DESC LIMIT ?"},
		{true, "SELECT id FROM webhooks WHERE tenant = $1 AND id < $2 ORDER BY id DESC LIMIT $3"},
	} {
		f := Filter{Numbered: c.numbered}
		f.AddIf("tenant", "acme")
		f.AddIf("status", "") // empty: no condition
		q, args := f.Page("SELECT id FROM webhooks", pg)
		if q != c.want || !slices.Equal(args, []any{"acme", "wh_2", 10}) {
			t.Errorf("numbered %v: got %q %v, want %q [acme wh_2 10]", c.numbered, q, args, c.want)
		}
	}
}
