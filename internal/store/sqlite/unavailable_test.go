package sqlite

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

// insertUntilFails publishes events until one fails, and returns its error.
func insertUntilFails(t *testing.T, s *Store) error {
	t.Helper()
	for range 100_000 {
		now := time.Now()
		_, err := s.EventInsert(t.Context(), []store.EventInsertParams{{Event: &hookline.Event{
			ID: hookline.NewID(hookline.PrefixEvent), Tenant: "acme", Type: "order.created",
			Data: json.RawMessage(`{"order":"a fair amount of data, so that pages fill up"}`), Timestamp: now, CreatedAt: now,
		}}})
		if err != nil {
			return err
		}
	}
	t.Fatal("100,000 events went into a database that cannot grow")
	return nil
}

// TestDiskFull: SQLite answers a write the disk has no room for with
// SQLITE_FULL. A max_page_count makes SQLite itself give that answer, as a
// full disk would, without filling a disk: the store reports ErrUnavailable
// (the API answers 503), reads go on, and once room is freed writes succeed.
func TestDiskFull(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	ctx := t.Context()
	if _, err := s.w.ExecContext(ctx, "PRAGMA max_page_count = 1"); err != nil { // 1: no larger than now
		t.Fatal(err)
	}
	err := insertUntilFails(t, s)
	if code, ok := errorCode(err); !ok || code != codeFull {
		t.Fatalf("the write that found no room: got %v, want SQLITE_FULL", err)
	}
	if !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("database or disk is full: got %v, want ErrUnavailable", err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Errorf("Ping on a full disk: got %v, want nil (reading works)", err)
	}
	if _, err := s.DeliveryCountPending(ctx); err != nil {
		t.Errorf("a read on a full disk: got %v, want nil", err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Errorf("Migrate of a current schema on a full disk: got %v, want nil (nothing to write)", err)
	}
	if _, err := s.Purge(ctx, store.PurgeParams{Before: time.Now().Add(time.Hour), Limit: 1000}); err != nil {
		t.Fatalf("freeing room: %v", err)
	}
	if _, err := s.EventInsert(ctx, []store.EventInsertParams{{Event: &hookline.Event{ID: hookline.NewID(hookline.PrefixEvent),
		Tenant: "acme", Type: "order.created", Data: json.RawMessage(`{}`), Timestamp: time.Now(), CreatedAt: time.Now()}}}); err != nil {
		t.Errorf("a write once room is freed: got %v, want nil", err)
	}
}

// TestReadOnly: a database SQLite may not write (query_only here; a read-only
// disk or file does the same) fails writes with ErrUnavailable, while a start
// that has nothing to write (a current schema) succeeds.
func TestReadOnly(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	ctx := t.Context()
	if _, err := s.w.ExecContext(ctx, "PRAGMA query_only = ON"); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Errorf("Migrate of a current schema on a read-only database: got %v, want nil (nothing to write)", err)
	}
	err := insertUntilFails(t, s)
	if code, ok := errorCode(err); !ok || code&0xff != codeReadOnly {
		t.Fatalf("a write: got %v, want SQLITE_READONLY", err)
	}
	if !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("a write on a read-only database: got %v, want ErrUnavailable", err)
	}
	if _, err := s.DeliveryReleaseAll(ctx, time.Now()); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("DeliveryReleaseAll on a read-only database: got %v, want ErrUnavailable", err)
	}
}
