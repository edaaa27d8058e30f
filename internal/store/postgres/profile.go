package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

const profileColumns = `name, definition, created_at, updated_at`

func scanProfile(row scanner) (*hookline.Profile, error) {
	var (
		p   hookline.Profile
		def string
	)
	if err := row.Scan(&p.Name, &def, &p.CreatedAt, &p.UpdatedAt); err != nil {
		return nil, err
	}
	p.Definition = []byte(def)
	p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	return &p, nil
}

// ProfileCreate implements store.Store.
func (s *Store) ProfileCreate(ctx context.Context, p *hookline.Profile) error {
	return s.exec(ctx, "create profile", "INSERT INTO profiles ("+profileColumns+") VALUES ($1, $2, $3, $4)",
		p.Name, string(p.Definition), ts(p.CreatedAt), ts(p.UpdatedAt))
}

// ProfileGet implements store.Store.
func (s *Store) ProfileGet(ctx context.Context, name string) (*hookline.Profile, error) {
	p, err := scanProfile(s.pool.QueryRow(ctx, "SELECT "+profileColumns+" FROM profiles WHERE name = $1", name))
	if err != nil {
		return nil, fmt.Errorf("store: get profile: %w", interpretError(err))
	}
	return p, nil
}

// ProfileList implements store.Store.
func (s *Store) ProfileList(ctx context.Context) ([]hookline.Profile, error) {
	return queryAll(ctx, s.pool, "list profiles", scanProfile, "SELECT "+profileColumns+" FROM profiles ORDER BY name")
}

// ProfileUpdate implements store.Store.
func (s *Store) ProfileUpdate(ctx context.Context, p *hookline.Profile) error {
	return s.execOne(ctx, "update profile", "UPDATE profiles SET definition = $1, updated_at = $2 WHERE name = $3",
		string(p.Definition), ts(p.UpdatedAt), p.Name)
}

// ProfileDelete implements store.Store.
func (s *Store) ProfileDelete(ctx context.Context, name string) error {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM webhooks WHERE profile = $1", name).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("%d webhooks use it: %w", n, store.ErrConflict)
		}
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM tenant_defaults WHERE profile = $1", name).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("%d tenants have it as their default: %w", n, store.ErrConflict)
		}
		tag, err := tx.Exec(ctx, "DELETE FROM profiles WHERE name = $1", name)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return store.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: delete profile: %w", err)
	}
	return nil
}
