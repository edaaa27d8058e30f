package api_test

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookline/hookline/internal/secrets"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/store/postgres/pgtest"
	"github.com/hookline/hookline/internal/store/sqlite/sqlitetest"
)

// outage is storage that a test can take away and give back.
type outage struct {
	open  func(testing.TB) store.Store
	begin func(t *testing.T, fx *fixture) // returns once publishing is refused
	end   func(t *testing.T, fx *fixture)
}

// outages are, per driver, a real way for storage to go: on SQLite a full
// database (SQLite itself answers SQLITE_FULL, see sqlitetest.OpenFull) that
// deleting old events makes room in again; on PostgreSQL a server stopped and
// started again.
func outages() map[string]outage {
	var pg *pgtest.Cluster // the stopped one; each test has its own
	return map[string]outage{
		"sqlite": {
			open: func(t testing.TB) store.Store { return sqlitetest.OpenFull(t) },
			begin: func(t *testing.T, fx *fixture) {
				for range 100_000 {
					r := fx.do(t, http.MethodPost, "/v1/events", fx.admin, map[string]any{"type": "order.created", "data": map[string]any{"pad": strings.Repeat("x", 200)}})
					if r.status == http.StatusServiceUnavailable {
						return
					}
					r.must(t, http.StatusAccepted)
				}
				t.Fatal("the database never filled up")
			},
			end: func(t *testing.T, fx *fixture) {
				if _, err := fx.store.Purge(t.Context(), store.PurgeParams{Before: time.Now().Add(time.Hour), Limit: 100_000}); err != nil {
					t.Fatalf("making room: %v", err)
				}
			},
		},
		"postgres": {
			open: func(t testing.TB) store.Store {
				pg = pgtest.NewCluster(t)
				url, err := pg.CreateDatabase("hookline")
				if err != nil {
					t.Fatal(err)
				}
				s := pgtest.OpenURL(t, url, newBox(t))
				if err := s.Migrate(context.Background()); err != nil {
					t.Fatal(err)
				}
				return s
			},
			begin: func(t *testing.T, fx *fixture) {
				if err := pg.Stop(); err != nil {
					t.Fatal(err)
				}
			},
			end: func(t *testing.T, fx *fixture) {
				if err := pg.Start(); err != nil {
					t.Fatal(err)
				}
			},
		},
	}
}

func newBox(t testing.TB) *secrets.Box {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	box, err := secrets.New(key)
	if err != nil {
		t.Fatal(err)
	}
	return box
}

// TestPublishDuringStorageOutage: while storage is gone (a full disk, a
// stopped database), every publish is answered 503 with Retry-After, and the
// log gets one line for them all, not one per request; once storage is back,
// publishing works and the log says so.
func TestPublishDuringStorageOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("fills a database and stops a PostgreSQL cluster; skipped with -short")
	}
	t.Parallel()
	for name, o := range outages() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fx := setupOn(t, o.open)
			fx.do(t, http.MethodPost, "/v1/events", fx.admin, map[string]any{"type": "order.created", "data": map[string]any{}}).must(t, http.StatusAccepted)
			o.begin(t, fx)
			const n = 200
			for i := range n {
				r := fx.do(t, http.MethodPost, "/v1/events", fx.admin, map[string]any{"type": "order.created", "data": map[string]any{"n": i}})
				r.problem(t, http.StatusServiceUnavailable, "")
				if r.header.Get("Retry-After") == "" {
					t.Fatalf("publish %d during the outage: no Retry-After", i)
				}
			}
			logs := fx.logs.String()
			if got := strings.Count(logs, "storage unavailable; answering 503"); got != 1 {
				t.Errorf("%d publishes refused: got %d log lines about it, want 1", n, got)
			}
			if got := strings.Count(logs, "level=ERROR"); got > 3 {
				t.Errorf("%d publishes refused: got %d lines at ERROR, want at most 3 (one per kind of failure):\n%s", n, got, logs)
			}

			o.end(t, fx)
			deadline := time.Now().Add(10 * time.Second)
			for {
				r := fx.do(t, http.MethodPost, "/v1/events", fx.admin, map[string]any{"type": "order.created", "data": map[string]any{}})
				if r.status == http.StatusAccepted {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("publishing after the outage: got %d, want 202; body: %s", r.status, r.raw)
				}
				time.Sleep(50 * time.Millisecond)
			}
			if !strings.Contains(fx.logs.String(), "storage is available again") {
				t.Errorf("the log does not say that storage is back:\n%s", fx.logs)
			}
		})
	}
}

// writeBlocker opens a store of one driver together with a way to hold its
// writes back from another connection, as another process's long transaction
// does.
type writeBlocker struct {
	open  func(testing.TB) store.Store
	block func(t *testing.T) (release func())
}

func writeBlockers() map[string]*writeBlocker {
	var path, url string
	return map[string]*writeBlocker{
		"sqlite": {
			open: func(t testing.TB) store.Store {
				path = filepath.Join(t.TempDir(), "hookline.db")
				return sqlitetest.OpenAt(t, path)
			},
			block: func(t *testing.T) func() {
				// The server's own writes hold the lock for moments (a claim,
				// say): wait for them rather than fail to block.
				db, err := sqlitetest.OpenDB(path)
				if err != nil {
					t.Fatal(err)
				}
				conn, err := db.Conn(t.Context())
				if err == nil {
					_, err = conn.ExecContext(t.Context(), "BEGIN IMMEDIATE")
				}
				if err != nil {
					t.Fatal(err)
				}
				return func() {
					conn.ExecContext(context.Background(), "ROLLBACK")
					conn.Close()
					db.Close()
				}
			},
		},
		"postgres": {
			open: func(t testing.TB) store.Store {
				url = pgtest.MigratedURL(t)
				return pgtest.OpenURL(t, url, newBox(t))
			},
			block: func(t *testing.T) func() {
				conn, err := pgx.Connect(t.Context(), url)
				if err != nil {
					t.Fatal(err)
				}
				tx, err := conn.Begin(t.Context())
				if err == nil {
					_, err = tx.Exec(t.Context(), "LOCK TABLE events IN EXCLUSIVE MODE")
				}
				if err != nil {
					t.Fatal(err)
				}
				return func() {
					tx.Rollback(context.Background())
					conn.Close(context.Background())
				}
			},
		},
	}
}

// TestClientGoneIsNotAnError: a publisher that gives up while its publish waits
// for storage is no error of the server: nothing is logged at ERROR.
func TestClientGoneIsNotAnError(t *testing.T) {
	t.Parallel()
	for name, b := range writeBlockers() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fx := setupOn(t, b.open)
			release := b.block(t)
			ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, fx.url+"/v1/events",
				strings.NewReader(`{"type":"order.created","data":{}}`))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+fx.admin)
			req.Header.Set("Content-Type", "application/json")
			if res, err := fx.client.Do(req); !errors.Is(err, context.DeadlineExceeded) {
				if err == nil {
					res.Body.Close()
				}
				t.Fatalf("a publish held back by a lock: got %v, want the client to give up", err)
			}
			time.Sleep(200 * time.Millisecond)
			release()
			deadline := time.Now().Add(10 * time.Second)
			for !strings.Contains(fx.logs.String(), "client went away") {
				if time.Now().After(deadline) {
					t.Fatalf("the server never finished the abandoned request:\n%s", fx.logs)
				}
				time.Sleep(10 * time.Millisecond)
			}
			fx.noErrorsLogged(t)
		})
	}
}
