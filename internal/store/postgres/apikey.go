package postgres

import (
	"context"
	"fmt"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

const apiKeyColumns = `id, name, scopes, tenant, rate_limit, prefix, hash, created_at`

func scanAPIKey(row scanner) (*hookline.APIKey, error) {
	var (
		k      hookline.APIKey
		scopes string
	)
	if err := row.Scan(&k.ID, &k.Name, &scopes, &k.Tenant, &k.RateLimit, &k.Prefix, &k.Hash, &k.CreatedAt); err != nil {
		return nil, err
	}
	k.Scopes = store.DecodeJSON[[]string](scopes)
	k.CreatedAt = k.CreatedAt.UTC()
	return &k, nil
}

// APIKeyCreate implements store.Store.
func (s *Store) APIKeyCreate(ctx context.Context, k *hookline.APIKey) error {
	return s.exec(ctx, "create api key", "INSERT INTO api_keys ("+apiKeyColumns+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
		k.ID, k.Name, store.EncodeJSON(k.Scopes), k.Tenant, k.RateLimit, k.Prefix, k.Hash, ts(k.CreatedAt))
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
	var f filter
	f.addIf("tenant", p.Tenant)
	q, args := f.page("SELECT "+apiKeyColumns+" FROM api_keys", p.Cursor, p.Limit)
	return queryAll(ctx, s.pool, "list api keys", scanAPIKey, q, args...)
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
