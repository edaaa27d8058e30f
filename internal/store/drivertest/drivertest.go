// Package drivertest runs a test on each storage driver: SQLite in a temporary
// directory and PostgreSQL in the throwaway cluster of pgtest (whose Main the
// test binary's TestMain must call). Tests whose behaviour rests on what the
// store keeps use it, so that both drivers are held to the same behaviour.
package drivertest

import (
	"testing"

	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/store/postgres/pgtest"
	"github.com/hookline/hookline/internal/store/sqlite/sqlitetest"
)

// Driver is a storage driver a test can run on.
type Driver struct {
	Name string
	// Open returns a fresh, migrated, empty store, closed when the test ends.
	Open func(testing.TB) store.Store
}

// Drivers are every storage driver.
var Drivers = []Driver{
	{"sqlite", func(t testing.TB) store.Store { return sqlitetest.Open(t) }},
	{"postgres", func(t testing.TB) store.Store { return pgtest.Open(t) }},
}

// Each runs test once per driver, in parallel subtests named after it; open
// gives a fresh store of that driver each time it is called.
func Each(t *testing.T, test func(t *testing.T, open func(testing.TB) store.Store)) {
	t.Parallel()
	for _, d := range Drivers {
		t.Run(d.Name, func(t *testing.T) {
			t.Parallel()
			test(t, d.Open)
		})
	}
}
