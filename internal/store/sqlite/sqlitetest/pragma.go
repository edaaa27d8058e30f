package sqlitetest

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	moderncsqlite "modernc.org/sqlite"

	"github.com/hookline/hookline/internal/store/sqlite"
)

var (
	hookOnce sync.Once
	hookMu   sync.Mutex
	pragmas  = map[string]string{} // database path → statement run on each new connection
)

// OnConnect runs stmt (a PRAGMA) on every connection opened from now on to the
// database at path, until the test ends: a store opened afterwards gets it on
// its writer and its readers. Tests use it to make SQLite itself refuse
// writes, for instance with "PRAGMA query_only = ON" (SQLITE_READONLY, as on a
// read-only disk) or a max_page_count (SQLITE_FULL, as on a full disk).
func OnConnect(t testing.TB, path, stmt string) {
	t.Helper()
	hookOnce.Do(func() {
		moderncsqlite.RegisterConnectionHook(func(conn moderncsqlite.ExecQuerierContext, dsn string) error {
			// The store opens "file:PATH?options"; test paths need no escaping.
			p, _, _ := strings.Cut(strings.TrimPrefix(dsn, "file:"), "?")
			hookMu.Lock()
			stmt, ok := pragmas[p]
			hookMu.Unlock()
			if !ok {
				return nil
			}
			_, err := conn.ExecContext(context.Background(), stmt, nil)
			return err
		})
	})
	hookMu.Lock()
	pragmas[path] = stmt
	hookMu.Unlock()
	t.Cleanup(func() {
		hookMu.Lock()
		delete(pragmas, path)
		hookMu.Unlock()
	})
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
