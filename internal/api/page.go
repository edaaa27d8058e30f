package api

import (
	"bytes"
	"encoding/json"
	"net/http"

	"github.com/hookline/hookline/internal/store"
)

// pageBytes bounds the items of one list answer. A page holds up to its limit
// of items, and fewer when they are large (events of a megabyte, say): it then
// ends at the item that passes pageBytes, and another page follows. At least
// one item is always shown.
const pageBytes = 4 << 20

// listPage is a list answer. HasMore says whether more items lie beyond the
// page in the direction it was read: after it when read forward (from the
// start, or after cursor), before it when read back (ending_before).
// NextCursor, given as cursor, reads the page after; PrevCursor, given as
// ending_before, the page before; each is empty when there is none to read.
type listPage struct {
	Items      []json.RawMessage `json:"items"`
	HasMore    bool              `json:"has_more"`
	NextCursor string            `json:"next_cursor"`
	PrevCursor string            `json:"prev_cursor"`
}

// writePage answers a list with a page of items, read from the store with
// lp as listParams made it: one item more than the page shows, which says
// that another page follows. key is an item's cursor.
func writePage[T any](h *handler, w http.ResponseWriter, r *http.Request, items []T, lp store.ListParams, key func(T) string) {
	limit, back := lp.Limit-1, lp.Before != ""
	more := len(items) > limit
	if more {
		if back {
			items = items[len(items)-limit:] // the extra one is the farthest back
		} else {
			items = items[:limit]
		}
	}
	raws := make([]json.RawMessage, len(items))
	size := 0
	for i, it := range items {
		b, err := json.Marshal(it)
		if err != nil {
			h.error(w, r, err)
			return
		}
		raws[i] = b
		size += len(b) + 1
	}
	// Over pageBytes, the page ends at the item that passes it: going
	// forward, that is the last kept; going back, the first.
	if size > pageBytes {
		n, total := 0, 0
		for n < len(raws) && total <= pageBytes {
			i := n
			if back {
				i = len(raws) - 1 - n
			}
			total += len(raws[i]) + 1
			n++
		}
		if n < len(raws) {
			more = true
			if back {
				raws, items = raws[len(raws)-n:], items[len(items)-n:]
			} else {
				raws, items = raws[:n], items[:n]
			}
		}
	}
	out := listPage{Items: raws, HasMore: more}
	if len(items) > 0 {
		first, last := key(items[0]), key(items[len(items)-1])
		if back {
			// The page ends just before ending_before, which follows it.
			out.NextCursor = last
			if more {
				out.PrevCursor = first
			}
		} else {
			if more {
				out.NextCursor = last
			}
			if lp.Cursor != "" {
				out.PrevCursor = first
			}
		}
	}
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(out); err != nil {
		h.error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}
