//go:build sqlite_cgo && cgo

package sqlite

import (
	"testing"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// TestUnavailableCode: the driver reports extended result codes; a full, failing
// or read-only disk is unavailable storage whichever variant it comes as. The
// twin, on mattn's codes, of unavailable_modernc_test.go's.
func TestUnavailableCode(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name        string
		code        int
		unavailable bool
	}{
		{"disk full", int(sqlite3.ErrFull), true},
		{"I/O error", int(sqlite3.ErrIoErr), true},
		{"write failed", int(sqlite3.ErrIoErrWrite), true},
		{"fsync failed", int(sqlite3.ErrIoErrFsync), true},
		{"read failed", int(sqlite3.ErrIoErrRead), true},
		{"shared memory", int(sqlite3.ErrIoErrSHMMap), true},
		{"read-only", int(sqlite3.ErrReadonly), true},
		{"read-only directory", int(sqlite3.ErrReadonly.Extend(6)), true}, // SQLITE_READONLY_DIRECTORY, which mattn does not name
		{"file moved", int(sqlite3.ErrReadonlyDbMoved), true},
		{"cannot open", int(sqlite3.ErrCantOpen), true},
		{"busy", int(sqlite3.ErrBusy), true},
		{"busy snapshot", int(sqlite3.ErrBusySnapshot), true},
		{"locked", int(sqlite3.ErrLocked), true},
		{"unique", int(sqlite3.ErrConstraintUnique), false},
		{"foreign key", int(sqlite3.ErrConstraintForeignKey), false},
		{"generic error", int(sqlite3.ErrError), false},
		{"corrupt", int(sqlite3.ErrCorrupt), false},
		{"too big", int(sqlite3.ErrTooBig), false},
	}
	for _, c := range cases {
		if got := unavailableCode(c.code); got != c.unavailable {
			t.Errorf("%s (%d): got unavailable %v, want %v", c.name, c.code, got, c.unavailable)
		}
	}
}
