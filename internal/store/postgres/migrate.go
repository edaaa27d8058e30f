package postgres

import (
	"context"
	"embed"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/hookline/hookline/internal/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrationLock is the advisory lock key every node takes while migrating
// ("hookline" in ASCII), so nodes starting together apply each migration once.
const migrationLock int64 = 0x686f6f6b6c696e65

// Migrate applies the embedded migrations not yet applied, in order, each in its
// own transaction under a transaction-level advisory lock: a node that starts
// while another migrates waits, then finds the work done. PostgreSQL's DDL is
// transactional, so a failed migration leaves nothing behind. On a current
// schema it only reads, so that a node starts while the database refuses
// writes (a full disk, a standby being promoted), and answers 503 until it can
// write.
func (s *Store) Migrate(ctx context.Context) error {
	ms, err := store.ReadMigrations(migrations)
	if err != nil {
		return err
	}
	if s.migrated(ctx, ms) {
		return nil
	}
	err = s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", migrationLock); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    integer PRIMARY KEY,
			applied_at timestamptz NOT NULL DEFAULT now())`)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	for _, m := range ms {
		err = s.tx(ctx, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", migrationLock); err != nil {
				return err
			}
			var done bool
			if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT FROM schema_migrations WHERE version = $1)", m.Version).Scan(&done); err != nil {
				return err
			}
			if done {
				return nil
			}
			// No arguments: pgx sends the file with the simple protocol, which
			// runs several statements.
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version) VALUES ($1)", m.Version)
			return err
		})
		if err != nil {
			return fmt.Errorf("store: migration %s: %w", m.Name, err)
		}
	}
	return nil
}

// migrated tells whether every migration of ms is applied already. It is false
// when it cannot tell (no schema_migrations yet, or no answer), leaving it to
// Migrate's transactions to create the table or report the error.
func (s *Store) migrated(ctx context.Context, ms []store.Migration) bool {
	versions := make([]int, len(ms))
	for i, m := range ms {
		versions[i] = m.Version
	}
	var n int
	err := s.pool.QueryRow(ctx, "SELECT count(*) FROM schema_migrations WHERE version = ANY($1)", versions).Scan(&n)
	return err == nil && n == len(ms)
}
