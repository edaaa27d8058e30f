package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

const portalSessionColumns = `id, tenant, capabilities, theme, locale, token_hash, cookie_hash,
	expires_at, created_at, logged_in_at, ended_at`

// scanPortalSession reads a portal session. Capabilities is never nil.
func scanPortalSession(row scanner) (*hookline.PortalSession, error) {
	var (
		ps               hookline.PortalSession
		caps, theme      string
		expires, created int64
		loggedIn, ended  sql.NullInt64
	)
	err := row.Scan(&ps.ID, &ps.Tenant, &caps, &theme, &ps.Locale, &ps.TokenHash, &ps.CookieHash,
		&expires, &created, &loggedIn, &ended)
	if err != nil {
		return nil, err
	}
	if ps.Capabilities = store.DecodeJSON[[]string](caps); ps.Capabilities == nil {
		ps.Capabilities = []string{}
	}
	ps.Theme = store.DecodeJSON[hookline.PortalTheme](theme)
	ps.ExpiresAt, ps.CreatedAt = fromMS(expires), fromMS(created)
	ps.LoggedInAt, ps.EndedAt = nullMS(loggedIn), nullMS(ended)
	return &ps, nil
}

// PortalSessionCreate implements store.Store. The id's primary key and the
// token hash's unique index make either one taken a conflict.
func (s *Store) PortalSessionCreate(ctx context.Context, ps *hookline.PortalSession) error {
	return s.exec(ctx, "create portal session",
		"INSERT INTO portal_sessions ("+portalSessionColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		ps.ID, ps.Tenant, store.EncodeList(ps.Capabilities), store.EncodeJSON(ps.Theme), ps.Locale, ps.TokenHash, ps.CookieHash,
		ms(ps.ExpiresAt), ms(ps.CreatedAt), msOrNull(ps.LoggedInAt), msOrNull(ps.EndedAt))
}

// PortalSessionLogin implements store.Store: one UPDATE … RETURNING whose
// WHERE holds every condition, so the login that runs first on the single
// writer takes the session and any other finds no row.
func (s *Store) PortalSessionLogin(ctx context.Context, tokenHash, cookieHash []byte, now time.Time) (*hookline.PortalSession, error) {
	var ps *hookline.PortalSession
	err := s.tx(ctx, func(tx wtx) (err error) {
		ps, err = scanPortalSession(tx.QueryRowContext(ctx, `UPDATE portal_sessions SET cookie_hash = ?1, logged_in_at = ?2
			WHERE token_hash = ?3 AND logged_in_at IS NULL AND ended_at IS NULL AND expires_at > ?2
			RETURNING `+portalSessionColumns, cookieHash, ms(now), tokenHash))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: portal login: %w", err)
	}
	return ps, nil
}

// PortalSessionByCookie implements store.Store.
func (s *Store) PortalSessionByCookie(ctx context.Context, cookieHash []byte, now time.Time) (*hookline.PortalSession, error) {
	ps, err := scanPortalSession(s.r.QueryRowContext(ctx, "SELECT "+portalSessionColumns+` FROM portal_sessions
		WHERE cookie_hash = ? AND ended_at IS NULL AND expires_at > ?`, cookieHash, ms(now)))
	if err != nil {
		return nil, fmt.Errorf("store: get portal session: %w", interpretError(err))
	}
	return ps, nil
}

// PortalSessionGet implements store.Store.
func (s *Store) PortalSessionGet(ctx context.Context, id string) (*hookline.PortalSession, error) {
	ps, err := scanPortalSession(s.r.QueryRowContext(ctx, "SELECT "+portalSessionColumns+" FROM portal_sessions WHERE id = ?", id))
	if err != nil {
		return nil, fmt.Errorf("store: get portal session: %w", interpretError(err))
	}
	return ps, nil
}

// PortalSessionEnd implements store.Store. SQLite counts a row the WHERE
// matched as changed even when coalesce keeps its ended_at, so only a missing
// session is ErrNotFound.
func (s *Store) PortalSessionEnd(ctx context.Context, id string, now time.Time) error {
	return s.execOne(ctx, "end portal session",
		"UPDATE portal_sessions SET ended_at = coalesce(ended_at, ?) WHERE id = ?", ms(now), id)
}

// PortalSessionEndTenant implements store.Store. Sessions that expired
// without being ended are ended too: the contract is "not ended yet".
func (s *Store) PortalSessionEndTenant(ctx context.Context, tenant string, now time.Time) (int, error) {
	var n int64
	err := s.tx(ctx, func(tx wtx) error {
		res, err := tx.ExecContext(ctx, "UPDATE portal_sessions SET ended_at = ? WHERE tenant = ? AND ended_at IS NULL", ms(now), tenant)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: end portal sessions: %w", err)
	}
	return int(n), nil
}
