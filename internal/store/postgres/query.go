package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

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

// queryPage runs the query of page pg and returns its rows in the list's
// order; what names the list in errors ("list events").
func queryPage[T any](ctx context.Context, db querier, what string, scan func(scanner) (*T, error), pg store.Page, q string, args ...any) ([]T, error) {
	rows, err := queryAll(ctx, db, what, scan, q, args...)
	if err != nil {
		return nil, err
	}
	return store.InOrder(pg, rows), nil
}
