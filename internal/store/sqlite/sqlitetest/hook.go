package sqlitetest

import (
	"net/url"
	"strings"
	"sync"
	"testing"
)

// conn is a connection the store has just opened, as a hook sees it whatever
// the driver (hook_modernc.go, hook_cgo.go).
type conn struct {
	exec     func(stmt string) error // runs stmt on the connection
	onCommit func(fn func())         // has fn called on each of its commits
}

var (
	hookOnce sync.Once
	hookMu   sync.Mutex
	hooks    = map[string][]func(conn) error{} // database path → what to do on each new connection
)

// onConnection has fn run on every connection opened from now on to the
// database at path, until the test ends.
func onConnection(t testing.TB, path string, fn func(conn) error) {
	t.Helper()
	hookOnce.Do(func() { registerHook(runHooks) })
	hookMu.Lock()
	hooks[path] = append(hooks[path], fn)
	hookMu.Unlock()
	t.Cleanup(func() {
		hookMu.Lock()
		delete(hooks, path)
		hookMu.Unlock()
	})
}

// runHooks runs the hooks of the database that dsn, "file:PATH?options" as
// the store opens it, names.
func runHooks(c conn, dsn string) error {
	p, _, _ := strings.Cut(strings.TrimPrefix(dsn, "file:"), "?")
	if u, err := url.PathUnescape(p); err == nil { // the store escapes '%', '?' and '#'
		p = u
	}
	hookMu.Lock()
	fns := hooks[p]
	hookMu.Unlock()
	for _, fn := range fns {
		if err := fn(c); err != nil {
			return err
		}
	}
	return nil
}

// OnCommit has fn called on each commit, of a write transaction, implicit ones
// included, on every connection opened from now on to the database at path,
// until the test ends. fn must not use the database.
func OnCommit(t testing.TB, path string, fn func()) {
	t.Helper()
	onConnection(t, path, func(c conn) error {
		c.onCommit(fn)
		return nil
	})
}
