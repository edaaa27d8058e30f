package delivery

import (
	"github.com/hookline/hookline/internal/store/postgres"
	"github.com/hookline/hookline/internal/store/sqlite"
)

// Both stores renew leases, so that a node never attempts a delivery whose
// lease ran out while it waited in the queue (cmd/hookline's
// TestMultiNodeQueueOutlivesLease), and so that a job its webhook cannot take
// yet is deferred without counting an attempt.
var (
	_ leaseRenewer = (*postgres.Store)(nil)
	_ leaseRenewer = (*sqlite.Store)(nil)
)
