//go:build sqlite_cgo && cgo

package sqlitetest

import (
	"database/sql"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/hookline/hookline/internal/store/sqlite"
)

// registerHook has fn run on every connection the store opens, with its DSN.
func registerHook(fn func(c conn, dsn string) error) {
	sqlite.RegisterConnectionHook(func(c *sqlite3.SQLiteConn, dsn string) error {
		return fn(conn{
			exec: func(stmt string) error {
				_, err := c.Exec(stmt, nil)
				return err
			},
			onCommit: func(f func()) {
				c.RegisterCommitHook(func() int {
					f()
					return 0 // 0 lets the commit go on
				})
			},
		}, dsn)
	})
}

// OpenDB opens a plain database/sql pool on the database file at path, with
// the store's driver and a busy timeout of 10 s: another process's
// connection, for a test that holds the database's lock. The caller closes it.
func OpenDB(path string) (*sql.DB, error) {
	return sql.Open("sqlite3", "file:"+path+"?_busy_timeout=10000")
}
