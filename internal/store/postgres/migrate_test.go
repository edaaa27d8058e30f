package postgres_test

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/store/postgres"
	"github.com/hookline/hookline/internal/store/postgres/pgtest"
)

// TestMigrateConcurrently starts three nodes on an empty database at once: each
// migration is applied once, every node's Migrate succeeds, and migrating again
// changes nothing.
func TestMigrateConcurrently(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	box := newBox(t)
	const nodes = 3
	stores := make([]*postgres.Store, nodes)
	for i := range stores {
		stores[i] = pgtest.OpenURL(t, url, box)
	}
	errs := make([]error, nodes)
	var wg sync.WaitGroup
	for i, s := range stores {
		wg.Go(func() { errs[i] = s.Migrate(t.Context()) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("concurrent Migrate %d: got %v, want nil", i, err)
		}
	}
	for i := range 2 {
		if err := stores[i].Migrate(t.Context()); err != nil {
			t.Errorf("Migrate again on node %d: got %v, want nil", i, err)
		}
	}

	files, err := os.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	var versions []int
	rows, err := connect(t, url).Query(t.Context(), "SELECT version FROM schema_migrations ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		versions = append(versions, v)
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	if len(versions) != len(files) {
		t.Fatalf("schema_migrations: got versions %v, want one per file (%d)", versions, len(files))
	}
	for i, f := range files {
		if want, _ := strconv.Atoi(strings.SplitN(f.Name(), "_", 2)[0]); want != versions[i] {
			t.Errorf("schema_migrations row %d: got version %d for file %s", i, versions[i], f.Name())
		}
	}

	w := newWebhook("acme", "whsec_x")
	if err := stores[0].WebhookCreate(t.Context(), store.WebhookCreateParams{Webhook: w}); err != nil {
		t.Fatalf("WebhookCreate after concurrent migrations: %v", err)
	}
	if _, err := stores[2].WebhookGet(t.Context(), w.ID); err != nil {
		t.Errorf("WebhookGet on another node: %v", err)
	}
}
