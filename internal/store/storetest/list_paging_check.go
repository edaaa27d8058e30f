package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

// pagedList is one list method with one set of filters, as checkPaging
// exercises it: list returns a page of it, items are every item stored,
// those the filters keep and the others, and key is an item's key, by which
// the list is ordered, descending with desc (newest first by id) or
// ascending (by name). head and tail are keys that come before the list's
// first item and after its last.
type pagedList[T any] struct {
	name       string
	list       func(lp store.ListParams) ([]T, error)
	items      []T
	keep       func(T) bool
	key        func(T) string
	desc       bool
	head, tail string
}

// before reports whether key a comes before key b in the list's order.
func (l pagedList[T]) before(a, b string) bool {
	if l.desc {
		return a > b
	}
	return a < b
}

// want returns the keys of the items the list should hold, in its order,
// and those of the items its filters leave out.
func (l pagedList[T]) want() (kept, left []string) {
	for _, it := range l.items {
		if l.keep(it) {
			kept = append(kept, l.key(it))
		} else {
			left = append(left, l.key(it))
		}
	}
	slices.Sort(kept)
	if l.desc {
		slices.Reverse(kept)
	}
	return kept, left
}

// page returns the keys of one page (nil for none), failing on an error.
func (l pagedList[T]) page(t *testing.T, lp store.ListParams) []string {
	t.Helper()
	items, err := l.list(lp)
	if err != nil {
		t.Fatalf("%s %+v: %v", l.name, lp, err)
	}
	if len(items) > store.PageLimit(lp.Limit) {
		t.Fatalf("%s %+v: got %d items, more than the limit", l.name, lp, len(items))
	}
	return ids(items, l.key)
}

// checkPaging checks a list's pages both ways against what it should hold:
// the page after and the page before every key (the list's items, those its
// filters leave out, and keys beyond both ends), a walk forward with Cursor
// and one back with Before over the same pages, and Cursor with Before
// refused.
func checkPaging[T any](t *testing.T, l pagedList[T]) {
	t.Helper()
	want, left := l.want()
	n := len(want)
	probes := slices.Concat(want, left, []string{l.head, l.tail})
	for _, size := range []int{1, 2, 3, max(n, 1)} {
		for _, k := range probes {
			// The items before k in the list's order are a prefix of want.
			i := 0
			for i < n && l.before(want[i], k) {
				i++
			}
			j := i
			if j < n && want[j] == k {
				j++
			}
			if got, w := l.page(t, store.ListParams{Cursor: k, Limit: size}), want[j:min(n, j+size)]; !slices.Equal(got, w) {
				t.Errorf("%s after %s by %d: got %v, want %v", l.name, k, size, got, w)
			}
			if got, w := l.page(t, store.ListParams{Before: k, Limit: size}), want[max(0, i-size):i]; !slices.Equal(got, w) {
				t.Errorf("%s before %s by %d: got %v, want %v", l.name, k, size, got, w)
			}
		}

		fwd := walkPaging(t, l, size, false, "")
		if got := slices.Concat(fwd...); !slices.Equal(got, want) {
			t.Errorf("%s by %d, forward: got %v, want %v", l.name, size, got, want)
		}
		if len(fwd) > 0 {
			// Back from the last page: the pages before it, the same ones.
			back := walkPaging(t, l, size, true, fwd[len(fwd)-1][0])
			slices.Reverse(back)
			if !slices.EqualFunc(back, fwd[:len(fwd)-1], slices.Equal) {
				t.Errorf("%s by %d, back from the last page: got pages %v, want %v", l.name, size, back, fwd[:len(fwd)-1])
			}
		}
		// Back from past the end: the last size items first, then on to
		// the first.
		back := walkPaging(t, l, size, true, l.tail)
		if len(back) > 0 {
			if w := want[max(0, n-size):]; !slices.Equal(back[0], w) {
				t.Errorf("%s by %d, before the end: got %v, want %v", l.name, size, back[0], w)
			}
		}
		slices.Reverse(back)
		if got := slices.Concat(back...); !slices.Equal(got, want) {
			t.Errorf("%s by %d, back from the end: got %v, want %v", l.name, size, got, want)
		}
	}
	for _, p := range []store.ListParams{{Cursor: l.head, Before: l.tail}, {Cursor: l.tail, Before: l.head, Limit: 1}} {
		_, err := l.list(p)
		wantInvalid(t, l.name+" with a cursor and before", err, "ending_before")
	}
}

// walkPaging follows a list from key, forward with Cursor or back with
// Before, until the empty page, and returns the pages in the order it read
// them. Every page but the last read must be full.
func walkPaging[T any](t *testing.T, l pagedList[T], size int, back bool, key string) [][]string {
	t.Helper()
	var pages [][]string
	for range len(l.items) + 2 {
		lp := store.ListParams{Cursor: key, Limit: size}
		if back {
			lp = store.ListParams{Before: key, Limit: size}
		}
		page := l.page(t, lp)
		if len(page) == 0 {
			return pages
		}
		if len(pages) > 0 && len(pages[len(pages)-1]) < size {
			t.Fatalf("%s by %d: a page of %d items was not the last", l.name, size, len(pages[len(pages)-1]))
		}
		pages = append(pages, page)
		key = page[len(page)-1]
		if back {
			key = page[0]
		}
	}
	t.Fatalf("%s by %d from %q: the pages do not end", l.name, size, key)
	return nil
}

// idEnds returns ids of prefix that come before every id made now, newest
// first (one made in a year), and after every one (the least id).
func idEnds(prefix string) (head, tail string) {
	return hookline.IDAt(prefix, time.Now().AddDate(1, 0, 0)), hookline.IDAt(prefix, time.UnixMilli(0))
}
