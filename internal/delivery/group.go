package delivery

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/hookline/hookline/internal/store"
)

// groupCommit gathers concurrent calls of a slice-taking store method into one
// call, so that many publishes (or many attempt outcomes) share one transaction
// and one fsync: group commit. Nothing waits on a timer: while one commit runs,
// the calls that arrive queue up, and the next commit takes them all.
//
// One commit runs at a time. There is no goroutine of its own: the first
// caller to find no commit running leads, committing batches while its own
// call is not done; when its call is done it hands the lead to the oldest
// waiting call and returns.
type groupCommit[P, R any] struct {
	do func(context.Context, []P) ([]R, error)
	// max bounds the items in one commit; a single call larger than max is
	// committed alone, whole.
	max int
	// linger is how long a leader waits for more calls before committing a
	// batch of fewer than max/2 items, for writes that are not waited on by a
	// client (attempt outcomes): at a low rate, fewer and fuller commits.
	linger time.Duration

	mu      sync.Mutex
	leading bool // a call is leading: it commits, or has been told to
	waiting []*groupCall[P, R]
}

type groupCall[P, R any] struct {
	ctx  context.Context
	ps   []P
	rs   []R
	err  error
	done bool
	// wake gets true when the call is done, false when it is to lead.
	wake chan bool
}

func newGroupCommit[P, R any](do func(context.Context, []P) ([]R, error), limit int) *groupCommit[P, R] {
	return &groupCommit[P, R]{do: do, max: limit}
}

// run commits ps, alone or together with concurrent calls, and returns what the
// store returned for them. A call whose ctx has ended by the time its turn comes
// is not committed and gets the context's error; once its items are in a
// commit, that commit decides.
func (g *groupCommit[P, R]) run(ctx context.Context, ps []P) ([]R, error) {
	if len(ps) == 0 {
		return nil, nil
	}
	c := &groupCall[P, R]{ctx: ctx, ps: ps, wake: make(chan bool, 1)}
	g.mu.Lock()
	g.waiting = append(g.waiting, c)
	if g.leading {
		g.mu.Unlock()
		if done := <-c.wake; done {
			return c.rs, c.err
		}
		g.mu.Lock() // we lead now
	} else {
		g.leading = true
	}
	for !c.done {
		if g.linger > 0 && g.queued() < g.max/2 {
			g.mu.Unlock()
			time.Sleep(g.linger)
			g.mu.Lock()
		}
		batch := g.take()
		g.mu.Unlock()
		g.commit(batch)
		g.mu.Lock()
	}
	// Hand the lead to the oldest waiting call (it stays queued; its batch is
	// the next), or let the next caller take it.
	if len(g.waiting) > 0 {
		g.waiting[0].wake <- false
	} else {
		g.leading = false
	}
	g.mu.Unlock()
	return c.rs, c.err
}

// queued counts the items waiting; the caller holds mu.
func (g *groupCommit[P, R]) queued() int {
	n := 0
	for _, c := range g.waiting {
		n += len(c.ps)
	}
	return n
}

// take removes from the front of the queue the calls of the next batch: at
// least one, and more while they fit in max. The caller holds mu.
func (g *groupCommit[P, R]) take() []*groupCall[P, R] {
	n, k := 0, 0
	for k < len(g.waiting) && (k == 0 || n+len(g.waiting[k].ps) <= g.max) {
		n += len(g.waiting[k].ps)
		k++
	}
	batch := g.waiting[:k:k]
	g.waiting = g.waiting[k:]
	return batch
}

// commit makes one store call for the batch and hands each call its results.
// Calls whose context ended while they waited are left out. When a call of
// several fails for another reason than the store being unavailable, each call
// is retried alone, so one bad item cannot fail the others.
func (g *groupCommit[P, R]) commit(batch []*groupCall[P, R]) {
	live := batch[:0:0]
	for _, c := range batch {
		if err := c.ctx.Err(); err != nil {
			g.finish(c, nil, err)
			continue
		}
		live = append(live, c)
	}
	if len(live) == 0 {
		return
	}
	if len(live) == 1 {
		c := live[0]
		rs, err := g.do(c.ctx, c.ps)
		g.finish(c, rs, err)
		return
	}
	var ps []P
	for _, c := range live {
		ps = append(ps, c.ps...)
	}
	// The commit serves callers other than the one whose goroutine runs it: one
	// of them going away must not abort the others' commit.
	ctx := context.WithoutCancel(live[0].ctx)
	rs, err := g.do(ctx, ps)
	if err != nil && !errors.Is(err, store.ErrUnavailable) {
		for _, c := range live {
			rs, err := g.do(context.WithoutCancel(c.ctx), c.ps)
			g.finish(c, rs, err)
		}
		return
	}
	off := 0
	for _, c := range live {
		if err != nil {
			g.finish(c, nil, err)
			continue
		}
		g.finish(c, rs[off:off+len(c.ps):off+len(c.ps)], nil)
		off += len(c.ps)
	}
}

// finish records a call's outcome and wakes it, unless it is the leader (whose
// loop sees done itself).
func (g *groupCommit[P, R]) finish(c *groupCall[P, R], rs []R, err error) {
	g.mu.Lock()
	c.rs, c.err, c.done = rs, err, true
	g.mu.Unlock()
	select {
	case c.wake <- true:
	default:
	}
}

// writeVia makes a store call of one kind out of a group of store.Writer calls:
// its items are wrapped into Writes and the results unwrapped.
func writeVia[P, R any](g *groupCommit[store.Write, store.WriteResult], wrap func(*P) store.Write, unwrap func(store.WriteResult) R) func(context.Context, []P) ([]R, error) {
	return func(ctx context.Context, ps []P) ([]R, error) {
		ws := make([]store.Write, len(ps))
		for i := range ps {
			ws[i] = wrap(&ps[i])
		}
		rs, err := g.run(ctx, ws)
		if err != nil {
			return nil, err
		}
		out := make([]R, len(rs))
		for i, r := range rs {
			out[i] = unwrap(r)
		}
		return out, nil
	}
}
