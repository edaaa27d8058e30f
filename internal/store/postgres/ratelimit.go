package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/hookline/hookline/internal/store"
)

var _ store.RateLimiter = (*Store)(nil)

// RateLimitTake implements store.RateLimiter with one upsert: the bucket is
// refilled for the time since its last use, capped at limit, and n tokens taken
// when there are n. The row lock the upsert takes serialises concurrent takes.
func (s *Store) RateLimitTake(ctx context.Context, id string, n, limit int, window time.Duration, now time.Time) (bool, float64, time.Duration, error) {
	perMS := float64(limit) / float64(window.Milliseconds())
	var tokens float64
	var granted bool
	err := s.pool.QueryRow(ctx, `
		WITH arg AS (SELECT $2::float8 AS cap, $3::bigint AS now_ms, $4::float8 AS per_ms, $5::float8 AS n)
		INSERT INTO rate_buckets AS b (id, tokens, updated_ms, granted)
			SELECT $1, CASE WHEN cap >= n THEN cap - n ELSE cap END, now_ms, cap >= n FROM arg
		ON CONFLICT (id) DO UPDATE SET
			tokens = (SELECT CASE WHEN f.t >= n THEN f.t - n ELSE f.t END FROM (
				SELECT least(cap, b.tokens + greatest(0, now_ms - b.updated_ms) * per_ms) AS t, n FROM arg) f),
			granted = (SELECT least(cap, b.tokens + greatest(0, now_ms - b.updated_ms) * per_ms) >= n FROM arg),
			updated_ms = (SELECT greatest(now_ms, b.updated_ms) FROM arg)
		RETURNING tokens, granted`,
		id, float64(limit), now.UnixMilli(), perMS, float64(n)).Scan(&tokens, &granted)
	if err != nil {
		return false, 0, 0, fmt.Errorf("store: rate limit: %w", interpretError(err))
	}
	if granted {
		return true, tokens, 0, nil
	}
	return false, tokens, time.Duration((float64(n) - tokens) / perMS * float64(time.Millisecond)), nil
}
