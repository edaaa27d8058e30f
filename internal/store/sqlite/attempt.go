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
		tx.slots.attempt(a)
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
	q := "SELECT " + attemptColumns + " FROM attempts WHERE 1=1"
	var args []any
	if p.WebhookID != "" {
		q += " AND webhook_id = ?"
		args = append(args, p.WebhookID)
	}
	if p.DeliveryID != "" {
		q += " AND delivery_id = ?"
		args = append(args, p.DeliveryID)
	}
	if p.Cursor != "" {
		q += " AND id < ?"
		args = append(args, p.Cursor)
	}
	q += " ORDER BY id DESC LIMIT ?"
	args = append(args, store.PageLimit(p.Limit))
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list attempts: %w", interpretError(err))
	}
	defer rows.Close()
	out := []hookline.Attempt{}
	for rows.Next() {
		var (
			a           hookline.Attempt
			started     int64
			reqH, respH string
		)
		if err := rows.Scan(&a.ID, &a.DeliveryID, &a.WebhookID, &a.EventID, &a.EventType, &a.Tenant, &a.Number,
			&started, &a.DurationMS, &a.StatusCode, &reqH, &respH, &a.ResponseBody, &a.Error); err != nil {
			return nil, fmt.Errorf("store: list attempts: %w", err)
		}
		a.StartedAt = fromMS(started)
		a.RequestHeaders = store.DecodeJSON[map[string]string](reqH)
		a.ResponseHeaders = store.DecodeJSON[map[string]string](respH)
		out = append(out, a)
	}
	return out, interpretError(rows.Err())
}
