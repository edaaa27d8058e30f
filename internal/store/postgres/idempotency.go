package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

const idempotencyColumns = `scope, key, request_hash, token, status, header, body,
	created_at, locked_until, expires_at`

// scanIdempotency reads a record and opens its body. An empty header or body
// reads as nil.
func (s *Store) scanIdempotency(row scanner) (*store.IdempotencyRecord, error) {
	var (
		r    store.IdempotencyRecord
		body string
	)
	err := row.Scan(&r.Scope, &r.Key, &r.RequestHash, &r.Token, &r.Status, &r.Header, &body,
		&r.CreatedAt, &r.LockedUntil, &r.ExpiresAt)
	if err != nil {
		return nil, err
	}
	r.CreatedAt, r.LockedUntil, r.ExpiresAt = r.CreatedAt.UTC(), r.LockedUntil.UTC(), r.ExpiresAt.UTC()
	if err := store.OpenIdempotencyRecord(s.box, &r, body); err != nil {
		return nil, err
	}
	return &r, nil
}

// IdempotencyBegin implements store.Store with one upsert whose WHERE says
// when the stored record may be replaced. ON CONFLICT waits for a concurrent
// insert or update of the key to commit and judges the row as that left it,
// so of concurrent Begins one replaces or inserts and the others find its
// row. An upsert whose WHERE fails still locks the row until the
// transaction ends: the SELECT that follows reads the very record that was
// kept, which nobody can change or delete meanwhile.
func (s *Store) IdempotencyBegin(ctx context.Context, rec *store.IdempotencyRecord, now time.Time) (*store.IdempotencyRecord, error) {
	var found *store.IdempotencyRecord
	err := s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO idempotency_keys AS k (`+idempotencyColumns+`)
			VALUES ($1, $2, $3, $4, 0, '', '', $5, $6, $7)
			ON CONFLICT (scope, key) DO UPDATE SET request_hash = excluded.request_hash, token = excluded.token,
				status = 0, header = '', body = '', created_at = excluded.created_at,
				locked_until = excluded.locked_until, expires_at = excluded.expires_at
			WHERE k.expires_at <= $8
				OR (k.status = 0 AND k.locked_until <= $8 AND k.request_hash = excluded.request_hash)`,
			rec.Scope, rec.Key, notNil(rec.RequestHash), rec.Token,
			ts(rec.CreatedAt), ts(rec.LockedUntil), ts(rec.ExpiresAt), ts(now))
		if err != nil {
			return err
		}
		if tag.RowsAffected() > 0 {
			return nil
		}
		found, err = s.scanIdempotency(tx.QueryRow(ctx, "SELECT "+idempotencyColumns+
			" FROM idempotency_keys WHERE scope = $1 AND key = $2", rec.Scope, rec.Key))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: begin idempotent request: %w", err)
	}
	return found, nil
}

// IdempotencyFinish implements store.Store.
func (s *Store) IdempotencyFinish(ctx context.Context, rec *store.IdempotencyRecord) error {
	if rec.Status == 0 {
		return fmt.Errorf("store: finish idempotent request: %w", hookline.Invalid("status", "must be set"))
	}
	body, err := s.box.Seal(string(rec.Body))
	if err != nil {
		return err
	}
	return s.execOne(ctx, "finish idempotent request", `UPDATE idempotency_keys
		SET status = $1, header = $2, body = $3, expires_at = $4
		WHERE scope = $5 AND key = $6 AND token = $7 AND status = 0`,
		rec.Status, notNil(rec.Header), body, ts(rec.ExpiresAt), rec.Scope, rec.Key, rec.Token)
}

// IdempotencyRelease implements store.Store.
func (s *Store) IdempotencyRelease(ctx context.Context, scope, key, token string) error {
	return s.exec(ctx, "release idempotency key",
		"DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND token = $3 AND status = 0", scope, key, token)
}

// IdempotencyPurge implements store.Store. Rows another node is purging, or
// a Begin is replacing, are skipped, not waited for.
func (s *Store) IdempotencyPurge(ctx context.Context, now time.Time, limit int) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE (scope, key) IN (
		SELECT scope, key FROM idempotency_keys WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`,
		ts(now), store.PageLimit(limit))
	if err != nil {
		return 0, fmt.Errorf("store: purge idempotency keys: %w", interpretError(err))
	}
	return tag.RowsAffected(), nil
}

// notNil is b, or an empty slice for nil: the columns are NOT NULL, and a nil
// slice is written as NULL.
func notNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
