//go:build !sqlite_cgo

package sqlitetest

import (
	"context"
	"database/sql"

	moderncsqlite "modernc.org/sqlite"
)

// registerHook has fn run on every connection the store opens, with its DSN.
func registerHook(fn func(c conn, dsn string) error) {
	moderncsqlite.RegisterConnectionHook(func(c moderncsqlite.ExecQuerierContext, dsn string) error {
		return fn(conn{
			exec: func(stmt string) error {
				_, err := c.ExecContext(context.Background(), stmt, nil)
				return err
			},
			onCommit: func(f func()) {
				c.(commitHooker).RegisterCommitHook(func() int32 {
					f()
					return 0 // 0 lets the commit go on
				})
			},
		}, dsn)
	})
}

// commitHooker is what modernc's connections offer for a commit hook.
type commitHooker interface {
	RegisterCommitHook(moderncsqlite.CommitHookFn)
}

// OpenDB opens a plain database/sql pool on the database file at path, with
// the store's driver and a busy timeout of 10 s: another process's
// connection, for a test that holds the database's lock. The caller closes it.
func OpenDB(path string) (*sql.DB, error) {
	return sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
}
