package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/hookline/hookline/internal/keyspace"
	"github.com/hookline/hookline/internal/store"
)

const keyspaceColumns = `name, description, prefix, permissions, rate_limit, key_expiry_ms, created_at, updated_at`

func scanKeyspace(row scanner) (*keyspace.Keyspace, error) {
	var (
		ks               keyspace.Keyspace
		perms            string
		rateLimit        sql.NullString
		expiry           int64
		created, updated int64
	)
	if err := row.Scan(&ks.Name, &ks.Description, &ks.Prefix, &perms, &rateLimit, &expiry, &created, &updated); err != nil {
		return nil, err
	}
	if ks.Permissions = store.DecodeJSON[[]keyspace.Permission](perms); ks.Permissions == nil {
		ks.Permissions = []keyspace.Permission{}
	}
	if rateLimit.Valid {
		ks.RateLimit = store.DecodeJSON[*keyspace.RateLimit](rateLimit.String)
	}
	ks.KeyExpiry = keyspace.Duration(time.Duration(expiry) * time.Millisecond)
	ks.Source = keyspace.SourceAPI
	ks.CreatedAt, ks.UpdatedAt = fromMS(created), fromMS(updated)
	return &ks, nil
}

// KeyspaceCreate implements store.Store. The name's primary key and the
// prefix's unique index make either one taken a conflict.
func (s *Store) KeyspaceCreate(ctx context.Context, ks *keyspace.Keyspace) error {
	return s.exec(ctx, "create key space", "INSERT INTO keyspaces ("+keyspaceColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
		ks.Name, ks.Description, ks.Prefix, store.EncodeList(ks.Permissions), store.EncodeOptional(ks.RateLimit),
		time.Duration(ks.KeyExpiry).Milliseconds(), ms(ks.CreatedAt), ms(ks.UpdatedAt))
}

// KeyspaceGet implements store.Store.
func (s *Store) KeyspaceGet(ctx context.Context, name string) (*keyspace.Keyspace, error) {
	ks, err := scanKeyspace(s.r.QueryRowContext(ctx, "SELECT "+keyspaceColumns+" FROM keyspaces WHERE name = ?", name))
	if err != nil {
		return nil, fmt.Errorf("store: get key space: %w", interpretError(err))
	}
	return ks, nil
}

// KeyspaceList implements store.Store.
func (s *Store) KeyspaceList(ctx context.Context) ([]keyspace.Keyspace, error) {
	return queryAll(ctx, s.r, "list key spaces", scanKeyspace, "SELECT "+keyspaceColumns+" FROM keyspaces ORDER BY name")
}

// KeyspaceUpdate implements store.Store. Name and prefix stay: keys name
// their key space, and issued keys start with its prefix.
func (s *Store) KeyspaceUpdate(ctx context.Context, ks *keyspace.Keyspace) error {
	return s.execOne(ctx, "update key space",
		"UPDATE keyspaces SET description = ?, permissions = ?, rate_limit = ?, key_expiry_ms = ?, updated_at = ? WHERE name = ?",
		ks.Description, store.EncodeList(ks.Permissions), store.EncodeOptional(ks.RateLimit),
		time.Duration(ks.KeyExpiry).Milliseconds(), ms(ks.UpdatedAt), ks.Name)
}

// KeyspaceDelete implements store.Store. Keys refer to their key space by
// name only (no foreign key), so they are deleted here, in the same commit.
func (s *Store) KeyspaceDelete(ctx context.Context, name string) error {
	err := s.tx(ctx, func(tx wtx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM keyspaces WHERE name = ?", name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		_, err = tx.ExecContext(ctx, "DELETE FROM keys WHERE keyspace = ?", name)
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
		rateLimit                  sql.NullString
		expires, revoked, lastUsed sql.NullInt64
		created                    int64
	)
	err := row.Scan(&k.ID, &k.Keyspace, &k.Tenant, &k.Name, &k.Start, &k.Hash, &perms, &resources, &meta, &rateLimit,
		&expires, &revoked, &lastUsed, &created)
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
	if rateLimit.Valid {
		k.RateLimit = store.DecodeJSON[*keyspace.RateLimit](rateLimit.String)
	}
	k.ExpiresAt, k.RevokedAt, k.LastUsedAt = nullMS(expires), nullMS(revoked), nullMS(lastUsed)
	k.CreatedAt = fromMS(created)
	return &k, nil
}

// msOrNull is an optional time as written: unix milliseconds, or NULL.
func msOrNull(t *time.Time) any {
	if t == nil {
		return nil
	}
	return ms(*t)
}

// KeyCreate implements store.Store.
func (s *Store) KeyCreate(ctx context.Context, k *keyspace.Key, stored bool) error {
	err := s.tx(ctx, func(tx wtx) error {
		if stored { // the single writer orders this with a KeyspaceDelete
			var n int
			if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM keyspaces WHERE name = ?", k.Keyspace).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return store.ErrNotFound
			}
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO keys ("+keyColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			k.ID, k.Keyspace, k.Tenant, k.Name, k.Start, k.Hash, store.EncodeList(k.Permissions), store.EncodeList(k.Resources),
			store.EncodeMap(k.Meta), store.EncodeOptional(k.RateLimit),
			msOrNull(k.ExpiresAt), msOrNull(k.RevokedAt), msOrNull(k.LastUsedAt), ms(k.CreatedAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: create key: %w", err)
	}
	return nil
}

// KeyGet implements store.Store.
func (s *Store) KeyGet(ctx context.Context, id string) (*keyspace.Key, error) {
	k, err := scanKey(s.r.QueryRowContext(ctx, "SELECT "+keyColumns+" FROM keys WHERE id = ?", id))
	if err != nil {
		return nil, fmt.Errorf("store: get key: %w", interpretError(err))
	}
	return k, nil
}

// KeyGetByHash implements store.Store.
func (s *Store) KeyGetByHash(ctx context.Context, hash []byte) (*keyspace.Key, error) {
	k, err := scanKey(s.r.QueryRowContext(ctx, "SELECT "+keyColumns+" FROM keys WHERE hash = ?", hash))
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
	var f store.Filter
	f.Add("keyspace", "=", p.Keyspace)
	f.AddIf("tenant", p.Tenant)
	q, args := f.Page("SELECT "+keyColumns+" FROM keys", pg)
	return queryPage(ctx, s.r, "list keys", scanKey, pg, q, args...)
}

// KeyRevoke implements store.Store. Each case is one UPDATE … RETURNING, so
// the key returned is the one written: a revocation keeps the first revoked_at,
// an expiry only moves sooner (SQLite's min() is NULL when expires_at is).
func (s *Store) KeyRevoke(ctx context.Context, p store.KeyRevokeParams) (*keyspace.Key, error) {
	q := "UPDATE keys SET revoked_at = coalesce(revoked_at, ?1) WHERE id = ?2 RETURNING " + keyColumns
	if p.Expire {
		q = "UPDATE keys SET expires_at = coalesce(min(expires_at, ?1), ?1) WHERE id = ?2 RETURNING " + keyColumns
	}
	var k *keyspace.Key
	err := s.tx(ctx, func(tx wtx) (err error) {
		k, err = scanKey(tx.QueryRowContext(ctx, q, ms(p.At), p.ID))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: revoke key: %w", err)
	}
	return k, nil
}

// KeyTouch implements store.Store: one commit for the whole batch, which
// SQLite's one writer pays for once.
func (s *Store) KeyTouch(ctx context.Context, used map[string]time.Time) error {
	if len(used) == 0 {
		return nil
	}
	err := s.tx(ctx, func(tx wtx) error {
		st, err := tx.PrepareContext(ctx,
			"UPDATE keys SET last_used_at = ?1 WHERE id = ?2 AND (last_used_at IS NULL OR last_used_at < ?1)")
		if err != nil {
			return err
		}
		defer st.Close()
		for id, at := range used {
			if _, err := st.ExecContext(ctx, ms(at), id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: touch keys: %w", err)
	}
	return nil
}
