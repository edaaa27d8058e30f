package sqlite

import (
	"context"
	"fmt"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

const apiKeyColumns = `id, name, scopes, tenant, rate_limit, prefix, hash, created_at, hash_version`

func scanAPIKey(row scanner) (*hookline.APIKey, error) {
	var (
		k       hookline.APIKey
		scopes  string
		created int64
	)
	if err := row.Scan(&k.ID, &k.Name, &scopes, &k.Tenant, &k.RateLimit, &k.Prefix, &k.Hash, &created, &k.HashVersion); err != nil {
		return nil, err
	}
	k.Scopes = store.DecodeJSON[[]string](scopes)
	k.CreatedAt = fromMS(created)
	return &k, nil
}

// APIKeyCreate implements store.Store.
func (s *Store) APIKeyCreate(ctx context.Context, k *hookline.APIKey) error {
	return s.exec(ctx, "create api key", "INSERT INTO api_keys ("+apiKeyColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
		k.ID, k.Name, store.EncodeJSON(k.Scopes), k.Tenant, k.RateLimit, k.Prefix, k.Hash, ms(k.CreatedAt), k.HashVersion)
}

// APIKeyGet implements store.Store.
func (s *Store) APIKeyGet(ctx context.Context, id string) (*hookline.APIKey, error) {
	k, err := scanAPIKey(s.r.QueryRowContext(ctx, "SELECT "+apiKeyColumns+" FROM api_keys WHERE id = ?", id))
	if err != nil {
		return nil, fmt.Errorf("store: get api key: %w", interpretError(err))
	}
	return k, nil
}

// APIKeyGetByHash implements store.Store.
func (s *Store) APIKeyGetByHash(ctx context.Context, hash []byte) (*hookline.APIKey, error) {
	k, err := scanAPIKey(s.r.QueryRowContext(ctx, "SELECT "+apiKeyColumns+" FROM api_keys WHERE hash = ?", hash))
	if err != nil {
		return nil, fmt.Errorf("store: get api key: %w", interpretError(err))
	}
	return k, nil
}

// APIKeyList implements store.Store.
func (s *Store) APIKeyList(ctx context.Context, p store.APIKeyListParams) ([]hookline.APIKey, error) {
	pg, err := p.Page("id", true)
	if err != nil {
		return nil, fmt.Errorf("store: list api keys: %w", err)
	}
	var f store.Filter
	f.AddIf("tenant", p.Tenant)
	q, args := f.Page("SELECT "+apiKeyColumns+" FROM api_keys", pg)
	return queryPage(ctx, s.r, "list api keys", scanAPIKey, pg, q, args...)
}

// APIKeyDelete implements store.Store.
func (s *Store) APIKeyDelete(ctx context.Context, id string) error {
	return s.execOne(ctx, "delete api key", "DELETE FROM api_keys WHERE id = ?", id)
}

// APIKeyCount implements store.Store.
func (s *Store) APIKeyCount(ctx context.Context) (int64, error) {
	var n int64
	if err := s.r.QueryRowContext(ctx, "SELECT count(*) FROM api_keys").Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count api keys: %w", interpretError(err))
	}
	return n, nil
}

// APIKeyUpgradeHash implements store.Store.
func (s *Store) APIKeyUpgradeHash(ctx context.Context, p store.APIKeyUpgradeHashParams) (bool, error) {
	res, err := s.w.ExecContext(ctx, "UPDATE api_keys SET hash = ?, hash_version = ? WHERE id = ? AND hash = ?",
		p.Hash, p.HashVersion, p.ID, p.OldHash)
	if err != nil {
		return false, fmt.Errorf("store: upgrade api key hash: %w", interpretError(err))
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
