package sqlite

import (
	"context"
	"fmt"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

const attemptColumns = `id, delivery_id, webhook_id, event_id, event_type, tenant, number, started_at,
	duration_ms, status_code, request_headers, response_headers, response_body, error`

func insertAttempt(ctx context.Context, tx wtx, a *hookline.Attempt) error {
	_, err := tx.execHot(ctx, "INSERT INTO attempts ("+attemptColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		a.ID, a.DeliveryID, a.WebhookID, a.EventID, a.EventType, a.Tenant, a.Number, ms(a.StartedAt),
		a.DurationMS, a.StatusCode, store.EncodeJSON(a.RequestHeaders), store.EncodeJSON(a.ResponseHeaders), a.ResponseBody, a.Error)
	if err == nil {
		tx.slots.Attempt(a)
	}
	return err
}

// AttemptInsert implements store.Store.
func (s *Store) AttemptInsert(ctx context.Context, a *hookline.Attempt) error {
	if err := s.tx(ctx, func(tx wtx) error { return insertAttempt(ctx, tx, a) }); err != nil {
		return fmt.Errorf("store: insert attempt: %w", err)
	}
	return nil
}

// AttemptList implements store.Store.
func (s *Store) AttemptList(ctx context.Context, p store.AttemptListParams) ([]hookline.Attempt, error) {
	pg, err := p.Page("id", true)
	if err != nil {
		return nil, fmt.Errorf("store: list attempts: %w", err)
	}
	var f store.Filter
	f.AddIf("webhook_id", p.WebhookID)
	f.AddIf("delivery_id", p.DeliveryID)
	f.Created(hookline.PrefixAttempt, p.CreatedAfter, p.CreatedBefore)
	q, args := f.Page("SELECT "+attemptColumns+" FROM attempts", pg)
	return queryPage(ctx, s.r, "list attempts", scanAttempt, pg, q, args...)
}

// scanAttempt reads a row of attemptColumns.
func scanAttempt(sc scanner) (*hookline.Attempt, error) {
	var (
		a           hookline.Attempt
		started     int64
		reqH, respH string
	)
	if err := sc.Scan(&a.ID, &a.DeliveryID, &a.WebhookID, &a.EventID, &a.EventType, &a.Tenant, &a.Number,
		&started, &a.DurationMS, &a.StatusCode, &reqH, &respH, &a.ResponseBody, &a.Error); err != nil {
		return nil, err
	}
	a.StartedAt = fromMS(started)
	a.RequestHeaders = store.DecodeJSON[map[string]string](reqH)
	a.ResponseHeaders = store.DecodeJSON[map[string]string](respH)
	return &a, nil
}
