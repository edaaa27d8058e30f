//go:build !sqlite_cgo

package sqlite

// The default driver: modernc.org/sqlite, SQLite translated to Go, so that
// building and testing need no C compiler. driver_cgo.go is its twin for the
// sqlite_cgo build tag; everything else in the package is shared.

import (
	"database/sql"
	"errors"
	"net/url"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// dsnOptions are the DSN's query: WAL, a busy timeout of 10 s, foreign keys,
// the synchronous setting sync (FULL or NORMAL), and BEGIN IMMEDIATE for
// transactions. modernc runs each _pragma, in order, on every new connection.
func dsnOptions(sync string) string {
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous("+sync+")")
	q.Set("_txlock", "immediate")
	return q.Encode()
}

// openDB opens a pool of connections to dsn.
func openDB(dsn string) (*sql.DB, error) {
	return sql.Open("sqlite", dsn)
}

// errorCode returns the result code of a SQLite error, extended
// (SQLITE_CONSTRAINT_UNIQUE, SQLITE_IOERR_WRITE…) where SQLite gives one.
func errorCode(err error) (code int, ok bool) {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return 0, false
	}
	return se.Code(), true
}

// The result codes interpretError looks for.
const (
	codeConstraintUnique     = sqlite3.SQLITE_CONSTRAINT_UNIQUE
	codeConstraintPrimaryKey = sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	codeBusy                 = sqlite3.SQLITE_BUSY
	codeLocked               = sqlite3.SQLITE_LOCKED
	codeIOErr                = sqlite3.SQLITE_IOERR
	codeFull                 = sqlite3.SQLITE_FULL
	codeCantOpen             = sqlite3.SQLITE_CANTOPEN
	codeReadOnly             = sqlite3.SQLITE_READONLY
)
