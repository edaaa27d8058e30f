package postgres_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/puddle/v2"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/secrets"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/store/postgres"
	"github.com/hookline/hookline/internal/store/postgres/pgtest"
	"github.com/hookline/hookline/internal/store/storetest"
)

func TestMain(m *testing.M) {
	// Listen checks its connection every 30s in production; here often enough
	// for the tests to go through that path.
	postgres.SetListenCheck(300 * time.Millisecond)
	pgtest.Main(m)
}

func TestStore(t *testing.T) {
	t.Parallel()
	storetest.Exercise(t, func(t *testing.T) store.Store {
		return pgtest.Open(t)
	})
}

// newBox returns a secrets box with a random key.
func newBox(t testing.TB) *secrets.Box {
	t.Helper()
	k := make([]byte, 32)
	rand.Read(k)
	box, err := secrets.New(k)
	if err != nil {
		t.Fatal(err)
	}
	return box
}

// connect opens a plain connection to url, for looking under the store.
func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func newWebhook(tenant, secret string) *hookline.Webhook {
	now := time.Now().UTC().Truncate(time.Millisecond)
	return &hookline.Webhook{
		ID: hookline.NewID(hookline.PrefixWebhook), Tenant: tenant, URL: "https://receiver.example/hooks",
		Events: []string{"*"}, Secret: secret, Active: true, Profile: "standard",
		Headers: map[string]string{}, Metadata: map[string]string{}, CreatedAt: now, UpdatedAt: now,
	}
}

func TestParseDSN(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, db string
		ok       bool
	}{
		{"postgres URL", "postgres://user:pw@db:5432/hookline?sslmode=require", true},
		{"postgresql URL", "postgresql://db/hookline", true},
		{"upper-case scheme", "POSTGRES://db/hookline", true},
		{"sqlite path", "hookline.db", false},
		{"sqlite URL", "sqlite:///var/lib/hookline.db", false},
		{"key=value DSN", "host=db dbname=hookline", false},
		{"other scheme", "mysql://db/hookline", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			url, ok := postgres.ParseDSN(c.db)
			if ok != c.ok || (ok && url != c.db) || (!ok && url != "") {
				t.Errorf("ParseDSN(%q): got %q, %v; want ok %v", c.db, url, ok, c.ok)
			}
		})
	}
}

func TestOpenRejectsBadOptions(t *testing.T) {
	t.Parallel()
	box := newBox(t)
	cases := []struct {
		name string
		url  string
		opts postgres.Options
	}{
		{"no secrets box", "postgres://127.0.0.1:1/x", postgres.Options{}},
		{"not a postgres URL", "hookline.db", postgres.Options{Secrets: box}},
		{"bad URL", "postgres://[::1/x", postgres.Options{Secrets: box}},
		{"negative MaxConns", "postgres://127.0.0.1:1/x", postgres.Options{Secrets: box, MaxConns: -1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, err := postgres.Open(t.Context(), c.url, c.opts)
			if err == nil {
				s.Close()
				t.Fatal("Open: got nil error, want one")
			}
			if errors.Is(err, store.ErrUnavailable) {
				t.Errorf("Open: got %v; a configuration error is not ErrUnavailable", err)
			}
		})
	}
}

// TestMaxConns: MaxConns counts the Listen connection, so the pool gets one less.
func TestMaxConns(t *testing.T) {
	t.Parallel()
	url := pgtest.MigratedURL(t)
	for _, c := range []struct{ max, pool int32 }{{16, 15}, {2, 1}, {1, 1}} {
		s, err := postgres.Open(t.Context(), url, postgres.Options{Secrets: newBox(t), MaxConns: c.max})
		if err != nil {
			t.Fatal(err)
		}
		if got := postgres.PoolMaxConns(s); got != c.pool {
			t.Errorf("MaxConns %d: got a pool of %d, want %d", c.max, got, c.pool)
		}
		s.Close()
	}
}

func TestSingleNode(t *testing.T) {
	t.Parallel()
	if pgtest.Open(t).SingleNode() {
		t.Error("SingleNode: got true, want false: nodes share a PostgreSQL database")
	}
}

// TestUnavailable: a server that cannot be reached, has gone away or cut the
// connection is ErrUnavailable, whatever the call.
func TestUnavailable(t *testing.T) {
	t.Parallel()
	t.Run("closed port", func(t *testing.T) {
		t.Parallel()
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close() // nothing listens there now
		url := "postgres://postgres@127.0.0.1:" + strconv.Itoa(port) + "/hookline?sslmode=disable&connect_timeout=5"
		s, err := postgres.Open(t.Context(), url, postgres.Options{Secrets: newBox(t)})
		if err == nil {
			s.Close()
			t.Fatal("Open of a closed port: got nil error")
		}
		if !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("Open of a closed port: got %v, want ErrUnavailable", err)
		}
	})
	t.Run("closed store", func(t *testing.T) {
		t.Parallel()
		s := pgtest.Open(t)
		s.Close()
		if err := s.Ping(t.Context()); !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("Ping after Close: got %v, want ErrUnavailable", err)
		}
		_, err := s.WebhookGet(t.Context(), hookline.NewID(hookline.PrefixWebhook))
		if !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("WebhookGet after Close: got %v, want ErrUnavailable", err)
		}
	})
	t.Run("connections terminated", func(t *testing.T) {
		t.Parallel()
		url := pgtest.MigratedURL(t)
		s, err := postgres.Open(t.Context(), url, postgres.Options{Secrets: newBox(t), MaxConns: 1})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if err := s.Ping(t.Context()); err != nil {
			t.Fatal(err)
		}
		admin := connect(t, url)
		var n int
		err = admin.QueryRow(t.Context(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE datname = current_database() AND application_name = 'hookline'`).Scan(&n)
		if err != nil || n != 1 {
			t.Fatalf("terminating the store's connection: got %d, %v; want 1, nil", n, err)
		}
		// The connection was used within the last second, so the pool hands it
		// out without a health check and the call meets the server's goodbye.
		_, err = s.APIKeyCount(t.Context())
		if !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("APIKeyCount on a terminated connection: got %v, want ErrUnavailable", err)
		}
		if _, err := s.APIKeyCount(t.Context()); err != nil {
			t.Errorf("APIKeyCount once the pool reconnected: got %v, want nil", err)
		}
	})
}

func TestInterpretError(t *testing.T) {
	t.Parallel()
	pgErr := func(code string) error { return &pgconn.PgError{Severity: "ERROR", Code: code, Message: "m"} }
	var invalid *hookline.ValidationError
	cases := []struct {
		name string
		err  error
		want error // nil: none of the sentinels
	}{
		{"no rows", pgx.ErrNoRows, store.ErrNotFound},
		{"unique violation", pgErr("23505"), store.ErrConflict},
		{"connection failure", pgErr("08006"), store.ErrUnavailable},
		{"admin shutdown", pgErr("57P01"), store.ErrUnavailable},
		{"crash shutdown", pgErr("57P02"), store.ErrUnavailable},
		{"starting up", pgErr("57P03"), store.ErrUnavailable},
		{"too many connections", pgErr("53300"), store.ErrUnavailable},
		{"unexpected EOF", &net.OpError{Op: "read", Err: errors.New("connection reset by peer")}, store.ErrUnavailable},
		{"connection closed by pgx", pgconn.ErrConnClosed, store.ErrUnavailable},
		{"connection closed, wrapped", fmt.Errorf("store: insert events: %w", pgconn.ErrConnClosed), store.ErrUnavailable},
		{"use of a closed network connection", net.ErrClosed, store.ErrUnavailable},
		{"closed pool", puddle.ErrClosedPool, store.ErrUnavailable},
		{"protocol violation", pgErr("08P01"), store.ErrUnavailable},
		{"database dropped", pgErr("57P04"), store.ErrUnavailable},
		{"idle session timeout", pgErr("57P05"), store.ErrUnavailable},
		{"disk full", pgErr("53100"), store.ErrUnavailable},
		{"out of memory", pgErr("53200"), store.ErrUnavailable},
		{"I/O error", pgErr("58030"), store.ErrUnavailable},
		{"read-only standby", pgErr("25006"), store.ErrUnavailable},
		{"query canceled", pgErr("57014"), nil},
		{"invalid password", pgErr("28P01"), nil},
		{"syntax error", pgErr("42601"), nil},
		{"foreign key violation", pgErr("23503"), nil},
		{"context canceled", context.Canceled, nil},
		{"caller's deadline", context.DeadlineExceeded, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got := postgres.InterpretError(c.err)
			for _, s := range []error{store.ErrNotFound, store.ErrConflict, store.ErrUnavailable} {
				if is := errors.Is(got, s); is != (s == c.want) {
					t.Errorf("InterpretError(%v): got %v; errors.Is %v: %v, want %v", c.err, got, s, is, s == c.want)
				}
			}
			if !errors.Is(got, c.err) && c.err != pgx.ErrNoRows {
				t.Errorf("InterpretError(%v): got %v, which no longer wraps the driver's error", c.err, got)
			}
			if errors.As(got, &invalid) {
				t.Errorf("InterpretError(%v): got a validation error", c.err)
			}
		})
	}
	for _, code := range []string{"22021", "22P05"} {
		if got := postgres.InterpretError(pgErr(code)); !errors.As(got, &invalid) {
			t.Errorf("InterpretError(SQLSTATE %s): got %v, want a *hookline.ValidationError", code, got)
		}
	}
	if postgres.InterpretError(nil) != nil {
		t.Error("InterpretError(nil): got an error")
	}
}

// TestTimesAreUTCMilliseconds: timestamptz keeps microseconds; the store writes
// and returns milliseconds in UTC, as the SQLite driver does.
func TestTimesAreUTCMilliseconds(t *testing.T) {
	t.Parallel()
	s := pgtest.Open(t)
	zone := time.FixedZone("UTC+5", 5*3600)
	at := time.Date(2026, 3, 1, 10, 20, 30, 123_456_789, zone)
	w := newWebhook("acme", "whsec_t")
	w.CreatedAt, w.UpdatedAt = at, at
	if err := s.WebhookCreate(t.Context(), store.WebhookCreateParams{Webhook: w}); err != nil {
		t.Fatal(err)
	}
	got, err := s.WebhookGet(t.Context(), w.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := at.UTC().Truncate(time.Millisecond)
	if got.CreatedAt != want || got.UpdatedAt != want {
		t.Errorf("times: got %v, %v; want %v (UTC, milliseconds)", got.CreatedAt, got.UpdatedAt, want)
	}
	if got.CreatedAt.Location() != time.UTC {
		t.Errorf("location: got %v, want UTC", got.CreatedAt.Location())
	}
}

// TestTextPostgreSQLCannotStore: PostgreSQL text refuses NUL characters. What a
// client sends is refused as invalid; what a receiver sends back is kept.
func TestTextPostgreSQLCannotStore(t *testing.T) {
	t.Parallel()
	s := pgtest.Open(t)
	var invalid *hookline.ValidationError
	w := newWebhook("acme", "whsec_n")
	w.Description = "nul \x00 here"
	err := s.WebhookCreate(t.Context(), store.WebhookCreateParams{Webhook: w})
	if !errors.As(err, &invalid) {
		t.Errorf("WebhookCreate with a NUL in the description: got %v, want a validation error", err)
	}
	w = newWebhook("acme", "whsec_n")
	w.Metadata = map[string]string{"k": "nul \x00 here"} // jsonb refuses \u0000
	err = s.WebhookCreate(t.Context(), store.WebhookCreateParams{Webhook: w})
	if !errors.As(err, &invalid) {
		t.Errorf("WebhookCreate with a NUL in metadata: got %v, want a validation error", err)
	}

	w = newWebhook("acme", "whsec_n")
	if err := s.WebhookCreate(t.Context(), store.WebhookCreateParams{Webhook: w}); err != nil {
		t.Fatal(err)
	}
	a := &hookline.Attempt{
		ID: hookline.NewID(hookline.PrefixAttempt), WebhookID: w.ID, EventID: hookline.NewID(hookline.PrefixEvent),
		EventType: hookline.EventWebhookTest, Tenant: "acme", Number: 1, StartedAt: time.Now(), StatusCode: 200,
		ResponseHeaders: map[string]string{"X-Odd": "a\x00b"},
		ResponseBody:    "binary\x00body\xff\xfe",
	}
	if err := s.AttemptInsert(t.Context(), a); err != nil {
		t.Fatalf("AttemptInsert of a response with NUL bytes: %v", err)
	}
	as, err := s.AttemptList(t.Context(), store.AttemptListParams{WebhookID: w.ID})
	if err != nil || len(as) != 1 {
		t.Fatalf("AttemptList: got %d, %v", len(as), err)
	}
	if as[0].ResponseBody != a.ResponseBody || as[0].ResponseHeaders["X-Odd"] != "a\x00b" {
		t.Errorf("attempt: got body %q headers %q; want %q and %q", as[0].ResponseBody, as[0].ResponseHeaders, a.ResponseBody, a.ResponseHeaders)
	}
}

// A webhook's custom headers may carry the receiver's credentials: they are
// sealed in the column, like its secret, and headers stored in clear by
// earlier versions are still read.
func TestHeadersSealedAtRest(t *testing.T) {
	t.Parallel()
	url := pgtest.MigratedURL(t)
	s := pgtest.OpenURL(t, url, newBox(t))
	conn := connect(t, url)
	ctx := t.Context()
	w := newWebhook("acme", "whsec_"+strings.Repeat("c", 32))
	w.Headers = map[string]string{"Authorization": "Bearer receiver-credential-marker-77"}
	if err := s.WebhookCreate(ctx, store.WebhookCreateParams{Webhook: w}); err != nil {
		t.Fatal(err)
	}
	var col string
	if err := conn.QueryRow(ctx, "SELECT headers::text FROM webhooks WHERE id = $1", w.ID).Scan(&col); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(col, "receiver-credential-marker") || !strings.HasPrefix(col, `"v1:`) {
		t.Errorf("got headers column %q, want it sealed", col)
	}
	if got, err := s.WebhookGet(ctx, w.ID); err != nil || got.Headers["Authorization"] != w.Headers["Authorization"] {
		t.Fatalf("WebhookGet: got %v, %v; want the header back in clear", got, err)
	}
	if _, err := conn.Exec(ctx, `UPDATE webhooks SET headers = '{"X-Api-Key":"old-plain"}' WHERE id = $1`, w.ID); err != nil {
		t.Fatal(err)
	}
	if got, err := s.WebhookGet(ctx, w.ID); err != nil || got.Headers["X-Api-Key"] != "old-plain" {
		t.Fatalf("WebhookGet of plain headers: got %v, %v; want X-Api-Key old-plain", got, err)
	}
}
