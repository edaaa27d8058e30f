//go:build !sqlite_cgo

package sqlite

import (
	"testing"

	sqlite3 "modernc.org/sqlite/lib"
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
