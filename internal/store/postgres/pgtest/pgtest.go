// Package pgtest gives tests a real PostgreSQL: a fresh database per test, on a
// server named by HOOKLINE_TEST_POSTGRES_URL or else on a throwaway cluster that
// the test binary starts on 127.0.0.1 the first time a test asks for one.
//
// A package whose tests use it calls Main from TestMain, so the cluster stops
// when the tests end:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
// Without Main, or when the test binary is killed, a watchdog process stops the
// cluster and removes its files as soon as the binary is gone.
//
// A test that must lose its database takes a cluster of its own with NewCluster,
// which it can Stop and Start again.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hookline/hookline/internal/secrets"
	"github.com/hookline/hookline/internal/store/postgres"
)

// EnvURL names the variable that points the tests at an existing server instead
// of a throwaway cluster: a postgres:// URL of a role allowed to create
// databases. Each test then gets a database of its own there, dropped after it.
const EnvURL = "HOOKLINE_TEST_POSTGRES_URL"

// server is where the test databases are made.
type server struct {
	admin   *url.URL      // the maintenance database, whose URL the others copy
	pool    *pgxpool.Pool // connections to it, for CREATE and DROP DATABASE
	cluster *cluster      // the throwaway cluster; nil on an external server

	templateOnce sync.Once
	template     string // a migrated database to clone
	templateErr  error
}

var (
	serverOnce sync.Once
	srv        *server
	srvErr     error
	srvMissing string // why there is no PostgreSQL to run (binaries absent)

	shutdownOnce sync.Once
)

// Main runs the tests and then stops the throwaway cluster (if one was started)
// and removes its files, or drops the template database made on an external
// server. SIGINT, SIGTERM and SIGHUP do the same before the binary exits.
func Main(m *testing.M) {
	os.Exit(Run(m))
}

// Run is Main for a TestMain with cleanup of its own to do before it exits: it
// runs the tests, releases what the package started and returns the exit code.
func Run(m *testing.M) int {
	code := m.Run()
	shutdown()
	return code
}

// shutdown releases what the package started; it runs once.
func shutdown() {
	shutdownOnce.Do(func() {
		if srv == nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if srv.cluster == nil && srv.template != "" {
			dropDatabase(ctx, srv.pool, srv.template)
		}
		srv.pool.Close()
		if srv.cluster != nil {
			srv.cluster.stop()
		}
	})
}

// requireCI fails the test when CI=true, else skips it, for the reason why.
func requireCI(t testing.TB, why string) {
	t.Helper()
	if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
		t.Fatalf("pgtest: %s (CI=true: PostgreSQL is required)", why)
	}
	t.Skipf("pgtest: %s; install PostgreSQL or set %s to run this test", why, EnvURL)
}

// getServer starts or connects to the server once per test binary. It skips the
// test when PostgreSQL is not installed, failing it instead when CI=true.
func getServer(t testing.TB) *server {
	t.Helper()
	serverOnce.Do(func() { srv, srvMissing, srvErr = startServer() })
	if srvMissing != "" {
		requireCI(t, srvMissing)
	}
	if srvErr != nil {
		t.Fatalf("pgtest: %v", srvErr)
	}
	return srv
}

func startServer() (*server, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	raw := os.Getenv(EnvURL)
	var c *cluster
	if raw == "" {
		bins, missing := findBinaries()
		if missing != "" {
			return nil, missing, nil
		}
		var err error
		if c, err = startCluster(ctx, bins); err != nil {
			return nil, "", err
		}
		onSignals()
		raw = c.url("postgres")
	}
	admin, err := url.Parse(raw)
	if err != nil || (admin.Scheme != "postgres" && admin.Scheme != "postgresql") {
		if c != nil {
			c.stop()
		}
		return nil, "", fmt.Errorf("%s must be a postgres:// URL", EnvURL)
	}
	cfg, err := pgxpool.ParseConfig(raw)
	if err == nil {
		cfg.MaxConns = 4
		var pool *pgxpool.Pool
		if pool, err = pgxpool.NewWithConfig(ctx, cfg); err == nil {
			if err = pool.Ping(ctx); err == nil {
				return &server{admin: admin, pool: pool, cluster: c}, "", nil
			}
			pool.Close()
		}
	}
	if c != nil {
		c.stop()
	}
	return nil, "", fmt.Errorf("connect to the test server: %w", err)
}

// urlOf returns the URL of database name on the server.
func (s *server) urlOf(name string) string {
	u := *s.admin
	u.Path = "/" + name
	u.RawPath = ""
	return u.String()
}

// create makes a new database, a copy of template when it is not empty, and
// drops it when the test ends.
func (s *server) create(t testing.TB, template string) string {
	t.Helper()
	name := randomName("hookline_test_")
	q := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize()
	if template != "" {
		q += " TEMPLATE " + pgx.Identifier{template}.Sanitize()
	}
	if _, err := s.pool.Exec(context.Background(), q); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := dropDatabase(ctx, s.pool, name); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return s.urlOf(name)
}

func dropDatabase(ctx context.Context, pool *pgxpool.Pool, name string) error {
	_, err := pool.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	return err
}

func randomName(prefix string) string {
	b := make([]byte, 8)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// URL returns the URL of a new, empty database of its own for t, dropped when the
// test ends.
func URL(t testing.TB) string {
	t.Helper()
	return getServer(t).create(t, "")
}

// MigratedURL returns the URL of a new database of its own for t with Hookline's
// schema, dropped when the test ends. It is a copy of a database migrated once
// per test binary, which is much faster than migrating each time.
func MigratedURL(t testing.TB) string {
	t.Helper()
	s := getServer(t)
	s.templateOnce.Do(func() { s.template, s.templateErr = s.makeTemplate() })
	if s.templateErr != nil {
		t.Fatalf("pgtest: migrated template: %v", s.templateErr)
	}
	return s.create(t, s.template)
}

// makeTemplate creates and migrates the database MigratedURL copies. Nobody may
// connect to it afterwards: PostgreSQL copies only databases nobody uses.
func (s *server) makeTemplate() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	name := randomName("hookline_template_")
	if _, err := s.pool.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", err
	}
	st, err := postgres.Open(ctx, s.urlOf(name), postgres.Options{Secrets: newBox(), MaxConns: 1})
	if err != nil {
		return name, err
	}
	err = st.Migrate(ctx)
	st.Close()
	if err != nil {
		return name, err
	}
	_, err = s.pool.Exec(ctx, "ALTER DATABASE "+pgx.Identifier{name}.Sanitize()+" ALLOW_CONNECTIONS false")
	return name, err
}

func newBox() *secrets.Box {
	key := make([]byte, 32)
	rand.Read(key)
	box, err := secrets.New(key)
	if err != nil {
		panic(err)
	}
	return box
}

// Open returns a store on a new migrated database of its own (MigratedURL), with
// a random secret key. It is closed when the test ends, after any cleanup
// registered later has run.
func Open(t testing.TB) *postgres.Store {
	t.Helper()
	return OpenURL(t, MigratedURL(t), newBox())
}

// OpenWith is Open with opts, such as a Tracer; a random secret key is used
// when opts.Secrets is nil.
func OpenWith(t testing.TB, opts postgres.Options) *postgres.Store {
	t.Helper()
	if opts.Secrets == nil {
		opts.Secrets = newBox()
	}
	return openURL(t, MigratedURL(t), opts)
}

// OpenURL opens a store on the database at url with box, closed when the test
// ends; several stores on one URL act as several Hookline nodes.
func OpenURL(t testing.TB, url string, box *secrets.Box) *postgres.Store {
	t.Helper()
	return openURL(t, url, postgres.Options{Secrets: box})
}

func openURL(t testing.TB, url string, opts postgres.Options) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), url, opts)
	if err != nil {
		t.Fatalf("pgtest: open store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Cluster is a throwaway PostgreSQL server of one test's own, which the test can
// stop and start again, to see what losing the database does. Its data survives
// a Stop; Start brings it back on the same port, so URLs stay valid. It is
// removed when the test ends (or, should the test binary die, by its watchdog).
type Cluster struct {
	bins binaries
	mu   sync.Mutex
	c    *cluster
}

// NewCluster starts a private cluster for t. It needs the PostgreSQL server
// programs even when EnvURL names a server (a test cannot stop that one): without
// them the test is skipped, or failed when CI=true and EnvURL is unset.
func NewCluster(t testing.TB) *Cluster {
	t.Helper()
	bins, missing := findBinaries()
	if missing != "" {
		if os.Getenv(EnvURL) != "" {
			t.Skipf("pgtest: this test stops and starts a server of its own, and %s", missing)
		}
		requireCI(t, missing)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := startCluster(ctx, bins)
	if err != nil {
		t.Fatalf("pgtest: start a private cluster: %v", err)
	}
	t.Cleanup(c.stop)
	return &Cluster{bins: bins, c: c}
}

// URL returns the URL of database name on the cluster ("postgres" always exists).
func (c *Cluster) URL(name string) string { return c.c.url(name) }

// CreateDatabase creates an empty database and returns its URL.
func (c *Cluster) CreateDatabase(name string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.c.url("postgres"))
	if err != nil {
		return "", err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", err
	}
	return c.c.url(name), nil
}

// Stop shuts the server down as an operator's restart does (fast mode: open
// sessions are ended), keeps its data and returns once the process is gone.
func (c *Cluster) Stop() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return c.c.stopPostgres(ctx, c.bins, "fast")
}

// Crash stops the server as pg_ctl's immediate mode does, the mode of
// "pg_ctl restart -m immediate": every process quits at once, sessions are cut
// without a goodbye, transactions in flight are lost, and the next Start
// recovers from the WAL. It keeps the data and returns once the process is gone.
func (c *Cluster) Crash() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return c.c.stopPostgres(ctx, c.bins, "immediate")
}

// Start starts the stopped server again on its port and returns once it accepts
// connections.
func (c *Cluster) Start() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return c.c.restartPostgres(ctx, c.bins)
}
