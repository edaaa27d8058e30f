package sqlite

import (
	"context"
	"database/sql"
	"fmt"

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
