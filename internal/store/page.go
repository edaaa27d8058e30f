package store

import (
	"slices"

	"github.com/hookline/hookline/internal/hookline"
)

// Page is how a driver reads one page of a keyset list (ListParams): the rows
// whose Column is on Op's side of Key (every row when Key is empty), sorted by
// OrderBy, at most Limit of them. A page that goes back (Before) reads the
// list the other way from Before, so that its Limit rows are the nearest;
// InOrder then turns them round.
type Page struct {
	Column  string // the list's key: "id", or a name
	Op      string // "<" or ">"
	Key     string // Cursor, or Before when Back; "" from the list's start
	OrderBy string // Column with its direction: "id DESC"
	Limit   int    // PageLimit of the asked limit
	Back    bool   // Before was asked for
}

// Page checks p and returns how to read it from a list ordered by column,
// descending with desc (newest first by id) or ascending (by name). Cursor and
// Before together are a *hookline.ValidationError of "ending_before".
func (p ListParams) Page(column string, desc bool) (Page, error) {
	if p.Cursor != "" && p.Before != "" {
		return Page{}, hookline.Invalid("ending_before", "cannot be used with cursor: a page goes one way")
	}
	pg := Page{Column: column, Key: p.Cursor, Limit: PageLimit(p.Limit)}
	if p.Before != "" {
		pg.Key, pg.Back = p.Before, true
	}
	// Back, the comparison and the order are those of the list reversed.
	if desc != pg.Back {
		pg.Op, pg.OrderBy = "<", column+" DESC"
	} else {
		pg.Op, pg.OrderBy = ">", column+" ASC"
	}
	return pg, nil
}

// InOrder returns the rows read for pg in the list's order: reversed, in
// place, when pg goes back, as they came otherwise.
func InOrder[T any](pg Page, rows []T) []T {
	if pg.Back {
		slices.Reverse(rows)
	}
	return rows
}
