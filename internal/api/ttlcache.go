package api

import (
	"context"
	"sync"
	"time"
)

// ttlCache keeps what load returns, by key, for ttl, so that a busy route
// does not read the store on every request: a change made on another node
// shows within ttl, and one made here is forgotten at once. What load fails
// on is not kept. Past maxCached entries it starts again empty.
type ttlCache[V any] struct {
	ttl  time.Duration
	load func(ctx context.Context, key string) (V, error)

	mu sync.Mutex
	m  map[string]cachedValue[V]
}

type cachedValue[V any] struct {
	v  V
	at time.Time
}

const maxCached = 10_000

func newTTLCache[V any](ttl time.Duration, load func(ctx context.Context, key string) (V, error)) *ttlCache[V] {
	return &ttlCache[V]{ttl: ttl, load: load, m: map[string]cachedValue[V]{}}
}

// get returns key's value: kept, or loaded now.
func (c *ttlCache[V]) get(ctx context.Context, key string) (V, error) {
	c.mu.Lock()
	ent, ok := c.m[key]
	c.mu.Unlock()
	if ok && time.Since(ent.at) < c.ttl {
		return ent.v, nil
	}
	v, err := c.load(ctx, key)
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	if len(c.m) > maxCached {
		clear(c.m)
	}
	c.m[key] = cachedValue[V]{v: v, at: time.Now()}
	c.mu.Unlock()
	return v, nil
}

// forget drops the values for which drop says so.
func (c *ttlCache[V]) forget(drop func(key string, v V) bool) {
	c.mu.Lock()
	for k, ent := range c.m {
		if drop(k, ent.v) {
			delete(c.m, k)
		}
	}
	c.mu.Unlock()
}
