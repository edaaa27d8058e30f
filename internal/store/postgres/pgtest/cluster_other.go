//go:build !unix

package pgtest

import "context"

// A throwaway cluster needs Unix process handling; elsewhere the tests need
// HOOKLINE_TEST_POSTGRES_URL.

type binaries struct{}

type cluster struct{}

func findBinaries() (binaries, string) {
	return binaries{}, "a throwaway PostgreSQL cluster needs a Unix system"
}

func startCluster(context.Context, binaries) (*cluster, error) { panic("unreachable") }

func (c *cluster) url(string) string { return "" }

func (c *cluster) stop() {}

func (c *cluster) stopPostgres(context.Context, binaries, string) error { panic("unreachable") }
func (c *cluster) restartPostgres(context.Context, binaries) error      { panic("unreachable") }

func onSignals() {}
