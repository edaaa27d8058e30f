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
		RateLimitTake(context.Context, string, int, int, time.Duration, time.Time) (bool, float64, time.Duration, error)
	}{pgtest.OpenURL(t, url, box), pgtest.OpenURL(t, url, box)}

	now := time.Now()
	const limit = 20
	var granted atomic.Int64
	var wg sync.WaitGroup
	for i := range 60 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, _, wait, err := nodes[i%2].RateLimitTake(context.Background(), "key:a", 1, limit, time.Hour, now)
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
		ok, _, _, err := nodes[i].RateLimitTake(context.Background(), "key:a", 1, limit, time.Hour, later)
		if err != nil || ok != want {
			t.Errorf("take %d after 3 min: got %v, %v; want %v", i+1, ok, err, want)
		}
	}
	// Buckets are per id.
	if ok, _, _, _ := nodes[0].RateLimitTake(context.Background(), "key:b", 1, limit, time.Hour, now); !ok {
		t.Error("another key's bucket is empty")
	}
}

// Taking n tokens takes all n or none, and a refusal says how long until n are
// there.
func TestRateLimitTakeMany(t *testing.T) {
	t.Parallel()
	s := pgtest.Open(t)
	ctx := context.Background()
	now := time.Now()
	const limit = 60 // one token a minute
	take := func(n int, at time.Time) (bool, time.Duration) {
		t.Helper()
		ok, _, wait, err := s.RateLimitTake(ctx, "key:many", n, limit, time.Hour, at)
		if err != nil {
			t.Fatal(err)
		}
		return ok, wait
	}
	if ok, _ := take(50, now); !ok {
		t.Fatal("50 of a full bucket of 60: refused")
	}
	ok, wait := take(20, now)
	if ok {
		t.Fatal("20 with 10 left: granted")
	}
	if wait < 10*time.Minute-time.Second || wait > 10*time.Minute+time.Second {
		t.Errorf("20 with 10 left: got wait %v, want 10m (10 more tokens at one a minute)", wait)
	}
	if ok, _ := take(10, now); !ok {
		t.Error("10 with 10 left: refused, so the refused 20 took some")
	}
	if ok, _ := take(1, now); ok {
		t.Error("1 with none left: granted")
	}
	if ok, _ := take(limit+1, now.Add(2*time.Hour)); ok {
		t.Errorf("%d from a bucket of %d: granted", limit+1, limit)
	}
	if ok, _ := take(limit, now.Add(2*time.Hour)); !ok {
		t.Errorf("%d from a full bucket of %d: refused", limit, limit)
	}
}
