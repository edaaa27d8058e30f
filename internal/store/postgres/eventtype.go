package postgres

import (
	"context"
	"fmt"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

const eventTypeColumns = `name, description, example, schema, created_at, updated_at`

func scanEventType(row scanner) (*hookline.EventType, error) {
	var (
		t               hookline.EventType
		example, schema *string
	)
	if err := row.Scan(&t.Name, &t.Description, &example, &schema, &t.CreatedAt, &t.UpdatedAt); err != nil {
		return nil, err
	}
	if example != nil {
		t.Example = []byte(*example)
	}
	if schema != nil {
		t.Schema = []byte(*schema)
	}
	t.CreatedAt, t.UpdatedAt = t.CreatedAt.UTC(), t.UpdatedAt.UTC()
	return &t, nil
}

// nullJSON is JSON as text, byte for byte, or NULL when there is none.
func nullJSON(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}

// EventTypeCreate implements store.Store.
func (s *Store) EventTypeCreate(ctx context.Context, t *hookline.EventType) error {
	return s.exec(ctx, "create event type", "INSERT INTO event_types ("+eventTypeColumns+") VALUES ($1, $2, $3, $4, $5, $6)",
		t.Name, t.Description, nullJSON(t.Example), nullJSON(t.Schema), ts(t.CreatedAt), ts(t.UpdatedAt))
}

// EventTypeGet implements store.Store.
func (s *Store) EventTypeGet(ctx context.Context, name string) (*hookline.EventType, error) {
	t, err := scanEventType(s.pool.QueryRow(ctx, "SELECT "+eventTypeColumns+" FROM event_types WHERE name = $1", name))
	if err != nil {
		return nil, fmt.Errorf("store: get event type: %w", interpretError(err))
	}
	return t, nil
}

// EventTypeList implements store.Store.
func (s *Store) EventTypeList(ctx context.Context, p store.ListParams) ([]hookline.EventType, error) {
	pg, err := p.Page("name", false)
	if err != nil {
		return nil, fmt.Errorf("store: list event types: %w", err)
	}
	f := store.Filter{Numbered: true}
	q, args := f.Page("SELECT "+eventTypeColumns+" FROM event_types", pg)
	return queryPage(ctx, s.pool, "list event types", scanEventType, pg, q, args...)
}

// EventTypeUpdate implements store.Store.
func (s *Store) EventTypeUpdate(ctx context.Context, t *hookline.EventType) error {
	return s.execOne(ctx, "update event type", "UPDATE event_types SET description = $1, example = $2, schema = $3, updated_at = $4 WHERE name = $5",
		t.Description, nullJSON(t.Example), nullJSON(t.Schema), ts(t.UpdatedAt), t.Name)
}

// EventTypeDelete implements store.Store.
func (s *Store) EventTypeDelete(ctx context.Context, name string) error {
	return s.execOne(ctx, "delete event type", "DELETE FROM event_types WHERE name = $1", name)
}
