package postgres_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/secrets"
	"github.com/hookline/hookline/internal/store/postgres/pgtest"
)

// Two nodes (two pools) taking from one bucket at once never get more tokens
// than it holds, and it refills at limit per window.
func TestRateLimitTakeAcrossNodes(t *testing.T) {
	t.Parallel()
	url := pgtest.MigratedURL(t)
	key := make([]byte, 32)
	box, _ := secrets.New(key)
	nodes := []interface {
		RateLimitTake(context.Context, string, int, time.Duration, time.Time) (bool, time.Duration, error)
	}{pgtest.OpenURL(t, url, box), pgtest.OpenURL(t, url, box)}

	now := time.Now()
	const limit = 20
	var granted atomic.Int64
	var wg sync.WaitGroup
	for i := range 60 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, wait, err := nodes[i%2].RateLimitTake(context.Background(), "key:a", limit, time.Hour, now)
			if err != nil {
				t.Error(err)
				return
			}
			if ok {
				granted.Add(1)
			} else if wait <= 0 || wait > 3*time.Minute+time.Second {
				t.Errorf("refused with wait %v, want about 3m (one token per 3 minutes)", wait)
			}
		}()
	}
	wg.Wait()
	if g := granted.Load(); g != limit {
		t.Errorf("granted %d of 60 concurrent takes, want exactly %d", g, limit)
	}
	// 3 minutes later one token (limit 20 per hour) has come back, not two.
	later := now.Add(3*time.Minute + time.Second)
	for i, want := range []bool{true, false} {
		ok, _, err := nodes[i].RateLimitTake(context.Background(), "key:a", limit, time.Hour, later)
		if err != nil || ok != want {
			t.Errorf("take %d after 3 min: got %v, %v; want %v", i+1, ok, err, want)
		}
	}
	// Buckets are per id.
	if ok, _, _ := nodes[0].RateLimitTake(context.Background(), "key:b", limit, time.Hour, now); !ok {
		t.Error("another key's bucket is empty")
	}
}
