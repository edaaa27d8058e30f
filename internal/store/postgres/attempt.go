package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

const attemptColumns = `id, delivery_id, webhook_id, event_id, event_type, tenant, number, started_at,
	duration_ms, status_code, request_headers, response_headers, response_body, error`

const insertAttemptSQL = "INSERT INTO attempts (" + attemptColumns + ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"

func attemptArgs(a *hookline.Attempt) []any {
	return []any{a.ID, a.DeliveryID, a.WebhookID, a.EventID, a.EventType, a.Tenant, a.Number, ts(a.StartedAt),
		a.DurationMS, a.StatusCode, store.EncodeJSON(a.RequestHeaders), store.EncodeJSON(a.ResponseHeaders), []byte(a.ResponseBody), a.Error}
}

// AttemptInsert implements store.Store. The attempt is counted in the slots
// only if its webhook exists, and the webhook is locked (FOR KEY SHARE) until
// the commit: a WebhookDelete, which deletes the webhook's slots, waits for
// it, or went first and leaves nothing to count.
func (s *Store) AttemptInsert(ctx context.Context, a *hookline.Attempt) error {
	err := s.slotTx(ctx, func(tx txConn, sd *store.SlotDeltas) error {
		b := &pgx.Batch{}
		b.Queue("SELECT count(*) FROM (SELECT FROM webhooks WHERE id = $1 FOR KEY SHARE) w", a.WebhookID)
		b.Queue(insertAttemptSQL, attemptArgs(a)...)
		br := tx.SendBatch(ctx, b)
		var webhooks int
		err := br.QueryRow().Scan(&webhooks)
		if err == nil {
			_, err = br.Exec()
		}
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		if err == nil && webhooks > 0 {
			sd.Attempt(a)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("store: insert attempt: %w", err)
	}
	return nil
}

func scanAttempt(row scanner) (*hookline.Attempt, error) {
	var (
		a           hookline.Attempt
		reqH, respH string
		body        []byte
	)
	if err := row.Scan(&a.ID, &a.DeliveryID, &a.WebhookID, &a.EventID, &a.EventType, &a.Tenant, &a.Number,
		&a.StartedAt, &a.DurationMS, &a.StatusCode, &reqH, &respH, &body, &a.Error); err != nil {
		return nil, err
	}
	a.StartedAt = a.StartedAt.UTC()
	a.RequestHeaders = store.DecodeJSON[map[string]string](reqH)
	a.ResponseHeaders = store.DecodeJSON[map[string]string](respH)
	a.ResponseBody = string(body)
	return &a, nil
}

// AttemptList implements store.Store.
func (s *Store) AttemptList(ctx context.Context, p store.AttemptListParams) ([]hookline.Attempt, error) {
	pg, err := p.Page("id", true)
	if err != nil {
		return nil, fmt.Errorf("store: list attempts: %w", err)
	}
	f := store.Filter{Numbered: true}
	f.AddIf("webhook_id", p.WebhookID)
	f.AddIf("delivery_id", p.DeliveryID)
	f.Created(hookline.PrefixAttempt, p.CreatedAfter, p.CreatedBefore)
	q, args := f.Page("SELECT "+attemptColumns+" FROM attempts", pg)
	return queryPage(ctx, s.pool, "list attempts", scanAttempt, pg, q, args...)
}
