package delivery

import "github.com/hookline/hookline/internal/store/postgres"

// PostgreSQL's store renews leases, so that a node never attempts a delivery
// whose lease ran out while it waited in the queue (cmd/hookline's
// TestMultiNodeQueueOutlivesLease).
var _ leaseRenewer = (*postgres.Store)(nil)
