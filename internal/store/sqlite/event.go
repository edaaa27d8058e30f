package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

const eventColumns = `id, tenant, type, data, idempotency_key, occurred_at, created_at`

func scanEvent(row scanner) (*hookline.Event, error) {
	var (
		e                 hookline.Event
		data              string
		key               sql.NullString
		occurred, created int64
	)
	if err := row.Scan(&e.ID, &e.Tenant, &e.Type, &data, &key, &occurred, &created); err != nil {
		return nil, err
	}
	e.Data = []byte(data)
	e.IdempotencyKey = key.String
	e.Timestamp, e.CreatedAt = fromMS(occurred), fromMS(created)
	return &e, nil
}

// EventInsert implements store.Store.
func (s *Store) EventInsert(ctx context.Context, ps []store.EventInsertParams) ([]store.EventInsertResult, error) {
	return writeEach(ctx, s, "insert events", ps, true, func(tx wtx, _ successes, p store.EventInsertParams) (store.EventInsertResult, error) {
		return insertEvent(ctx, tx, p)
	})
}

func insertEvent(ctx context.Context, tx wtx, p store.EventInsertParams) (store.EventInsertResult, error) {
	e := p.Event
	var key any
	if e.IdempotencyKey != "" {
		key = e.IdempotencyKey
		existing, err := scanEvent(tx.queryRowHot(ctx, "SELECT "+eventColumns+" FROM events WHERE tenant = ? AND idempotency_key = ?", e.Tenant, e.IdempotencyKey))
		if err == nil {
			ds, err := queryDeliveries(ctx, tx, "SELECT "+deliveryColumns+" FROM deliveries WHERE event_id = ? ORDER BY id", existing.ID)
			return store.EventInsertResult{Event: existing, Deliveries: ds}, err
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return store.EventInsertResult{}, err
		}
	}
	if _, err := tx.execHot(ctx, "INSERT INTO events ("+eventColumns+") VALUES (?, ?, ?, ?, ?, ?, ?)",
		e.ID, e.Tenant, e.Type, string(e.Data), key, ms(e.Timestamp), ms(e.CreatedAt)); err != nil {
		return store.EventInsertResult{}, err
	}
	ds := make([]hookline.Delivery, 0, len(p.Deliveries))
	for _, d := range p.Deliveries {
		var token any
		if d.LeaseToken != "" {
			token = d.LeaseToken
		}
		if _, err := tx.execHot(ctx, `INSERT INTO deliveries (id, event_id, webhook_id, tenant, event_type, ordered,
			status, attempts, next_attempt_at, lease_token, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?, ?)`,
			d.ID, e.ID, d.WebhookID, e.Tenant, e.Type, boolInt(d.Ordered), ms(d.NextAttemptAt), token,
			ms(e.CreatedAt), ms(e.CreatedAt)); err != nil {
			return store.EventInsertResult{}, err
		}
		tx.slots.Delivery(d.ID, d.WebhookID, e.Tenant, "", hookline.DeliveryPending)
		next := d.NextAttemptAt
		ds = append(ds, hookline.Delivery{ID: d.ID, EventID: e.ID, WebhookID: d.WebhookID, Tenant: e.Tenant,
			EventType: e.Type, Status: hookline.DeliveryPending, NextAttemptAt: &next,
			CreatedAt: e.CreatedAt, UpdatedAt: e.CreatedAt})
	}
	return store.EventInsertResult{Event: e, Deliveries: ds, Created: true}, nil
}

// EventGet implements store.Store.
func (s *Store) EventGet(ctx context.Context, id string) (*hookline.Event, error) {
	e, err := scanEvent(s.r.QueryRowContext(ctx, "SELECT "+eventColumns+" FROM events WHERE id = ?", id))
	if err != nil {
		return nil, fmt.Errorf("store: get event: %w", interpretError(err))
	}
	return e, nil
}

// EventList implements store.Store.
func (s *Store) EventList(ctx context.Context, p store.EventListParams) ([]hookline.Event, error) {
	pg, err := p.Page("id", true)
	if err != nil {
		return nil, fmt.Errorf("store: list events: %w", err)
	}
	var f store.Filter
	f.AddIf("tenant", p.Tenant)
	f.AddIf("type", p.Type)
	f.Created(hookline.PrefixEvent, p.CreatedAfter, p.CreatedBefore)
	q, args := f.Page("SELECT "+eventColumns+" FROM events", pg)
	return queryPage(ctx, s.r, "list events", scanEvent, pg, q, args...)
}
