package postgres

import (
	"context"
	"fmt"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

const apiKeyColumns = `id, name, scopes, tenant, rate_limit, prefix, hash, created_at, hash_version`

func scanAPIKey(row scanner) (*hookline.APIKey, error) {
	var (
		k      hookline.APIKey
		scopes string
	)
	if err := row.Scan(&k.ID, &k.Name, &scopes, &k.Tenant, &k.RateLimit, &k.Prefix, &k.Hash, &k.CreatedAt, &k.HashVersion); err != nil {
		return nil, err
	}
	k.Scopes = store.DecodeJSON[[]string](scopes)
	k.CreatedAt = k.CreatedAt.UTC()
	return &k, nil
}

// APIKeyCreate implements store.Store.
func (s *Store) APIKeyCreate(ctx context.Context, k *hookline.APIKey) error {
	return s.exec(ctx, "create api key", "INSERT INTO api_keys ("+apiKeyColumns+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
		k.ID, k.Name, store.EncodeJSON(k.Scopes), k.Tenant, k.RateLimit, k.Prefix, k.Hash, ts(k.CreatedAt), k.HashVersion)
}

// APIKeyGet implements store.Store.
func (s *Store) APIKeyGet(ctx context.Context, id string) (*hookline.APIKey, error) {
	k, err := scanAPIKey(s.pool.QueryRow(ctx, "SELECT "+apiKeyColumns+" FROM api_keys WHERE id = $1", id))
	if err != nil {
		return nil, fmt.Errorf("store: get api key: %w", interpretError(err))
	}
	return k, nil
}

// APIKeyGetByHash implements store.Store.
func (s *Store) APIKeyGetByHash(ctx context.Context, hash []byte) (*hookline.APIKey, error) {
	k, err := scanAPIKey(s.pool.QueryRow(ctx, "SELECT "+apiKeyColumns+" FROM api_keys WHERE hash = $1", hash))
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
	f := store.Filter{Numbered: true}
	f.AddIf("tenant", p.Tenant)
	q, args := f.Page("SELECT "+apiKeyColumns+" FROM api_keys", pg)
	return queryPage(ctx, s.pool, "list api keys", scanAPIKey, pg, q, args...)
}

// APIKeyDelete implements store.Store.
func (s *Store) APIKeyDelete(ctx context.Context, id string) error {
	return s.execOne(ctx, "delete api key", "DELETE FROM api_keys WHERE id = $1", id)
}

// APIKeyCount implements store.Store.
func (s *Store) APIKeyCount(ctx context.Context) (int64, error) {
	var n int64
	if err := s.pool.QueryRow(ctx, "SELECT count(*) FROM api_keys").Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count api keys: %w", interpretError(err))
	}
	return n, nil
}

// APIKeyUpgradeHash implements store.Store.
func (s *Store) APIKeyUpgradeHash(ctx context.Context, p store.APIKeyUpgradeHashParams) (bool, error) {
	tag, err := s.pool.Exec(ctx, "UPDATE api_keys SET hash = $1, hash_version = $2 WHERE id = $3 AND hash = $4",
		p.Hash, p.HashVersion, p.ID, p.OldHash)
	if err != nil {
		return false, fmt.Errorf("store: upgrade api key hash: %w", interpretError(err))
	}
	return tag.RowsAffected() == 1, nil
}
