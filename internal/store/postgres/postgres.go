// Package postgres is the storage driver for running several Hookline processes on
// one database. It uses pgx with its connection pool; work is claimed with
// SELECT … FOR UPDATE SKIP LOCKED and leases, and nodes tell each other about new
// work and changed webhooks with LISTEN/NOTIFY (store.Notifier).
package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/puddle/v2"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/secrets"
	"github.com/hookline/hookline/internal/store"
)

// Options configure the driver.
type Options struct {
	// Secrets seals webhook secrets before they are written and opens them when
	// read. Required.
	Secrets *secrets.Box
	// MaxConns caps the connections the store opens, one Listen's included: the
	// pool gets MaxConns-1 (at least 1). 0 keeps pgx's default pool size (the
	// larger of 4 and the number of CPUs, or the URL's pool_max_conns), with the
	// Listen connection on top.
	MaxConns int32
	// Tracer, when set, traces the statements of the pool's connections (not
	// those of Listen, which waits for notifications on connections of its
	// own); when it also implements pgx.BatchTracer, pgx.CopyFromTracer or
	// pgx.PrepareTracer, pgx calls those too. It is for tests and diagnostics,
	// such as counting the statements per delivery.
	Tracer pgx.QueryTracer
}

// Store is the PostgreSQL driver.
type Store struct {
	pool   *pgxpool.Pool
	box    *secrets.Box
	listen *pgx.ConnConfig // for the dedicated LISTEN connections
	// slotShards is how many shards the slot counts of a (webhook, slot)
	// are split into (slots.go).
	slotShards int32

	closeOnce sync.Once
	closed    chan struct{} // ends every Listen
}

var (
	_ store.Store    = (*Store)(nil)
	_ store.Notifier = (*Store)(nil)
)

// ParseDSN tells whether db names a PostgreSQL database: a postgres:// or
// postgresql:// URL, which it returns unchanged for Open.
func ParseDSN(db string) (url string, ok bool) {
	scheme, _, found := strings.Cut(db, "://")
	if !found {
		return "", false
	}
	switch strings.ToLower(scheme) {
	case "postgres", "postgresql":
		return db, true
	}
	return "", false
}

// Open connects to the database at url (a postgres:// URL; libpq's parameters,
// such as sslmode, and pgxpool's pool_* parameters are accepted) and checks that
// it answers. It does not migrate.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	if opts.Secrets == nil {
		return nil, errors.New("postgres: Options.Secrets is required")
	}
	if _, ok := ParseDSN(url); !ok {
		return nil, errors.New("postgres: the database must be a postgres:// or postgresql:// URL")
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err) // pgconn leaves the password out
	}
	if opts.MaxConns < 0 {
		return nil, fmt.Errorf("postgres: MaxConns must not be negative, got %d", opts.MaxConns)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = max(1, opts.MaxConns-1)
		cfg.MinConns = min(cfg.MinConns, cfg.MaxConns)
	}
	if cfg.ConnConfig.RuntimeParams["application_name"] == "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = "hookline"
	}
	listen := cfg.ConnConfig.Copy()
	// Named apart, so an operator (and a test) can tell it from the pool's.
	listen.RuntimeParams["application_name"] = cfg.ConnConfig.RuntimeParams["application_name"] + " listen"
	if opts.Tracer != nil {
		cfg.ConnConfig.Tracer = opts.Tracer // after the copy: Listen's connections are not traced
	}

	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", interpretError(err))
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect to %s/%s: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Database, interpretError(err))
	}
	return &Store{pool: pool, box: opts.Secrets, listen: listen, slotShards: slotShards, closed: make(chan struct{})}, nil
}

// Close ends every Listen and closes the pool, waiting for connections in use.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.closed)
		s.pool.Close()
	})
	return nil
}

// SingleNode is false: any number of processes share one PostgreSQL database, so
// a lease found at start-up may belong to a live node.
func (s *Store) SingleNode() bool { return false }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("store: ping: %w", interpretError(err))
	}
	return nil
}

// tx runs fn in a READ COMMITTED transaction and commits it.
func (s *Store) tx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return interpretError(pgx.BeginFunc(ctx, s.pool, fn))
}

// SQLSTATE codes interpretError knows.
const (
	codeUniqueViolation      = "23505"
	codeReadOnlyTransaction  = "25006" // a standby, or a primary being demoted
	codeCharacterNotInRepert = "22021" // a NUL byte in text
	codeUntranslatableChar   = "22P05" // \u0000 in jsonb
	codeSystemError          = "58000"
	codeIOError              = "58030"
)

// unavailableCode tells whether a SQLSTATE says the server cannot do the work
// now, whatever the work: a connection exception (class 08); a server shutting
// down, starting up, in recovery, or ending sessions (57P01 to 57P05); one
// short of disk, memory or connections (class 53, 53100 being a full disk);
// an I/O or system error (58000, 58030); or a server that is (or has just
// become) a read-only standby.
func unavailableCode(code string) bool {
	switch {
	case strings.HasPrefix(code, "08"), strings.HasPrefix(code, "57P"), strings.HasPrefix(code, "53"):
		return true
	}
	return code == codeSystemError || code == codeIOError || code == codeReadOnlyTransaction
}

// interpretError maps driver errors to the store's sentinels: no rows is
// ErrNotFound, a unique violation ErrConflict, and a server that cannot be
// reached, is shutting down or restarting, or has no room to spare
// ErrUnavailable, as is a connection pgx found broken or has closed: the
// caller may try again once the database is back. An error while a commit is
// in flight is ErrUnavailable too, never success: the transaction may or may
// not have committed, which a retry with the same idempotency key settles.
func interpretError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == codeUniqueViolation:
			return fmt.Errorf("%w: %w", store.ErrConflict, err)
		case unavailableCode(pe.Code):
			return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
		case pe.Code == codeCharacterNotInRepert, pe.Code == codeUntranslatableChar:
			// PostgreSQL text cannot hold NUL characters, which JSON lets a
			// client send ("\u0000"): the input is at fault, not the server.
			return fmt.Errorf("%w (%w)", hookline.Invalid("", "text must not contain NUL characters"), err)
		}
		return err
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled):
		return err
	case errors.As(err, &ce):
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err) // connect_timeout included
	case errors.Is(err, context.DeadlineExceeded):
		return err // the caller's deadline, not the server's fault
	case errors.Is(err, pgconn.ErrConnClosed),
		// Failed before anything reached the server (a connection found
		// closed, a standby where a primary was wanted): retrying is safe.
		pgconn.SafeToRetry(err),
		errors.Is(err, puddle.ErrClosedPool), errors.As(err, &ne),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return err
}

// ts is t as written: UTC, to the millisecond, like every time the store returns.
func ts(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

// utc returns a read time in UTC (pgx reads timestamptz in the local zone).
func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// nullText is s, or NULL when it is empty.
func nullText(s string) any {
	if s == "" {
		return nil
	}
	return s
}
