package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

const idempotencyColumns = `scope, key, request_hash, token, status, header, body,
	created_at, locked_until, expires_at`

// scanIdempotency reads a record and opens its body. An empty header or body
// reads as nil.
func (s *Store) scanIdempotency(row scanner) (*store.IdempotencyRecord, error) {
	var (
		r                        store.IdempotencyRecord
		body                     string
		created, locked, expires int64
	)
	err := row.Scan(&r.Scope, &r.Key, &r.RequestHash, &r.Token, &r.Status, &r.Header, &body,
		&created, &locked, &expires)
	if err != nil {
		return nil, err
	}
	r.CreatedAt, r.LockedUntil, r.ExpiresAt = fromMS(created), fromMS(locked), fromMS(expires)
	if err := store.OpenIdempotencyRecord(s.box, &r, body); err != nil {
		return nil, err
	}
	return &r, nil
}

// IdempotencyBegin implements store.Store: one upsert, whose WHERE says when
// the stored record may be replaced, on the single writer; when it replaces
// nothing, the record it kept is read in the same transaction.
func (s *Store) IdempotencyBegin(ctx context.Context, rec *store.IdempotencyRecord, now time.Time) (*store.IdempotencyRecord, error) {
	var found *store.IdempotencyRecord
	err := s.tx(ctx, func(tx wtx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO idempotency_keys (`+idempotencyColumns+`)
			VALUES (?1, ?2, ?3, ?4, 0, x'', '', ?5, ?6, ?7)
			ON CONFLICT (scope, key) DO UPDATE SET request_hash = excluded.request_hash, token = excluded.token,
				status = 0, header = x'', body = '', created_at = excluded.created_at,
				locked_until = excluded.locked_until, expires_at = excluded.expires_at
			WHERE idempotency_keys.expires_at <= ?8
				OR (idempotency_keys.status = 0 AND idempotency_keys.locked_until <= ?8
					AND idempotency_keys.request_hash = excluded.request_hash)`,
			rec.Scope, rec.Key, notNil(rec.RequestHash), rec.Token,
			ms(rec.CreatedAt), ms(rec.LockedUntil), ms(rec.ExpiresAt), ms(now))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n > 0 {
			return nil
		}
		found, err = s.scanIdempotency(tx.QueryRowContext(ctx, "SELECT "+idempotencyColumns+
			" FROM idempotency_keys WHERE scope = ? AND key = ?", rec.Scope, rec.Key))
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
		SET status = ?, header = ?, body = ?, expires_at = ?
		WHERE scope = ? AND key = ? AND token = ? AND status = 0`,
		rec.Status, notNil(rec.Header), body, ms(rec.ExpiresAt), rec.Scope, rec.Key, rec.Token)
}

// IdempotencyRelease implements store.Store.
func (s *Store) IdempotencyRelease(ctx context.Context, scope, key, token string) error {
	return s.exec(ctx, "release idempotency key",
		"DELETE FROM idempotency_keys WHERE scope = ? AND key = ? AND token = ? AND status = 0", scope, key, token)
}

// IdempotencyPurge implements store.Store.
func (s *Store) IdempotencyPurge(ctx context.Context, now time.Time, limit int) (int64, error) {
	var n int64
	err := s.tx(ctx, func(tx wtx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE (scope, key) IN (
			SELECT scope, key FROM idempotency_keys WHERE expires_at <= ? LIMIT ?)`, ms(now), store.PageLimit(limit))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: purge idempotency keys: %w", err)
	}
	return n, nil
}

// notNil is b, or an empty slice for nil: the columns are NOT NULL, and a nil
// slice is written as NULL.
func notNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
