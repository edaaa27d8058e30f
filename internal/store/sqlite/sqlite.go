// Package sqlite is the embedded storage driver: one SQLite file in WAL mode, one
// writer connection (SQLite admits one writer; queuing in Go beats spinning on
// SQLITE_BUSY) and a small pool of readers. It uses modernc.org/sqlite, a pure-Go
// translation of SQLite, so `go run` needs no C compiler; built with the
// sqlite_cgo tag, it uses mattn/go-sqlite3 (cgo) instead (driver_*.go).
package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/hookline/hookline/internal/secrets"
	"github.com/hookline/hookline/internal/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Options configure the driver.
type Options struct {
	// Secrets seals webhook secrets before they are written and opens them when
	// read. Required.
	Secrets *secrets.Box
	// Synchronous is SQLite's synchronous pragma: FULL (default, an acknowledged
	// commit survives power loss) or NORMAL (survives a process crash only).
	// With FULL, the commits of attempt outcomes, claims and lease renewals
	// alone are relaxed to NORMAL all the same (Store.txRelaxed).
	Synchronous string
	// OnCommit, when set (tests, diagnostics), is called after each commit of
	// a write transaction of the store's own (not the implicit one of a single
	// statement), with whether it was relaxed: did not wait for the disk.
	OnCommit func(relaxed bool)
}

// Store is the SQLite driver.
type Store struct {
	w    *sql.DB // one connection: every write goes through it
	r    *sql.DB // readers
	box  *secrets.Box
	path string

	stmtMu sync.Mutex
	stmts  map[string]*sql.Stmt // hot statements, prepared on w (wtx.prepared)
	wanted map[string]bool      // to prepare after the running transaction

	// relax is true when commits wait for the disk (synchronous FULL): the
	// commits that may skip it (txRelaxed) then do.
	relax      bool
	commitHook func(relaxed bool) // Options.OnCommit
}

var _ store.Store = (*Store)(nil)

// ParseDSN tells whether db names a SQLite database and returns its file path. It
// accepts a plain path, "sqlite:PATH", "sqlite://PATH" and "file:PATH".
func ParseDSN(db string) (path string, ok bool) {
	switch {
	case strings.HasPrefix(db, "sqlite://"):
		return strings.TrimPrefix(db, "sqlite://"), true
	case strings.HasPrefix(db, "sqlite:"):
		return strings.TrimPrefix(db, "sqlite:"), true
	case strings.HasPrefix(db, "file:"):
		return strings.TrimPrefix(db, "file:"), true
	case strings.Contains(db, "://"):
		return "", false
	}
	return db, true
}

// Open opens (creating if needed) the database file at path.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if opts.Secrets == nil {
		return nil, errors.New("sqlite: Options.Secrets is required")
	}
	if path == "" {
		return nil, errors.New("sqlite: empty database path")
	}
	sync := strings.ToUpper(opts.Synchronous)
	if sync == "" {
		sync = "FULL"
	}
	if sync != "FULL" && sync != "NORMAL" {
		return nil, fmt.Errorf("sqlite: synchronous must be FULL or NORMAL, got %q", opts.Synchronous)
	}
	if err := createPrivate(path); err != nil {
		return nil, fmt.Errorf("sqlite: create %s: %w", path, err)
	}
	// SQLite reads a "file:" name as a URI: escape what it would take for an
	// escape, the query or the fragment, so "/data/a#b.db" opens that file.
	uriPath := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	dsn := "file:" + uriPath + "?" + dsnOptions(sync)

	w, err := openDB(dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	r, err := openDB(dsn)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(4)
	r.SetConnMaxIdleTime(0)
	return &Store{w: w, r: r, box: opts.Secrets, path: path, stmts: map[string]*sql.Stmt{}, wanted: map[string]bool{},
		relax: sync == "FULL", commitHook: opts.OnCommit}, nil
}

// createPrivate creates the database file, empty and readable by its owner
// only (0600), unless it exists: it holds sealed secrets and key hashes. SQLite
// gives the WAL, the shared-memory index and any journal the mode of the
// database file, so they are private too.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return f.Close()
}

// Close closes both pools.
func (s *Store) Close() error {
	s.stmtMu.Lock()
	for q, st := range s.stmts {
		st.Close()
		delete(s.stmts, q)
	}
	s.stmtMu.Unlock()
	return errors.Join(s.r.Close(), s.w.Close())
}

// SingleNode is true: one SQLite file serves one Hookline process.
func (s *Store) SingleNode() bool { return true }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.r.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("store: ping: %w", interpretError(err))
	}
	return nil
}

// Migrate applies the embedded migrations not yet applied, in order, each in its
// own transaction. On a current schema it only reads, so that a server starts
// on a disk that is full or read-only, and answers 503 until it can write.
func (s *Store) Migrate(ctx context.Context) error {
	if _, err := s.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("store: migrate: %w", interpretError(err))
	}
	ms, err := store.ReadMigrations(migrations)
	if err != nil {
		return err
	}
	applied, err := s.appliedMigrations(ctx)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", interpretError(err))
	}
	for _, m := range ms {
		if applied[m.Version] {
			continue
		}
		// Checked again in the write transaction: `hookline migrate` may run
		// beside a starting server.
		err = s.tx(ctx, func(tx wtx) error {
			var n int
			if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations WHERE version = ?", m.Version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)", m.Version, time.Now().UnixMilli())
			return err
		})
		if err != nil {
			return fmt.Errorf("store: migration %s: %w", m.Name, err)
		}
	}
	return nil
}

// appliedMigrations returns the versions schema_migrations holds.
func (s *Store) appliedMigrations(ctx context.Context) (map[int]bool, error) {
	rows, err := s.w.QueryContext(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	applied := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		applied[v] = true
	}
	return applied, rows.Err()
}

// tx runs fn in a write transaction (BEGIN IMMEDIATE), writes the slot
// counts its changes moved, and commits it. The commit waits for the disk as
// the synchronous setting says: with FULL, it survives a power loss.
func (s *Store) tx(ctx context.Context, fn func(tx wtx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return interpretError(err)
	}
	err = s.run(ctx, tx, false, fn)
	s.prepareWanted()
	return err
}

// txRelaxed is tx for writes that a power loss may undo without breaking a
// promise: attempt outcomes, claims and lease renewals. Losing one means one more
// attempt, which at-least-once delivery allows; what was answered 202 (an
// event) is never in such a commit. With synchronous FULL it commits with
// NORMAL: SQLite appends the transaction to the WAL without an fsync, and the
// next commit that waits for the disk (or a checkpoint) makes it durable with
// its own, so it survives a crash of the process but not of the machine. The
// WAL stays consistent either way: after a power loss it ends at the last
// commit that reached the disk.
//
// The setting cannot change inside a transaction, so the one write
// connection is held from the PRAGMA before BEGIN to the one after COMMIT that
// puts FULL back; a connection that cannot be put back is discarded, so that
// no later commit runs relaxed by mistake.
func (s *Store) txRelaxed(ctx context.Context, fn func(tx wtx) error) error {
	if !s.relax {
		return s.tx(ctx, fn)
	}
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return interpretError(err)
	}
	defer s.prepareWanted()
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "PRAGMA synchronous = NORMAL"); err != nil {
		return interpretError(err)
	}
	defer func() {
		if _, err := conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA synchronous = FULL"); err != nil {
			conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return interpretError(err)
	}
	return s.run(ctx, tx, true, fn)
}

// run runs fn in tx, writes the slot counts its changes moved, and commits,
// or rolls back when anything failed. relaxed says how the commit goes, for
// Options.OnCommit.
func (s *Store) run(ctx context.Context, tx *sql.Tx, relaxed bool, fn func(tx wtx) error) error {
	t := wtx{Tx: tx, s: s, slots: &store.SlotDeltas{}}
	err := fn(t)
	if err == nil {
		err = flushSlots(ctx, t, t.slots)
	}
	if err != nil {
		tx.Rollback()
		return interpretError(err)
	}
	if err := tx.Commit(); err != nil {
		return interpretError(err)
	}
	if s.commitHook != nil {
		s.commitHook(relaxed)
	}
	return nil
}

// wtx is a write transaction. Its hot methods run statements prepared once on
// the write connection instead of parsing their SQL on every call, which was
// a fifth of the CPU of a publish-and-deliver cycle.
type wtx struct {
	*sql.Tx
	s     *Store
	slots *store.SlotDeltas // what the transaction changes of the slot counts
}

// prepared returns q prepared on the write connection, or nil the first time:
// the pool's one connection is busy during a transaction, so q is prepared
// right after it (prepareWanted).
func (t wtx) prepared(q string) *sql.Stmt {
	t.s.stmtMu.Lock()
	defer t.s.stmtMu.Unlock()
	if st := t.s.stmts[q]; st != nil {
		return st
	}
	t.s.wanted[q] = true
	return nil
}

// execHot is ExecContext for a statement of the hot path (fixed SQL text).
func (t wtx) execHot(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if st := t.prepared(q); st != nil {
		return t.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return t.ExecContext(ctx, q, args...)
}

// queryRowHot is QueryRowContext for a statement of the hot path.
func (t wtx) queryRowHot(ctx context.Context, q string, args ...any) *sql.Row {
	if st := t.prepared(q); st != nil {
		return t.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return t.QueryRowContext(ctx, q, args...)
}

// queryHot is QueryContext for a statement of the hot path.
func (t wtx) queryHot(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := t.prepared(q); st != nil {
		return t.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return t.QueryContext(ctx, q, args...)
}

// prepareWanted prepares the hot statements transactions asked for. One that
// fails to prepare (its table is not migrated yet) is asked for again later. No
// lock is held while preparing: it waits for the write connection, which a
// transaction asking for a statement may hold.
func (s *Store) prepareWanted() {
	s.stmtMu.Lock()
	var qs []string
	for q := range s.wanted {
		qs = append(qs, q)
		delete(s.wanted, q)
	}
	s.stmtMu.Unlock()
	for _, q := range qs {
		st, err := s.w.Prepare(q)
		if err != nil {
			continue
		}
		s.stmtMu.Lock()
		if s.stmts[q] == nil {
			s.stmts[q] = st
			st = nil
		}
		s.stmtMu.Unlock()
		if st != nil {
			st.Close()
		}
	}
}

// interpretError maps driver errors to the store's sentinels: no rows is
// ErrNotFound, a unique violation ErrConflict, and a database that cannot be
// used now (unavailableCode) ErrUnavailable.
func interpretError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	if code, ok := errorCode(err); ok {
		switch {
		case code == codeConstraintUnique, code == codeConstraintPrimaryKey:
			return fmt.Errorf("%w: %w", store.ErrConflict, err)
		case unavailableCode(code):
			return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
		}
	}
	return err
}

// unavailableCode tells whether a result code says the database cannot be
// used now, whatever the statement: locked by another process for longer than
// the busy timeout, a disk that is full ("database or disk is full"), failing
// (an I/O error) or read-only, or a file that cannot be opened. The driver
// reports extended codes (SQLITE_IOERR_WRITE, SQLITE_READONLY_DBMOVED…), whose
// low byte is the primary one.
func unavailableCode(code int) bool {
	switch code & 0xff {
	case codeBusy, codeLocked, codeIOErr, codeFull, codeCantOpen, codeReadOnly:
		return true
	}
	return false
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

func nullMS(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMS(v.Int64)
	return &t
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// placeholders returns "?,?,…" with n marks.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

type scanner interface{ Scan(dest ...any) error }
