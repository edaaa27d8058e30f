package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/hookline/hookline/internal/store"
)

var _ store.RateLimiter = (*Store)(nil)

// RateLimitTake implements store.RateLimiter with one upsert: the bucket is
// refilled for the time since its last use, capped at limit, and a token taken
// when there is one. The row lock the upsert takes serialises concurrent takes.
func (s *Store) RateLimitTake(ctx context.Context, id string, limit int, window time.Duration, now time.Time) (bool, time.Duration, error) {
	perMS := float64(limit) / float64(window.Milliseconds())
	var tokens float64
	var granted bool
	err := s.pool.QueryRow(ctx, `
		WITH arg AS (SELECT $2::float8 AS cap, $3::bigint AS now_ms, $4::float8 AS per_ms)
		INSERT INTO rate_buckets AS b (id, tokens, updated_ms, granted)
			SELECT $1, cap - 1, now_ms, true FROM arg
		ON CONFLICT (id) DO UPDATE SET
			tokens = (SELECT CASE WHEN f.t >= 1 THEN f.t - 1 ELSE f.t END FROM (
				SELECT least(cap, b.tokens + greatest(0, now_ms - b.updated_ms) * per_ms) AS t FROM arg) f),
			granted = (SELECT least(cap, b.tokens + greatest(0, now_ms - b.updated_ms) * per_ms) >= 1 FROM arg),
			updated_ms = (SELECT greatest(now_ms, b.updated_ms) FROM arg)
		RETURNING tokens, granted`,
		id, float64(limit), now.UnixMilli(), perMS).Scan(&tokens, &granted)
	if err != nil {
		return false, 0, fmt.Errorf("store: rate limit: %w", interpretError(err))
	}
	if granted {
		return true, 0, nil
	}
	return false, time.Duration((1 - tokens) / perMS * float64(time.Millisecond)), nil
}
