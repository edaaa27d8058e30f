package postgres

import (
	"context"

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

// AttemptInsert implements store.Store.
func (s *Store) AttemptInsert(ctx context.Context, a *hookline.Attempt) error {
	return s.exec(ctx, "insert attempt", insertAttemptSQL, attemptArgs(a)...)
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
	var f filter
	f.addIf("webhook_id", p.WebhookID)
	f.addIf("delivery_id", p.DeliveryID)
	q, args := f.page("SELECT "+attemptColumns+" FROM attempts", p.Cursor, p.Limit)
	return queryAll(ctx, s.pool, "list attempts", scanAttempt, q, args...)
}
