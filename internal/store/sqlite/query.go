package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

// queryAll runs a read query and scans every row with scan; what names the
// operation in errors ("list events"). It never returns a nil slice.
func queryAll[T any](ctx context.Context, db *sql.DB, what string, scan func(scanner) (*T, error), q string, args ...any) ([]T, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, interpretError(err))
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("store: %s: %w", what, err)
		}
		out = append(out, *v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, interpretError(err))
	}
	return out, nil
}

// queryPage runs the query of page pg and returns its rows in the list's
// order; what names the list in errors ("list events").
func queryPage[T any](ctx context.Context, db *sql.DB, what string, scan func(scanner) (*T, error), pg store.Page, q string, args ...any) ([]T, error) {
	rows, err := queryAll(ctx, db, what, scan, q, args...)
	if err != nil {
		return nil, err
	}
	return store.InOrder(pg, rows), nil
}

// filter builds a WHERE clause.
type filter struct {
	conds []string
	args  []any
}

// add appends "col op ?" with v.
func (f *filter) add(col, op string, v any) {
	f.conds = append(f.conds, col+" "+op+" ?")
	f.args = append(f.args, v)
}

// addIf adds col = v unless v is empty.
func (f *filter) addIf(col, v string) {
	if v != "" {
		f.add(col, "=", v)
	}
}

// created keeps the rows whose ids, made with prefix, were made at or after
// after and before before, a zero time leaving its side open: a window is a
// range of ids (store.DeliveryListParams).
func (f *filter) created(prefix string, after, before time.Time) {
	if !after.IsZero() {
		f.add("id", ">=", hookline.IDAt(prefix, after))
	}
	if !before.IsZero() {
		f.add("id", "<", hookline.IDAt(prefix, before))
	}
}

// seek keeps the rows on pg's side of its key.
func (f *filter) seek(pg store.Page) {
	if pg.Key != "" {
		f.add(pg.Column, pg.Op, pg.Key)
	}
}

// where returns the WHERE clause, "" when there is no condition.
func (f *filter) where() string {
	if len(f.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(f.conds, " AND ")
}

// limit returns the ORDER BY and LIMIT clauses of page pg.
func (f *filter) limit(pg store.Page) string {
	f.args = append(f.args, pg.Limit)
	return " ORDER BY " + pg.OrderBy + " LIMIT ?"
}

// page completes base ("SELECT … FROM table") into the query of page pg: the
// rows that pass the filter, past pg's key, in pg's order.
func (f *filter) page(base string, pg store.Page) (string, []any) {
	f.seek(pg)
	q := base + f.where()
	q += f.limit(pg)
	return q, f.args
}

// exec runs one write statement in a transaction; what names it in errors
// ("create profile").
func (s *Store) exec(ctx context.Context, what, q string, args ...any) error {
	err := s.tx(ctx, func(tx wtx) error {
		_, err := tx.ExecContext(ctx, q, args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	return nil
}

// execOne runs an UPDATE or DELETE that must change exactly one row;
// store.ErrNotFound when it changes none.
func (s *Store) execOne(ctx context.Context, what, q string, args ...any) error {
	err := s.tx(ctx, func(tx wtx) error {
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	return nil
}
