package store

import (
	"strconv"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

// Filter builds the WHERE, ORDER BY and LIMIT clauses of a list query, with
// their arguments, for either driver. The zero value writes SQLite's "?"
// placeholders; Numbered, PostgreSQL's "$1", "$2"…
type Filter struct {
	Numbered bool
	Args     []any
	conds    []string
}

// placeholder returns the placeholder of the last argument added.
func (f *Filter) placeholder() string {
	if f.Numbered {
		return "$" + strconv.Itoa(len(f.Args))
	}
	return "?"
}

// Add appends "col op <placeholder>" with v.
func (f *Filter) Add(col, op string, v any) {
	f.Args = append(f.Args, v)
	f.conds = append(f.conds, col+" "+op+" "+f.placeholder())
}

// AddIf adds col = v unless v is empty.
func (f *Filter) AddIf(col, v string) {
	if v != "" {
		f.Add(col, "=", v)
	}
}

// Created keeps the rows whose ids, made with prefix, were made at or after
// after and before before, a zero time leaving its side open: a window is a
// range of ids (DeliveryListParams).
func (f *Filter) Created(prefix string, after, before time.Time) {
	if !after.IsZero() {
		f.Add("id", ">=", hookline.IDAt(prefix, after))
	}
	if !before.IsZero() {
		f.Add("id", "<", hookline.IDAt(prefix, before))
	}
}

// Seek keeps the rows on pg's side of its key.
func (f *Filter) Seek(pg Page) {
	if pg.Key != "" {
		f.Add(pg.Column, pg.Op, pg.Key)
	}
}

// Where returns the WHERE clause, "" when there is no condition.
func (f *Filter) Where() string {
	if len(f.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(f.conds, " AND ")
}

// Limit returns the ORDER BY and LIMIT clauses of page pg.
func (f *Filter) Limit(pg Page) string {
	f.Args = append(f.Args, pg.Limit)
	return " ORDER BY " + pg.OrderBy + " LIMIT " + f.placeholder()
}

// Page completes base ("SELECT … FROM table") into the query of page pg: the
// rows that pass the filter, past pg's key, in pg's order.
func (f *Filter) Page(base string, pg Page) (string, []any) {
	f.Seek(pg)
	q := base + f.Where()
	q += f.Limit(pg)
	return q, f.Args
}
