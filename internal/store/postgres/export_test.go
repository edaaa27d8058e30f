package postgres

import "time"

// InterpretError exposes interpretError to the tests.
var InterpretError = interpretError

// SetListenCheck sets how long Listen waits before checking its connection.
func SetListenCheck(d time.Duration) { listenCheck = d }

// PoolMaxConns is the size of s's pool.
func PoolMaxConns(s *Store) int32 { return s.pool.Config().MaxConns }

// SetSlotShards sets how many shards s splits the slot counts into; 1 makes
// every transaction write the same rows.
func SetSlotShards(s *Store, n int32) { s.slotShards = n }
