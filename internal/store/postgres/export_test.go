package postgres

import "time"

// InterpretError exposes interpretError to the tests.
var InterpretError = interpretError

// SetListenCheck sets how long Listen waits before checking its connection.
func SetListenCheck(d time.Duration) { listenCheck = d }

// PoolMaxConns is the size of s's pool.
func PoolMaxConns(s *Store) int32 { return s.pool.Config().MaxConns }
