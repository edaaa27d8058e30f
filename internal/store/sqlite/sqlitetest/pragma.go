package sqlitetest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/hookline/hookline/internal/store/sqlite"
)

// OnConnect runs stmt (a PRAGMA) on every connection opened from now on to the
// database at path, until the test ends: a store opened afterwards gets it on
// its writer and its readers. Tests use it to make SQLite itself refuse
// writes, for instance with "PRAGMA query_only = ON" (SQLITE_READONLY, as on a
// read-only disk) or a max_page_count (SQLITE_FULL, as on a full disk).
func OnConnect(t testing.TB, path, stmt string) {
	t.Helper()
	onConnection(t, path, func(c conn) error { return c.exec(stmt) })
}

// OpenFull returns an empty, migrated store, as Open does, whose database
// cannot grow past its size when opened: SQLite answers a write that needs a
// new page with SQLITE_FULL, "database or disk is full", the error of a full
// disk. Writes that fit in the pages it has succeed, so a test writes until
// one fails. Deleting rows frees room again.
func OpenFull(t testing.TB) *sqlite.Store {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hookline.db")
	opts := options(t)
	s, err := sqlite.Open(ctx, path, opts)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Migrate(ctx)
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	// The page count cannot be set below the database's size: 1 means "as
	// large as it is".
	OnConnect(t, path, "PRAGMA max_page_count = 1")
	if s, err = sqlite.Open(ctx, path, opts); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
