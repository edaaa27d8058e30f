package sqlite

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

// TestUnavailableCode: the driver reports extended result codes; a full, failing
// or read-only disk is unavailable storage whichever variant it comes as.
func TestUnavailableCode(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name        string
		code        int
		unavailable bool
	}{
		{"disk full", sqlite3.SQLITE_FULL, true},
		{"I/O error", sqlite3.SQLITE_IOERR, true},
		{"write failed", sqlite3.SQLITE_IOERR_WRITE, true},
		{"fsync failed", sqlite3.SQLITE_IOERR_FSYNC, true},
		{"read failed", sqlite3.SQLITE_IOERR_READ, true},
		{"shared memory", sqlite3.SQLITE_IOERR_SHMMAP, true},
		{"read-only", sqlite3.SQLITE_READONLY, true},
		{"read-only directory", sqlite3.SQLITE_READONLY_DIRECTORY, true},
		{"file moved", sqlite3.SQLITE_READONLY_DBMOVED, true},
		{"cannot open", sqlite3.SQLITE_CANTOPEN, true},
		{"busy", sqlite3.SQLITE_BUSY, true},
		{"busy snapshot", sqlite3.SQLITE_BUSY_SNAPSHOT, true},
		{"locked", sqlite3.SQLITE_LOCKED, true},
		{"unique", sqlite3.SQLITE_CONSTRAINT_UNIQUE, false},
		{"foreign key", sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY, false},
		{"generic error", sqlite3.SQLITE_ERROR, false},
		{"corrupt", sqlite3.SQLITE_CORRUPT, false},
		{"too big", sqlite3.SQLITE_TOOBIG, false},
	}
	for _, c := range cases {
		if got := unavailableCode(c.code); got != c.unavailable {
			t.Errorf("%s (%d): got unavailable %v, want %v", c.name, c.code, got, c.unavailable)
		}
	}
}

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
	var se *sqlite.Error
	if !errors.As(err, &se) || se.Code() != sqlite3.SQLITE_FULL {
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
	var se *sqlite.Error
	if !errors.As(err, &se) || se.Code()&0xff != sqlite3.SQLITE_READONLY {
		t.Fatalf("a write: got %v, want SQLITE_READONLY", err)
	}
	if !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("a write on a read-only database: got %v, want ErrUnavailable", err)
	}
	if _, err := s.DeliveryReleaseAll(ctx, time.Now()); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("DeliveryReleaseAll on a read-only database: got %v, want ErrUnavailable", err)
	}
}
