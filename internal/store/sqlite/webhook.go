package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

const webhookColumns = `id, tenant, url, description, events, secret, active, profile, headers,
	metadata, ordered, disabled_reason, failed_streak, last_success_at, created_at, updated_at,
	previous_secret, previous_secret_until`

func (s *Store) scanWebhook(row scanner) (*hookline.Webhook, error) {
	var (
		w                             hookline.Webhook
		events, secret, headers, meta string
		active, ordered               int
		lastSuccess, previousUntil    sql.NullInt64
		previous                      sql.NullString
		created, updated              int64
	)
	err := row.Scan(&w.ID, &w.Tenant, &w.URL, &w.Description, &events, &secret, &active, &w.Profile,
		&headers, &meta, &ordered, &w.DisabledReason, &w.FailedStreak, &lastSuccess, &created, &updated,
		&previous, &previousUntil)
	if err != nil {
		return nil, err
	}
	w.Events = store.DecodeJSON[[]string](events)
	w.Metadata = store.DecodeJSON[map[string]string](meta)
	w.Active, w.Ordered = active == 1, ordered == 1
	w.LastSuccessAt = nullMS(lastSuccess)
	w.CreatedAt, w.UpdatedAt = fromMS(created), fromMS(updated)
	if w.Secret, err = s.box.Open(secret); err != nil {
		return nil, fmt.Errorf("webhook %s: %w", w.ID, err)
	}
	if w.Headers, err = store.OpenHeaders(s.box, headers); err != nil {
		return nil, fmt.Errorf("webhook %s: headers: %w", w.ID, err)
	}
	if previous.Valid {
		if w.PreviousSecret, err = s.box.Open(previous.String); err != nil {
			return nil, fmt.Errorf("webhook %s: previous secret: %w", w.ID, err)
		}
		w.PreviousSecretUntil = nullMS(previousUntil)
	}
	return &w, nil
}

// WebhookCreate implements store.Store.
func (s *Store) WebhookCreate(ctx context.Context, p store.WebhookCreateParams) error {
	w := p.Webhook
	sealed, err := s.box.Seal(w.Secret)
	if err != nil {
		return err
	}
	headers, err := store.SealHeaders(s.box, w.Headers)
	if err != nil {
		return err
	}
	err = s.tx(ctx, func(tx wtx) error {
		if p.MaxPerTenant > 0 {
			var n int
			if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM webhooks WHERE tenant = ?", w.Tenant).Scan(&n); err != nil {
				return err
			}
			if n >= p.MaxPerTenant {
				return fmt.Errorf("%w: tenant %q already has %d webhooks", store.ErrLimitReached, w.Tenant, n)
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO webhooks (`+webhookColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, NULL, NULL)`,
			w.ID, w.Tenant, w.URL, w.Description, store.EncodeJSON(w.Events), sealed, boolInt(w.Active), w.Profile,
			headers, store.EncodeJSON(w.Metadata), boolInt(w.Ordered), w.DisabledReason, 0,
			ms(w.CreatedAt), ms(w.UpdatedAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: create webhook: %w", err)
	}
	return nil
}

// WebhookGet implements store.Store.
func (s *Store) WebhookGet(ctx context.Context, id string) (*hookline.Webhook, error) {
	w, err := s.scanWebhook(s.r.QueryRowContext(ctx, "SELECT "+webhookColumns+" FROM webhooks WHERE id = ?", id))
	if err != nil {
		return nil, fmt.Errorf("store: get webhook: %w", interpretError(err))
	}
	return w, nil
}

// WebhookList implements store.Store.
func (s *Store) WebhookList(ctx context.Context, p store.WebhookListParams) ([]hookline.Webhook, error) {
	pg, err := p.Page("id", true)
	if err != nil {
		return nil, fmt.Errorf("store: list webhooks: %w", err)
	}
	var f store.Filter
	f.AddIf("tenant", p.Tenant)
	if p.Active != nil {
		f.Add("active", "=", *p.Active)
	}
	q, args := f.Page("SELECT "+webhookColumns+" FROM webhooks", pg)
	return queryPage(ctx, s.r, "list webhooks", s.scanWebhook, pg, q, args...)
}

// TenantList implements store.Store.
func (s *Store) TenantList(ctx context.Context, p store.ListParams) ([]store.TenantSummary, error) {
	pg, err := p.Page("tenant", false)
	if err != nil {
		return nil, fmt.Errorf("store: list tenants: %w", err)
	}
	var f store.Filter
	f.Seek(pg)
	q := "SELECT tenant, count(*), sum(active) FROM webhooks" + f.Where() + " GROUP BY tenant"
	q += f.Limit(pg)
	return queryPage(ctx, s.r, "list tenants", scanTenant, pg, q, f.Args...)
}

func scanTenant(sc scanner) (*store.TenantSummary, error) {
	var t store.TenantSummary
	return &t, sc.Scan(&t.Tenant, &t.Webhooks, &t.Active)
}

// WebhookListActive implements store.Store.
func (s *Store) WebhookListActive(ctx context.Context, tenant string) ([]hookline.Webhook, error) {
	return s.queryWebhooks(ctx, "SELECT "+webhookColumns+" FROM webhooks WHERE tenant = ? AND active = 1 ORDER BY id", tenant)
}

func (s *Store) queryWebhooks(ctx context.Context, q string, args ...any) ([]hookline.Webhook, error) {
	return queryAll(ctx, s.r, "list webhooks", s.scanWebhook, q, args...)
}

// WebhookUpdate implements store.Store.
func (s *Store) WebhookUpdate(ctx context.Context, w *hookline.Webhook) error {
	sealed, err := s.box.Seal(w.Secret)
	if err != nil {
		return err
	}
	headers, err := store.SealHeaders(s.box, w.Headers)
	if err != nil {
		return err
	}
	var previous, previousUntil any
	if w.PreviousSecret != "" && w.PreviousSecretUntil != nil {
		if previous, err = s.box.Seal(w.PreviousSecret); err != nil {
			return err
		}
		previousUntil = ms(*w.PreviousSecretUntil)
	}
	return s.execOne(ctx, "update webhook", `UPDATE webhooks SET url = ?, description = ?, events = ?, secret = ?,
			profile = ?, headers = ?, metadata = ?, ordered = ?, updated_at = ?,
			disabled_reason = CASE WHEN ? = 1 THEN '' ELSE disabled_reason END,
			failed_streak = CASE WHEN ? = 1 AND active = 0 THEN 0 ELSE failed_streak END,
			failed_attempts = CASE WHEN ? = 1 AND active = 0 THEN 0 ELSE failed_attempts END,
			active = ?, previous_secret = ?, previous_secret_until = ?
			WHERE id = ?`,
		w.URL, w.Description, store.EncodeJSON(w.Events), sealed, w.Profile, headers, store.EncodeJSON(w.Metadata),
		boolInt(w.Ordered), ms(w.UpdatedAt), boolInt(w.Active), boolInt(w.Active), boolInt(w.Active), boolInt(w.Active),
		previous, previousUntil, w.ID)
}

// WebhookDelete implements store.Store. Its deliveries go with it (ON DELETE
// CASCADE), and its slot counts with them; its attempts stay, uncounted.
func (s *Store) WebhookDelete(ctx context.Context, id string) error {
	err := s.tx(ctx, func(tx wtx) error {
		r, err := tx.ExecContext(ctx, "DELETE FROM webhooks WHERE id = ?", id)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		for _, q := range []string{"DELETE FROM delivery_slots WHERE webhook_id = ?", "DELETE FROM attempt_slots WHERE webhook_id = ?"} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: delete webhook: %w", err)
	}
	return nil
}
