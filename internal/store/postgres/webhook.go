package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

// lockTenantWebhooks is the advisory lock class that serialises webhook creation
// per tenant (the second key is the tenant's hash), so a count and its insert are
// atomic under READ COMMITTED.
const lockTenantWebhooks int32 = 0x686c0001

const webhookColumns = `id, tenant, url, description, events, secret, active, profile, headers,
	metadata, ordered, disabled_reason, failed_streak, last_success_at, created_at, updated_at,
	previous_secret, previous_secret_until`

func (s *Store) scanWebhook(row scanner) (*hookline.Webhook, error) {
	var (
		w                             hookline.Webhook
		events, secret, headers, meta string
		lastSuccess, previousUntil    *time.Time
		previous                      *string
	)
	err := row.Scan(&w.ID, &w.Tenant, &w.URL, &w.Description, &events, &secret, &w.Active, &w.Profile,
		&headers, &meta, &w.Ordered, &w.DisabledReason, &w.FailedStreak, &lastSuccess, &w.CreatedAt, &w.UpdatedAt,
		&previous, &previousUntil)
	if err != nil {
		return nil, err
	}
	w.Events = store.DecodeJSON[[]string](events)
	w.Metadata = store.DecodeJSON[map[string]string](meta)
	w.LastSuccessAt = utc(lastSuccess)
	w.CreatedAt, w.UpdatedAt = w.CreatedAt.UTC(), w.UpdatedAt.UTC()
	if w.Secret, err = s.box.Open(secret); err != nil {
		return nil, fmt.Errorf("webhook %s: %w", w.ID, err)
	}
	if w.Headers, err = store.OpenHeaders(s.box, headers); err != nil {
		return nil, fmt.Errorf("webhook %s: headers: %w", w.ID, err)
	}
	if previous != nil {
		if w.PreviousSecret, err = s.box.Open(*previous); err != nil {
			return nil, fmt.Errorf("webhook %s: previous secret: %w", w.ID, err)
		}
		w.PreviousSecretUntil = utc(previousUntil)
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
	err = s.tx(ctx, func(tx pgx.Tx) error {
		if p.MaxPerTenant > 0 {
			if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1, hashtext($2))", lockTenantWebhooks, w.Tenant); err != nil {
				return err
			}
			var n int
			if err := tx.QueryRow(ctx, "SELECT count(*) FROM webhooks WHERE tenant = $1", w.Tenant).Scan(&n); err != nil {
				return err
			}
			if n >= p.MaxPerTenant {
				return fmt.Errorf("%w: tenant %q already has %d webhooks", store.ErrLimitReached, w.Tenant, n)
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO webhooks (`+webhookColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 0, NULL, $13, $14, NULL, NULL)`,
			w.ID, w.Tenant, w.URL, w.Description, store.EncodeJSON(w.Events), sealed, w.Active, w.Profile,
			headers, store.EncodeJSON(w.Metadata), w.Ordered, w.DisabledReason, ts(w.CreatedAt), ts(w.UpdatedAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: create webhook: %w", err)
	}
	return nil
}

// WebhookGet implements store.Store.
func (s *Store) WebhookGet(ctx context.Context, id string) (*hookline.Webhook, error) {
	w, err := s.scanWebhook(s.pool.QueryRow(ctx, "SELECT "+webhookColumns+" FROM webhooks WHERE id = $1", id))
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
	f := store.Filter{Numbered: true}
	f.AddIf("tenant", p.Tenant)
	if p.Active != nil {
		f.Add("active", "=", *p.Active)
	}
	q, args := f.Page("SELECT "+webhookColumns+" FROM webhooks", pg)
	return queryPage(ctx, s.pool, "list webhooks", s.scanWebhook, pg, q, args...)
}

// TenantList implements store.Store.
func (s *Store) TenantList(ctx context.Context, p store.ListParams) ([]store.TenantSummary, error) {
	pg, err := p.Page("tenant", false)
	if err != nil {
		return nil, fmt.Errorf("store: list tenants: %w", err)
	}
	f := store.Filter{Numbered: true}
	f.Seek(pg)
	q := "SELECT tenant, count(*), count(*) FILTER (WHERE active) FROM webhooks" + f.Where() + " GROUP BY tenant"
	q += f.Limit(pg)
	return queryPage(ctx, s.pool, "list tenants", scanTenant, pg, q, f.Args...)
}

func scanTenant(sc scanner) (*store.TenantSummary, error) {
	var t store.TenantSummary
	return &t, sc.Scan(&t.Tenant, &t.Webhooks, &t.Active)
}

// WebhookListActive implements store.Store.
func (s *Store) WebhookListActive(ctx context.Context, tenant string) ([]hookline.Webhook, error) {
	return queryAll(ctx, s.pool, "list webhooks", s.scanWebhook,
		"SELECT "+webhookColumns+" FROM webhooks WHERE tenant = $1 AND active ORDER BY id", tenant)
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
		previousUntil = ts(*w.PreviousSecretUntil)
	}
	// The CASEs read the row as it was before the update: re-activating clears
	// the reason and, if it was off, the failure streaks.
	return s.execOne(ctx, "update webhook", `UPDATE webhooks SET url = $1, description = $2, events = $3,
			secret = $4, profile = $5, headers = $6, metadata = $7, ordered = $8, updated_at = $9,
			disabled_reason = CASE WHEN $10 THEN '' ELSE disabled_reason END,
			failed_streak = CASE WHEN $10 AND NOT active THEN 0 ELSE failed_streak END,
			failed_attempts = CASE WHEN $10 AND NOT active THEN 0 ELSE failed_attempts END,
			active = $10, previous_secret = $11, previous_secret_until = $12
			WHERE id = $13`,
		w.URL, w.Description, store.EncodeJSON(w.Events), sealed, w.Profile, headers, store.EncodeJSON(w.Metadata),
		w.Ordered, ts(w.UpdatedAt), w.Active, previous, previousUntil, w.ID)
}

// WebhookDelete implements store.Store. Its deliveries go with it (ON DELETE
// CASCADE), and its slot counts with them; its events and attempts stay,
// uncounted. The slots go last, in a statement that sees every transaction
// that was counting into them: the delete waited for those that hold one of
// the webhook's deliveries or the webhook itself (slots.go).
func (s *Store) WebhookDelete(ctx context.Context, id string) error {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		b.Queue("DELETE FROM webhooks WHERE id = $1", id)
		b.Queue("DELETE FROM delivery_slots WHERE webhook_id = $1", id)
		b.Queue("DELETE FROM attempt_slots WHERE webhook_id = $1", id)
		br := tx.SendBatch(ctx, b)
		tag, err := br.Exec()
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		if err == nil && tag.RowsAffected() == 0 {
			err = store.ErrNotFound
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("store: delete webhook: %w", err)
	}
	return nil
}
