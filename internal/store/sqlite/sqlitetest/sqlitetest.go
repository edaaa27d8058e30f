// Package sqlitetest gives tests of other packages a real, migrated SQLite store
// in a temporary directory.
package sqlitetest

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"testing"

	"github.com/hookline/hookline/internal/secrets"
	"github.com/hookline/hookline/internal/store/sqlite"
)

// Open returns an empty, migrated store in t.TempDir() with a random secret key
// and synchronous=NORMAL (a test does not need power-loss durability). It is
// closed when the test ends, after any cleanup registered later has run.
func Open(t testing.TB) *sqlite.Store {
	t.Helper()
	return OpenAt(t, filepath.Join(t.TempDir(), "hookline.db"))
}

// OpenAt is Open with the database at path, for tests that reach the file
// itself (another connection that holds its lock, a hook on its connections).
func OpenAt(t testing.TB, path string) *sqlite.Store {
	t.Helper()
	return OpenWith(t, path, nil)
}

// OpenWith is OpenAt with the options changed by configure first (when not
// nil): a test of durability sets Synchronous back to FULL, for instance.
func OpenWith(t testing.TB, path string, configure func(*sqlite.Options)) *sqlite.Store {
	t.Helper()
	ctx := context.Background()
	opts := options(t)
	if configure != nil {
		configure(&opts)
	}
	s, err := sqlite.Open(ctx, path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

// options are the store options of a test: a random secret key, and
// synchronous=NORMAL.
func options(t testing.TB) sqlite.Options {
	t.Helper()
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	box, err := secrets.New(key)
	if err != nil {
		t.Fatal(err)
	}
	return sqlite.Options{Secrets: box, Synchronous: "NORMAL"}
}
