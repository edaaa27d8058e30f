package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

const eventTypeColumns = `name, description, example, schema, created_at, updated_at`

func scanEventType(row scanner) (*hookline.EventType, error) {
	var (
		t                hookline.EventType
		example, schema  sql.NullString
		created, updated int64
	)
	if err := row.Scan(&t.Name, &t.Description, &example, &schema, &created, &updated); err != nil {
		return nil, err
	}
	if example.Valid {
		t.Example = []byte(example.String)
	}
	if schema.Valid {
		t.Schema = []byte(schema.String)
	}
	t.CreatedAt, t.UpdatedAt = fromMS(created), fromMS(updated)
	return &t, nil
}

func nullJSON(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}

// EventTypeCreate implements store.Store.
func (s *Store) EventTypeCreate(ctx context.Context, t *hookline.EventType) error {
	return s.exec(ctx, "create event type", "INSERT INTO event_types ("+eventTypeColumns+") VALUES (?, ?, ?, ?, ?, ?)",
		t.Name, t.Description, nullJSON(t.Example), nullJSON(t.Schema), ms(t.CreatedAt), ms(t.UpdatedAt))
}

// EventTypeGet implements store.Store.
func (s *Store) EventTypeGet(ctx context.Context, name string) (*hookline.EventType, error) {
	t, err := scanEventType(s.r.QueryRowContext(ctx, "SELECT "+eventTypeColumns+" FROM event_types WHERE name = ?", name))
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
	var f store.Filter
	q, args := f.Page("SELECT "+eventTypeColumns+" FROM event_types", pg)
	return queryPage(ctx, s.r, "list event types", scanEventType, pg, q, args...)
}

// EventTypeUpdate implements store.Store.
func (s *Store) EventTypeUpdate(ctx context.Context, t *hookline.EventType) error {
	return s.execOne(ctx, "update event type", "UPDATE event_types SET description = ?, example = ?, schema = ?, updated_at = ? WHERE name = ?",
		t.Description, nullJSON(t.Example), nullJSON(t.Schema), ms(t.UpdatedAt), t.Name)
}

// EventTypeDelete implements store.Store.
func (s *Store) EventTypeDelete(ctx context.Context, name string) error {
	return s.execOne(ctx, "delete event type", "DELETE FROM event_types WHERE name = ?", name)
}
