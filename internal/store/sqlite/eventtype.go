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
	err := s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO event_types ("+eventTypeColumns+") VALUES (?, ?, ?, ?, ?, ?)",
			t.Name, t.Description, nullJSON(t.Example), nullJSON(t.Schema), ms(t.CreatedAt), ms(t.UpdatedAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: create event type: %w", err)
	}
	return nil
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
	rows, err := s.r.QueryContext(ctx, "SELECT "+eventTypeColumns+" FROM event_types WHERE name > ? ORDER BY name LIMIT ?",
		p.Cursor, limit(p.Limit))
	if err != nil {
		return nil, fmt.Errorf("store: list event types: %w", interpretError(err))
	}
	defer rows.Close()
	out := []hookline.EventType{}
	for rows.Next() {
		t, err := scanEventType(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list event types: %w", err)
		}
		out = append(out, *t)
	}
	return out, interpretError(rows.Err())
}

// EventTypeUpdate implements store.Store.
func (s *Store) EventTypeUpdate(ctx context.Context, t *hookline.EventType) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE event_types SET description = ?, example = ?, schema = ?, updated_at = ? WHERE name = ?",
			t.Description, nullJSON(t.Example), nullJSON(t.Schema), ms(t.UpdatedAt), t.Name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: update event type: %w", err)
	}
	return nil
}

// EventTypeDelete implements store.Store.
func (s *Store) EventTypeDelete(ctx context.Context, name string) error {
	return s.deleteOne(ctx, "event type", "DELETE FROM event_types WHERE name = ?", name)
}
