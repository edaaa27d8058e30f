package delivery

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/store"
)

// recorder is a store call that doubles its items, records the size of each
// call, and can be held back or made to fail.
type recorder struct {
	mu    sync.Mutex
	calls [][]int
	hold  chan struct{} // when set, the first call waits for it to close
	fail  func([]int) error
}

func (r *recorder) do(ctx context.Context, ps []int) ([]int, error) {
	r.mu.Lock()
	r.calls = append(r.calls, slices.Clone(ps))
	first := len(r.calls) == 1
	r.mu.Unlock()
	if first && r.hold != nil {
		<-r.hold
	}
	if r.fail != nil {
		if err := r.fail(ps); err != nil {
			return nil, err
		}
	}
	out := make([]int, len(ps))
	for i, p := range ps {
		out[i] = 2 * p
	}
	return out, nil
}

// waitStarted waits until the recorder's first call has begun.
func (r *recorder) waitStarted(t *testing.T) {
	t.Helper()
	waitFor(t, 5*time.Second, "the first commit to start", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return len(r.calls) == 1
	})
}

// waitQueued waits until n calls wait in g's queue.
func waitQueued[P, R any](t *testing.T, g *groupCommit[P, R], n int) {
	t.Helper()
	waitFor(t, 5*time.Second, fmt.Sprintf("%d calls to queue", n), func() bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		return len(g.waiting) == n
	})
}

func TestGroupCommitGathersWaitingCalls(t *testing.T) {
	t.Parallel()
	r := &recorder{hold: make(chan struct{})}
	g := newGroupCommit(r.do, 100)

	var wg sync.WaitGroup
	results := make([][]int, 6)
	errs := make([]error, 6)
	call := func(i int) {
		defer wg.Done()
		results[i], errs[i] = g.run(context.Background(), []int{i * 10, i*10 + 1})
	}
	wg.Add(1)
	go call(0)
	r.waitStarted(t)
	for i := 1; i < 6; i++ {
		wg.Add(1)
		go call(i)
	}
	waitQueued(t, g, 5)
	close(r.hold)
	wg.Wait()

	for i := range 6 {
		if errs[i] != nil {
			t.Fatalf("call %d: %v", i, errs[i])
		}
		if want := []int{i * 20, i*20 + 2}; !slices.Equal(results[i], want) {
			t.Errorf("call %d: got %v, want %v", i, results[i], want)
		}
	}
	if len(r.calls) != 2 || len(r.calls[1]) != 10 {
		t.Errorf("store calls: got %v, want the first alone, then the five others in one", r.calls)
	}
	if g.leading || len(g.waiting) != 0 {
		t.Errorf("after: leading %v, waiting %d; want false, 0", g.leading, len(g.waiting))
	}
}

func TestGroupCommitBoundsABatch(t *testing.T) {
	t.Parallel()
	r := &recorder{hold: make(chan struct{})}
	g := newGroupCommit(r.do, 4)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); g.run(context.Background(), []int{0}) }()
	r.waitStarted(t)
	sizes := []int{3, 3, 7} // 7 is more than max: committed alone, whole
	for _, n := range sizes {
		wg.Add(1)
		go func() { defer wg.Done(); g.run(context.Background(), make([]int, n)) }()
	}
	waitQueued(t, g, 3)
	close(r.hold)
	wg.Wait()
	for _, c := range r.calls[1:] {
		if len(c) > 4 && len(c) != 7 {
			t.Errorf("a commit of %d items gathered more than max 4", len(c))
		}
	}
	total := 0
	for _, c := range r.calls {
		total += len(c)
	}
	if total != 14 {
		t.Errorf("items committed: got %d, want 14", total)
	}
}

func TestGroupCommitIsolatesAFailingCall(t *testing.T) {
	t.Parallel()
	bad := errors.New("constraint failed")
	r := &recorder{hold: make(chan struct{}), fail: func(ps []int) error {
		if slices.Contains(ps, 13) {
			return bad
		}
		return nil
	}}
	g := newGroupCommit(r.do, 100)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	wg.Add(1)
	go func() { defer wg.Done(); _, errs[0] = g.run(context.Background(), []int{1}) }()
	r.waitStarted(t)
	for i, p := range []int{12, 13, 14} {
		wg.Add(1)
		go func() { defer wg.Done(); _, errs[i+1] = g.run(context.Background(), []int{p}) }()
	}
	waitQueued(t, g, 3)
	close(r.hold)
	wg.Wait()
	if errs[0] != nil || errs[1] != nil || errs[3] != nil {
		t.Errorf("good calls: got errors %v", errs)
	}
	if !errors.Is(errs[2], bad) {
		t.Errorf("bad call: got %v, want %v", errs[2], bad)
	}
}

func TestGroupCommitUnavailableFailsTheBatchOnce(t *testing.T) {
	t.Parallel()
	r := &recorder{hold: make(chan struct{})}
	r.fail = func(ps []int) error {
		if len(ps) > 1 {
			return fmt.Errorf("store: %w", store.ErrUnavailable)
		}
		return nil
	}
	g := newGroupCommit(r.do, 100)
	var wg sync.WaitGroup
	errs := make([]error, 3)
	wg.Add(1)
	go func() { defer wg.Done(); _, errs[0] = g.run(context.Background(), []int{1}) }()
	r.waitStarted(t)
	for i := range 2 {
		wg.Add(1)
		go func() { defer wg.Done(); _, errs[i+1] = g.run(context.Background(), []int{i}) }()
	}
	waitQueued(t, g, 2)
	close(r.hold)
	wg.Wait()
	if !errors.Is(errs[1], store.ErrUnavailable) || !errors.Is(errs[2], store.ErrUnavailable) {
		t.Errorf("batched calls: got %v, %v; want ErrUnavailable", errs[1], errs[2])
	}
	if len(r.calls) != 2 {
		t.Errorf("store calls: got %d, want 2 (no call-by-call retry when the store is down)", len(r.calls))
	}
}

func TestGroupCommitSkipsEndedContexts(t *testing.T) {
	t.Parallel()
	r := &recorder{hold: make(chan struct{})}
	g := newGroupCommit(r.do, 100)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); g.run(context.Background(), []int{1}) }()
	r.waitStarted(t)
	ctx, cancel := context.WithCancel(context.Background())
	var err error
	wg.Add(1)
	go func() { defer wg.Done(); _, err = g.run(ctx, []int{99}) }()
	waitQueued(t, g, 1)
	cancel()
	close(r.hold)
	wg.Wait()
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled call: got %v, want context.Canceled", err)
	}
	for _, c := range r.calls {
		if slices.Contains(c, 99) {
			t.Errorf("the cancelled call's items were committed: %v", r.calls)
		}
	}
}

func TestGroupCommitConcurrentCallsAllReturn(t *testing.T) {
	t.Parallel()
	r := &recorder{}
	g := newGroupCommit(r.do, 50)
	var wg sync.WaitGroup
	for i := range 500 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rs, err := g.run(context.Background(), []int{i})
			if err != nil || len(rs) != 1 || rs[0] != 2*i {
				t.Errorf("call %d: got %v, %v", i, rs, err)
			}
		}()
	}
	wg.Wait()
	if g.leading || len(g.waiting) != 0 {
		t.Errorf("after: leading %v, waiting %d; want false, 0", g.leading, len(g.waiting))
	}
}
