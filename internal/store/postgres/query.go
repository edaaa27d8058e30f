package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

type scanner interface{ Scan(dest ...any) error }

// querier is what the pool and a transaction have in common.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// collect scans every row with scan. It never returns a nil slice.
func collect[T any](rows pgx.Rows, scan func(scanner) (*T, error)) ([]T, error) {
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *v)
	}
	return out, rows.Err()
}

// queryAll runs a read query on db and scans every row with scan; what names the
// operation in errors ("list events").
func queryAll[T any](ctx context.Context, db querier, what string, scan func(scanner) (*T, error), q string, args ...any) ([]T, error) {
	rows, err := db.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, interpretError(err))
	}
	out, err := collect(rows, scan)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, interpretError(err))
	}
	return out, nil
}

// exec runs one write statement; what names it in errors ("create profile").
func (s *Store) exec(ctx context.Context, what, q string, args ...any) error {
	if _, err := s.pool.Exec(ctx, q, args...); err != nil {
		return fmt.Errorf("store: %s: %w", what, interpretError(err))
	}
	return nil
}

// execOne runs an UPDATE or DELETE that must change exactly one row;
// store.ErrNotFound when it changes none.
func (s *Store) execOne(ctx context.Context, what, q string, args ...any) error {
	tag, err := s.pool.Exec(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, interpretError(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("store: %s: %w", what, store.ErrNotFound)
	}
	return nil
}

// filter builds a WHERE clause with numbered placeholders.
type filter struct {
	conds []string
	args  []any
}

// add appends "col op $n" with v as $n.
func (f *filter) add(col, op string, v any) {
	f.args = append(f.args, v)
	f.conds = append(f.conds, col+" "+op+" $"+strconv.Itoa(len(f.args)))
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
	return " ORDER BY " + pg.OrderBy + " LIMIT $" + strconv.Itoa(len(f.args))
}

// page completes base ("SELECT … FROM table") into the query of page pg: the
// rows that pass the filter, past pg's key, in pg's order.
func (f *filter) page(base string, pg store.Page) (string, []any) {
	f.seek(pg)
	q := base + f.where()
	q += f.limit(pg)
	return q, f.args
}

// queryPage runs the query of page pg and returns its rows in the list's
// order; what names the list in errors ("list events").
func queryPage[T any](ctx context.Context, db querier, what string, scan func(scanner) (*T, error), pg store.Page, q string, args ...any) ([]T, error) {
	rows, err := queryAll(ctx, db, what, scan, q, args...)
	if err != nil {
		return nil, err
	}
	return store.InOrder(pg, rows), nil
}
