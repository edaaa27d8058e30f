package sqlite

import (
	"context"
	"fmt"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

const profileColumns = `name, definition, created_at, updated_at`

func scanProfile(row scanner) (*hookline.Profile, error) {
	var (
		p                hookline.Profile
		def              string
		created, updated int64
	)
	if err := row.Scan(&p.Name, &def, &created, &updated); err != nil {
		return nil, err
	}
	p.Definition = []byte(def)
	p.CreatedAt, p.UpdatedAt = fromMS(created), fromMS(updated)
	return &p, nil
}

// ProfileCreate implements store.Store.
func (s *Store) ProfileCreate(ctx context.Context, p *hookline.Profile) error {
	return s.exec(ctx, "create profile", "INSERT INTO profiles ("+profileColumns+") VALUES (?, ?, ?, ?)",
		p.Name, string(p.Definition), ms(p.CreatedAt), ms(p.UpdatedAt))
}

// ProfileGet implements store.Store.
func (s *Store) ProfileGet(ctx context.Context, name string) (*hookline.Profile, error) {
	p, err := scanProfile(s.r.QueryRowContext(ctx, "SELECT "+profileColumns+" FROM profiles WHERE name = ?", name))
	if err != nil {
		return nil, fmt.Errorf("store: get profile: %w", interpretError(err))
	}
	return p, nil
}

// ProfileList implements store.Store.
func (s *Store) ProfileList(ctx context.Context) ([]hookline.Profile, error) {
	return queryAll(ctx, s.r, "list profiles", scanProfile, "SELECT "+profileColumns+" FROM profiles ORDER BY name")
}

// ProfileUpdate implements store.Store.
func (s *Store) ProfileUpdate(ctx context.Context, p *hookline.Profile) error {
	return s.execOne(ctx, "update profile", "UPDATE profiles SET definition = ?, updated_at = ? WHERE name = ?",
		string(p.Definition), ms(p.UpdatedAt), p.Name)
}

// ProfileDelete implements store.Store.
func (s *Store) ProfileDelete(ctx context.Context, name string) error {
	err := s.tx(ctx, func(tx wtx) error {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM webhooks WHERE profile = ?", name).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("%d webhooks use it: %w", n, store.ErrConflict)
		}
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM tenant_defaults WHERE profile = ?", name).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("%d tenants have it as their default: %w", n, store.ErrConflict)
		}
		res, err := tx.ExecContext(ctx, "DELETE FROM profiles WHERE name = ?", name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: delete profile: %w", err)
	}
	return nil
}
