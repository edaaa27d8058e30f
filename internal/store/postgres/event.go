package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

const eventColumns = `id, tenant, type, data, idempotency_key, occurred_at, created_at`

func scanEvent(row scanner) (*hookline.Event, error) {
	var (
		e    hookline.Event
		data string
		key  *string
	)
	if err := row.Scan(&e.ID, &e.Tenant, &e.Type, &data, &key, &e.Timestamp, &e.CreatedAt); err != nil {
		return nil, err
	}
	e.Data = []byte(data)
	if key != nil {
		e.IdempotencyKey = *key
	}
	e.Timestamp, e.CreatedAt = e.Timestamp.UTC(), e.CreatedAt.UTC()
	return &e, nil
}

// insertEventSQL stores one event and, only if the event is new, its deliveries,
// in one statement; it returns whether the event was created. ON CONFLICT waits
// for a concurrent insert of the same idempotency key to commit, so the key is
// created once.
const insertEventSQL = `WITH ev AS (
	INSERT INTO events (` + eventColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7)
	ON CONFLICT (tenant, idempotency_key) DO NOTHING
	RETURNING id, tenant, type, created_at
), ds AS (
	INSERT INTO deliveries (id, event_id, webhook_id, tenant, event_type, ordered, status, attempts,
		next_attempt_at, lease_token, created_at, updated_at)
	SELECT d.id, ev.id, d.webhook_id, ev.tenant, ev.type, d.ordered, 'pending', 0,
		d.next_attempt_at, NULLIF(d.lease_token, ''), ev.created_at, ev.created_at
	FROM ev, unnest($8::text[], $9::text[], $10::boolean[], $11::timestamptz[], $12::text[])
		AS d (id, webhook_id, ordered, next_attempt_at, lease_token)
)
SELECT count(*) > 0 FROM ev`

// EventInsert implements store.Store. The whole batch is one transaction and,
// with pgx's pipelining, one round trip when no key is a repeat. It notifies
// nobody: the engine knows whether the new deliveries are due now or already
// taken by its fast path, and broadcasts TopicWork itself.
func (s *Store) EventInsert(ctx context.Context, ps []store.EventInsertParams) ([]store.EventInsertResult, error) {
	var out []store.EventInsertResult
	err := s.slotTx(ctx, func(tx txConn, sd *store.SlotDeltas) error {
		var err error
		out, err = insertEvents(ctx, tx, sd, ps)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: insert events: %w", err)
	}
	return out, nil
}

// insertEvents stores events in tx: every insert in one pipelined batch, then,
// for the events whose key was already taken, a read of the stored event. The
// new deliveries are counted in sd.
func insertEvents(ctx context.Context, tx txConn, sd *store.SlotDeltas, ps []store.EventInsertParams) ([]store.EventInsertResult, error) {
	out := make([]store.EventInsertResult, len(ps))
	if len(ps) == 0 {
		return out, nil
	}
	b := &pgx.Batch{}
	for _, p := range ps {
		e := p.Event
		n := len(p.Deliveries)
		ids, webhooks, tokens := make([]string, n), make([]string, n), make([]string, n)
		ordered, due := make([]bool, n), make([]time.Time, n)
		for i, d := range p.Deliveries {
			ids[i], webhooks[i], tokens[i], ordered[i], due[i] = d.ID, d.WebhookID, d.LeaseToken, d.Ordered, ts(d.NextAttemptAt)
		}
		b.Queue(insertEventSQL, e.ID, e.Tenant, e.Type, string(e.Data), nullText(e.IdempotencyKey),
			ts(e.Timestamp), ts(e.CreatedAt), ids, webhooks, ordered, due, tokens)
	}
	br := tx.SendBatch(ctx, b)
	var repeats []int
	for i, p := range ps {
		var created bool
		if err := br.QueryRow().Scan(&created); err != nil {
			br.Close()
			return nil, err
		}
		if !created {
			repeats = append(repeats, i)
			continue
		}
		e := p.Event
		ds := make([]hookline.Delivery, 0, len(p.Deliveries))
		for _, d := range p.Deliveries {
			sd.Delivery(d.ID, d.WebhookID, e.Tenant, "", hookline.DeliveryPending)
			next := d.NextAttemptAt
			ds = append(ds, hookline.Delivery{ID: d.ID, EventID: e.ID, WebhookID: d.WebhookID, Tenant: e.Tenant,
				EventType: e.Type, Status: hookline.DeliveryPending, NextAttemptAt: &next,
				CreatedAt: e.CreatedAt, UpdatedAt: e.CreatedAt})
		}
		out[i] = store.EventInsertResult{Event: e, Deliveries: ds, Created: true}
	}
	if err := br.Close(); err != nil {
		return nil, err
	}
	for _, i := range repeats {
		e := ps[i].Event
		existing, err := scanEvent(tx.QueryRow(ctx, "SELECT "+eventColumns+" FROM events WHERE tenant = $1 AND idempotency_key = $2",
			e.Tenant, e.IdempotencyKey))
		if err != nil {
			return nil, fmt.Errorf("event with key %q: %w", e.IdempotencyKey, err)
		}
		rows, err := tx.Query(ctx, "SELECT "+deliveryColumns+" FROM deliveries WHERE event_id = $1 ORDER BY id", existing.ID)
		if err != nil {
			return nil, err
		}
		ds, err := collect(rows, scanDelivery)
		if err != nil {
			return nil, err
		}
		out[i] = store.EventInsertResult{Event: existing, Deliveries: ds}
	}
	return out, nil
}

// EventGet implements store.Store.
func (s *Store) EventGet(ctx context.Context, id string) (*hookline.Event, error) {
	e, err := scanEvent(s.pool.QueryRow(ctx, "SELECT "+eventColumns+" FROM events WHERE id = $1", id))
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
	f := store.Filter{Numbered: true}
	f.AddIf("tenant", p.Tenant)
	f.AddIf("type", p.Type)
	f.Created(hookline.PrefixEvent, p.CreatedAfter, p.CreatedBefore)
	q, args := f.Page("SELECT "+eventColumns+" FROM events", pg)
	return queryPage(ctx, s.pool, "list events", scanEvent, pg, q, args...)
}
