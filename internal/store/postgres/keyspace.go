package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookline/hookline/internal/keyspace"
	"github.com/hookline/hookline/internal/store"
)

const keyspaceColumns = `name, description, prefix, permissions, rate_limit, key_expiry_ms, created_at, updated_at`

func scanKeyspace(row scanner) (*keyspace.Keyspace, error) {
	var (
		ks        keyspace.Keyspace
		perms     string
		rateLimit *string
		expiry    int64
	)
	if err := row.Scan(&ks.Name, &ks.Description, &ks.Prefix, &perms, &rateLimit, &expiry, &ks.CreatedAt, &ks.UpdatedAt); err != nil {
		return nil, err
	}
	if ks.Permissions = store.DecodeJSON[[]keyspace.Permission](perms); ks.Permissions == nil {
		ks.Permissions = []keyspace.Permission{}
	}
	if rateLimit != nil {
		ks.RateLimit = store.DecodeJSON[*keyspace.RateLimit](*rateLimit)
	}
	ks.KeyExpiry = keyspace.Duration(time.Duration(expiry) * time.Millisecond)
	ks.Source = keyspace.SourceAPI
	ks.CreatedAt, ks.UpdatedAt = ks.CreatedAt.UTC(), ks.UpdatedAt.UTC()
	return &ks, nil
}

// KeyspaceCreate implements store.Store. The name's primary key and the
// prefix's unique index make either one taken a conflict.
func (s *Store) KeyspaceCreate(ctx context.Context, ks *keyspace.Keyspace) error {
	return s.exec(ctx, "create key space", "INSERT INTO keyspaces ("+keyspaceColumns+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
		ks.Name, ks.Description, ks.Prefix, store.EncodeList(ks.Permissions), store.EncodeOptional(ks.RateLimit),
		time.Duration(ks.KeyExpiry).Milliseconds(), ts(ks.CreatedAt), ts(ks.UpdatedAt))
}

// KeyspaceGet implements store.Store.
func (s *Store) KeyspaceGet(ctx context.Context, name string) (*keyspace.Keyspace, error) {
	ks, err := scanKeyspace(s.pool.QueryRow(ctx, "SELECT "+keyspaceColumns+" FROM keyspaces WHERE name = $1", name))
	if err != nil {
		return nil, fmt.Errorf("store: get key space: %w", interpretError(err))
	}
	return ks, nil
}

// KeyspaceList implements store.Store.
func (s *Store) KeyspaceList(ctx context.Context) ([]keyspace.Keyspace, error) {
	return queryAll(ctx, s.pool, "list key spaces", scanKeyspace, "SELECT "+keyspaceColumns+" FROM keyspaces ORDER BY name")
}

// KeyspaceUpdate implements store.Store. Name and prefix stay: keys name
// their key space, and issued keys start with its prefix.
func (s *Store) KeyspaceUpdate(ctx context.Context, ks *keyspace.Keyspace) error {
	return s.execOne(ctx, "update key space",
		"UPDATE keyspaces SET description = $1, permissions = $2, rate_limit = $3, key_expiry_ms = $4, updated_at = $5 WHERE name = $6",
		ks.Description, store.EncodeList(ks.Permissions), store.EncodeOptional(ks.RateLimit),
		time.Duration(ks.KeyExpiry).Milliseconds(), ts(ks.UpdatedAt), ks.Name)
}

// KeyspaceDelete implements store.Store. Keys refer to their key space by
// name only (no foreign key), so they are deleted here, in the same commit.
func (s *Store) KeyspaceDelete(ctx context.Context, name string) error {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "DELETE FROM keyspaces WHERE name = $1", name)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return store.ErrNotFound
		}
		_, err = tx.Exec(ctx, "DELETE FROM keys WHERE keyspace = $1", name)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: delete key space: %w", err)
	}
	return nil
}

const keyColumns = `id, keyspace, tenant, name, start, hash, permissions, resources, meta, rate_limit,
	expires_at, revoked_at, last_used_at, created_at`

// scanKey reads a key. Permissions is never nil (an API shows []); resources
// and meta are nil when empty, however they were stored.
func scanKey(row scanner) (*keyspace.Key, error) {
	var (
		k                          keyspace.Key
		perms, resources, meta     string
		rateLimit                  *string
		expires, revoked, lastUsed *time.Time
	)
	err := row.Scan(&k.ID, &k.Keyspace, &k.Tenant, &k.Name, &k.Start, &k.Hash, &perms, &resources, &meta, &rateLimit,
		&expires, &revoked, &lastUsed, &k.CreatedAt)
	if err != nil {
		return nil, err
	}
	if k.Permissions = store.DecodeJSON[[]string](perms); k.Permissions == nil {
		k.Permissions = []string{}
	}
	if k.Resources = store.DecodeJSON[[]string](resources); len(k.Resources) == 0 {
		k.Resources = nil
	}
	if k.Meta = store.DecodeJSON[map[string]string](meta); len(k.Meta) == 0 {
		k.Meta = nil
	}
	if rateLimit != nil {
		k.RateLimit = store.DecodeJSON[*keyspace.RateLimit](*rateLimit)
	}
	k.ExpiresAt, k.RevokedAt, k.LastUsedAt = utc(expires), utc(revoked), utc(lastUsed)
	k.CreatedAt = k.CreatedAt.UTC()
	return &k, nil
}

// tsOrNull is an optional time as written (ts), or NULL.
func tsOrNull(t *time.Time) any {
	if t == nil {
		return nil
	}
	return ts(*t)
}

// KeyCreate implements store.Store.
func (s *Store) KeyCreate(ctx context.Context, k *keyspace.Key, stored bool) error {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if stored {
			// A share lock on the key space's row: a KeyspaceDelete waits for
			// this commit, then deletes this key with the others.
			var one int
			err := tx.QueryRow(ctx, "SELECT 1 FROM keyspaces WHERE name = $1 FOR KEY SHARE", k.Keyspace).Scan(&one)
			if errors.Is(err, pgx.ErrNoRows) {
				return store.ErrNotFound
			}
			if err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, "INSERT INTO keys ("+keyColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
			k.ID, k.Keyspace, k.Tenant, k.Name, k.Start, k.Hash, store.EncodeList(k.Permissions), store.EncodeList(k.Resources),
			store.EncodeMap(k.Meta), store.EncodeOptional(k.RateLimit),
			tsOrNull(k.ExpiresAt), tsOrNull(k.RevokedAt), tsOrNull(k.LastUsedAt), ts(k.CreatedAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: create key: %w", err)
	}
	return nil
}

// KeyGet implements store.Store.
func (s *Store) KeyGet(ctx context.Context, id string) (*keyspace.Key, error) {
	k, err := scanKey(s.pool.QueryRow(ctx, "SELECT "+keyColumns+" FROM keys WHERE id = $1", id))
	if err != nil {
		return nil, fmt.Errorf("store: get key: %w", interpretError(err))
	}
	return k, nil
}

// KeyGetByHash implements store.Store.
func (s *Store) KeyGetByHash(ctx context.Context, hash []byte) (*keyspace.Key, error) {
	k, err := scanKey(s.pool.QueryRow(ctx, "SELECT "+keyColumns+" FROM keys WHERE hash = $1", hash))
	if err != nil {
		return nil, fmt.Errorf("store: get key: %w", interpretError(err))
	}
	return k, nil
}

// KeyList implements store.Store.
func (s *Store) KeyList(ctx context.Context, p store.KeyListParams) ([]keyspace.Key, error) {
	pg, err := p.Page("id", true)
	if err != nil {
		return nil, fmt.Errorf("store: list keys: %w", err)
	}
	f := store.Filter{Numbered: true}
	f.Add("keyspace", "=", p.Keyspace)
	f.AddIf("tenant", p.Tenant)
	q, args := f.Page("SELECT "+keyColumns+" FROM keys", pg)
	return queryPage(ctx, s.pool, "list keys", scanKey, pg, q, args...)
}

// KeyRevoke implements store.Store. Each case is one UPDATE … RETURNING, so
// the key returned is the one written, and of two revocations at once the
// second waits for the first and keeps its revoked_at; least() ignores a
// NULL expires_at.
func (s *Store) KeyRevoke(ctx context.Context, p store.KeyRevokeParams) (*keyspace.Key, error) {
	q := "UPDATE keys SET revoked_at = coalesce(revoked_at, $1) WHERE id = $2 RETURNING " + keyColumns
	if p.Expire {
		q = "UPDATE keys SET expires_at = least(expires_at, $1) WHERE id = $2 RETURNING " + keyColumns
	}
	k, err := scanKey(s.pool.QueryRow(ctx, q, ts(p.At), p.ID))
	if err != nil {
		return nil, fmt.Errorf("store: revoke key: %w", interpretError(err))
	}
	return k, nil
}

// KeyTouch implements store.Store: one statement for the whole batch. Every
// node touches the keys it verified, often the same ones, so the rows are
// locked in id order first: two nodes touching the same keys at once wait
// for each other instead of deadlocking.
func (s *Store) KeyTouch(ctx context.Context, used map[string]time.Time) error {
	if len(used) == 0 {
		return nil
	}
	ids, at := make([]string, 0, len(used)), make([]time.Time, 0, len(used))
	for id, t := range used {
		ids, at = append(ids, id), append(at, ts(t))
	}
	_, err := s.pool.Exec(ctx, `UPDATE keys k SET last_used_at = u.at
		FROM (SELECT k.id, u.at FROM keys k JOIN unnest($1::text[], $2::timestamptz[]) AS u (id, at) ON k.id = u.id
			WHERE k.last_used_at IS NULL OR k.last_used_at < u.at
			ORDER BY k.id
			FOR NO KEY UPDATE OF k) u
		WHERE k.id = u.id AND (k.last_used_at IS NULL OR k.last_used_at < u.at)`, ids, at)
	if err != nil {
		return fmt.Errorf("store: touch keys: %w", interpretError(err))
	}
	return nil
}
