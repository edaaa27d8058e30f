//go:build sqlite_cgo && cgo

package sqlite

// The sqlite_cgo build tag's driver: github.com/mattn/go-sqlite3, SQLite's C
// library through cgo (a C compiler is needed to build). It is the twin of
// driver_modernc.go, the default, with the same settings and the same
// reading of errors; everything else in the package is shared.

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"net/url"
	"sync"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// dsnOptions are the DSN's query: WAL, a busy timeout of 10 s, foreign keys,
// the synchronous setting sync (FULL or NORMAL), and BEGIN IMMEDIATE for
// transactions. mattn runs the PRAGMAs on every new connection, busy_timeout
// first and synchronous after journal_mode (which, alone, would set NORMAL).
// It hands a "file:" DSN to SQLite whole, as a URI whose query SQLite ignores
// (SQLite knows no parameter starting with "_"), and reads the options from
// the query after the first "?": the path's own "?" must be escaped (Open
// does), as for modernc.
func dsnOptions(sync string) string {
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_busy_timeout", "10000")
	q.Set("_foreign_keys", "1")
	q.Set("_synchronous", sync)
	q.Set("_txlock", "immediate")
	return q.Encode()
}

// openDB opens a pool of connections to dsn. Each connection runs the hooks
// of RegisterConnectionHook once opened.
func openDB(dsn string) (*sql.DB, error) {
	d := &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		hooksMu.Lock()
		hs := hooks
		hooksMu.Unlock()
		for _, h := range hs {
			if err := h(c, dsn); err != nil {
				return err
			}
		}
		return nil
	}}
	return sql.OpenDB(connector{d: d, dsn: dsn}), nil
}

// connector opens connections to dsn, as sql.Open does with a driver that
// sql.Register knows.
type connector struct {
	d   *sqlite3.SQLiteDriver
	dsn string
}

func (c connector) Connect(context.Context) (driver.Conn, error) { return c.d.Open(c.dsn) }
func (c connector) Driver() driver.Driver                        { return c.d }

var (
	hooksMu sync.Mutex
	hooks   []func(conn *sqlite3.SQLiteConn, dsn string) error
)

// RegisterConnectionHook adds fn to the functions run on every connection
// the store opens from now on (its DSN is "file:PATH?options"), as
// modernc.org/sqlite's function of that name does in the default build. For
// tests (sqlitetest): an error fails the opening of the connection.
func RegisterConnectionHook(fn func(conn *sqlite3.SQLiteConn, dsn string) error) {
	hooksMu.Lock()
	defer hooksMu.Unlock()
	hooks = append(hooks[:len(hooks):len(hooks)], fn)
}

// errorCode returns the result code of a SQLite error, extended
// (SQLITE_CONSTRAINT_UNIQUE, SQLITE_IOERR_WRITE…) where SQLite gives one.
// mattn's Error carries both codes; an error made without the extended one
// (a backup step's) has only the primary.
func errorCode(err error) (code int, ok bool) {
	var se sqlite3.Error
	if !errors.As(err, &se) {
		return 0, false
	}
	if se.ExtendedCode != 0 {
		return int(se.ExtendedCode), true
	}
	return int(se.Code), true
}

// The result codes interpretError looks for (mattn declares them as
// variables).
var (
	codeConstraintUnique     = int(sqlite3.ErrConstraintUnique)
	codeConstraintPrimaryKey = int(sqlite3.ErrConstraintPrimaryKey)
	codeBusy                 = int(sqlite3.ErrBusy)
	codeLocked               = int(sqlite3.ErrLocked)
	codeIOErr                = int(sqlite3.ErrIoErr)
	codeFull                 = int(sqlite3.ErrFull)
	codeCantOpen             = int(sqlite3.ErrCantOpen)
	codeReadOnly             = int(sqlite3.ErrReadonly)
)
