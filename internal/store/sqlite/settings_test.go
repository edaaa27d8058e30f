package sqlite

import (
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	"github.com/hookline/hookline/internal/secrets"
	"github.com/hookline/hookline/internal/store"
)

// TestOpenSettings: whichever driver the build uses (driver_modernc.go, or
// driver_cgo.go with the sqlite_cgo tag), every connection of both pools runs
// in WAL mode with a busy timeout of 10 s, foreign keys on and the synchronous
// setting asked for.
func TestOpenSettings(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		synchronous string
		want        int // PRAGMA synchronous: 1 NORMAL, 2 FULL
	}{{"", 2}, {"FULL", 2}, {"normal", 1}} {
		t.Run("synchronous="+c.synchronous, func(t *testing.T) {
			t.Parallel()
			box, err := secrets.New(newKey(t))
			if err != nil {
				t.Fatal(err)
			}
			s, err := Open(t.Context(), filepath.Join(t.TempDir(), "h.db"), Options{Secrets: box, Synchronous: c.synchronous})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			for name, db := range map[string]*sql.DB{"writer": s.w, "reader": s.r} {
				var journal string
				var busy, fk, sync int
				err := db.QueryRowContext(t.Context(), "SELECT * FROM pragma_journal_mode, pragma_busy_timeout, pragma_foreign_keys, pragma_synchronous").
					Scan(&journal, &busy, &fk, &sync)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if journal != "wal" || busy != 10000 || fk != 1 || sync != c.want {
					t.Errorf("%s: got journal_mode %s, busy_timeout %d, foreign_keys %d, synchronous %d; want wal, 10000, 1, %d",
						name, journal, busy, fk, sync, c.want)
				}
			}
		})
	}
}

// TestImmediateTransactions: a write transaction takes the write lock when it
// begins (BEGIN IMMEDIATE), so another connection that will not wait for it
// is told SQLITE_BUSY at once, which the store reads as ErrUnavailable.
func TestImmediateTransactions(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hookline.db")
	key := newKey(t)
	a, b := open(t, path, key), open(t, path, key)
	tx, err := a.w.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	conn, err := b.w.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(t.Context(), "PRAGMA busy_timeout = 0"); err != nil {
		t.Fatal(err)
	}
	_, err = conn.ExecContext(t.Context(), "BEGIN IMMEDIATE")
	if code, ok := errorCode(err); !ok || code&0xff != codeBusy {
		t.Fatalf("BEGIN IMMEDIATE beside a write transaction: got %v, want SQLITE_BUSY", err)
	}
	if err := interpretError(err); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("SQLITE_BUSY: got %v, want ErrUnavailable", err)
	}
}
