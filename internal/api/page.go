package api

import (
	"bytes"
	"encoding/json"
	"net/http"
)

// pageBytes bounds the items of one list answer. A page holds up to its limit
// of items, and fewer when they are large (events of a megabyte, say): it then
// ends after the item that passes pageBytes, with a next_cursor to go on from.
// At least one item is always shown.
const pageBytes = 4 << 20

// writePage answers a list with a page of items: next_cursor is the key of the
// last item shown when the page is full (limit items) or cut at pageBytes.
func writePage[T any](h *handler, w http.ResponseWriter, r *http.Request, items []T, limit int, key func(T) string) {
	var buf bytes.Buffer
	buf.WriteString(`{"items":[`)
	next := ""
	if limit > 0 && len(items) >= limit {
		next = key(items[len(items)-1])
	}
	for i, it := range items {
		b, err := json.Marshal(it)
		if err != nil {
			h.error(w, r, err)
			return
		}
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(b)
		if buf.Len() > pageBytes && i < len(items)-1 {
			next = key(it)
			break
		}
	}
	buf.WriteString(`],"next_cursor":`)
	cursor, _ := json.Marshal(next)
	buf.Write(cursor)
	buf.WriteString("}\n")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}
