package postgres

import (
	"context"
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
		ps              hookline.PortalSession
		caps, theme     string
		loggedIn, ended *time.Time
	)
	err := row.Scan(&ps.ID, &ps.Tenant, &caps, &theme, &ps.Locale, &ps.TokenHash, &ps.CookieHash,
		&ps.ExpiresAt, &ps.CreatedAt, &loggedIn, &ended)
	if err != nil {
		return nil, err
	}
	if ps.Capabilities = store.DecodeJSON[[]string](caps); ps.Capabilities == nil {
		ps.Capabilities = []string{}
	}
	ps.Theme = store.DecodeJSON[hookline.PortalTheme](theme)
	ps.ExpiresAt, ps.CreatedAt = ps.ExpiresAt.UTC(), ps.CreatedAt.UTC()
	ps.LoggedInAt, ps.EndedAt = utc(loggedIn), utc(ended)
	return &ps, nil
}

// PortalSessionCreate implements store.Store. The id's primary key and the
// token hash's unique index make either one taken a conflict.
func (s *Store) PortalSessionCreate(ctx context.Context, ps *hookline.PortalSession) error {
	return s.exec(ctx, "create portal session", "INSERT INTO portal_sessions ("+portalSessionColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		ps.ID, ps.Tenant, store.EncodeList(ps.Capabilities), store.EncodeJSON(ps.Theme), ps.Locale, ps.TokenHash, ps.CookieHash,
		ts(ps.ExpiresAt), ts(ps.CreatedAt), tsOrNull(ps.LoggedInAt), tsOrNull(ps.EndedAt))
}

// PortalSessionLogin implements store.Store: one UPDATE … RETURNING whose
// WHERE holds every condition. Of two logins at once, the second waits for
// the first's row lock, then evaluates its WHERE again on the row the first
// wrote (READ COMMITTED), finds it logged in and updates nothing.
func (s *Store) PortalSessionLogin(ctx context.Context, tokenHash, cookieHash []byte, now time.Time) (*hookline.PortalSession, error) {
	ps, err := scanPortalSession(s.pool.QueryRow(ctx, `UPDATE portal_sessions SET cookie_hash = $1, logged_in_at = $2
		WHERE token_hash = $3 AND logged_in_at IS NULL AND ended_at IS NULL AND expires_at > $2
		RETURNING `+portalSessionColumns, cookieHash, ts(now), tokenHash))
	if err != nil {
		return nil, fmt.Errorf("store: portal login: %w", interpretError(err))
	}
	return ps, nil
}

// PortalSessionByCookie implements store.Store.
func (s *Store) PortalSessionByCookie(ctx context.Context, cookieHash []byte, now time.Time) (*hookline.PortalSession, error) {
	ps, err := scanPortalSession(s.pool.QueryRow(ctx, "SELECT "+portalSessionColumns+` FROM portal_sessions
		WHERE cookie_hash = $1 AND ended_at IS NULL AND expires_at > $2`, cookieHash, ts(now)))
	if err != nil {
		return nil, fmt.Errorf("store: get portal session: %w", interpretError(err))
	}
	return ps, nil
}

// PortalSessionGet implements store.Store.
func (s *Store) PortalSessionGet(ctx context.Context, id string) (*hookline.PortalSession, error) {
	ps, err := scanPortalSession(s.pool.QueryRow(ctx, "SELECT "+portalSessionColumns+" FROM portal_sessions WHERE id = $1", id))
	if err != nil {
		return nil, fmt.Errorf("store: get portal session: %w", interpretError(err))
	}
	return ps, nil
}

// PortalSessionEnd implements store.Store. The row counts as updated even when
// coalesce keeps its ended_at, so only a missing session is ErrNotFound.
func (s *Store) PortalSessionEnd(ctx context.Context, id string, now time.Time) error {
	return s.execOne(ctx, "end portal session",
		"UPDATE portal_sessions SET ended_at = coalesce(ended_at, $1) WHERE id = $2", ts(now), id)
}

// PortalSessionEndTenant implements store.Store. Sessions that expired
// without being ended are ended too: the contract is "not ended yet".
func (s *Store) PortalSessionEndTenant(ctx context.Context, tenant string, now time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, "UPDATE portal_sessions SET ended_at = $1 WHERE tenant = $2 AND ended_at IS NULL", ts(now), tenant)
	if err != nil {
		return 0, fmt.Errorf("store: end portal sessions: %w", interpretError(err))
	}
	return int(tag.RowsAffected()), nil
}
