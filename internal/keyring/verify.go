package keyring

import (
	"context"
	"errors"
	"math"
	"sync"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/keyspace"
	"github.com/hookline/hookline/internal/store"
)

// VerifyRequest asks what a key is worth for one request of the product's API.
type VerifyRequest struct {
	Key string
	// Keyspace, when set, is the only key space the key may be of: a key of
	// another one is NOT_FOUND.
	Keyspace string
	// Permissions the request needs, all of them.
	Permissions []string
	// Resource the request acts on; a key limited to resources must list it.
	Resource string
	// Tenant, when set, is the only tenant the key may be of: a key of
	// another one is NOT_FOUND (the verifier is a Hookline key limited to a
	// tenant, which must learn nothing of other tenants' keys).
	Tenant string
}

// Verification is what a key is worth: Valid with CodeValid, or the code
// that says why not. A key that exists is described whatever its code.
type Verification struct {
	Valid       bool              `json:"valid"`
	Code        string            `json:"code"`
	KeyID       string            `json:"key_id,omitempty"`
	Keyspace    string            `json:"keyspace,omitempty"`
	Tenant      string            `json:"tenant,omitempty"`
	Name        string            `json:"name,omitempty"`
	Permissions []string          `json:"permissions,omitempty"`
	Resources   []string          `json:"resources,omitempty"`
	Meta        map[string]string `json:"meta,omitempty"`
	ExpiresAt   *time.Time        `json:"expires_at,omitempty"`
	// RateLimit is the key's allowance after this request, when it has a
	// limit and the key is otherwise valid.
	RateLimit *RateLimitState `json:"rate_limit,omitempty"`
}

// RateLimitState is a key's allowance after a request.
type RateLimitState struct {
	Limit     int `json:"limit"`
	Remaining int `json:"remaining"`
	// Reset is the number of seconds until the allowance is whole again.
	Reset int `json:"reset"`
	// RetryAfter is, for a request refused (RATE_LIMITED), the number of
	// seconds until one would be allowed.
	RetryAfter int    `json:"retry_after,omitempty"`
	Window     string `json:"window"`
	Per        string `json:"per"`
}

// Verify says what req.Key is worth. A valid verification counts one request
// against the key's rate limit. The error is only the store's: a key that is
// not one, or not known, is a Verification with CodeNotFound.
func (r *Ring) Verify(ctx context.Context, req VerifyRequest) (*Verification, error) {
	notFound := &Verification{Code: keyspace.CodeNotFound}
	prefix, ok := keyspace.ParseKey(req.Key)
	if !ok {
		return notFound, nil // no lookup for what is not a key
	}
	e, err := r.cache.get(ctx, r.hasher.Hash(req.Key))
	if err != nil {
		return nil, err
	}
	if e.key == nil || e.ks.Prefix != prefix || req.Keyspace != "" && e.key.Keyspace != req.Keyspace ||
		req.Tenant != "" && e.key.Tenant != req.Tenant {
		return notFound, nil
	}
	k, now := e.key, r.now()
	v := &Verification{
		Code: k.Judge(now, req.Permissions, req.Resource), KeyID: k.ID, Keyspace: k.Keyspace, Tenant: k.Tenant, Name: k.Name,
		Permissions: k.Permissions, Resources: k.Resources, Meta: k.Meta, ExpiresAt: k.ExpiresAt,
	}
	if v.Code != keyspace.CodeValid {
		return v, nil
	}
	if lim := k.Limit(e.ks); lim != nil {
		window := time.Duration(lim.Window)
		ok, left, wait, err := r.limits.take(ctx, k.Bucket(lim), lim.Limit, window, now)
		if err != nil {
			return nil, err
		}
		refill := float64(window) / float64(lim.Limit) // per token
		v.RateLimit = &RateLimitState{
			Limit: lim.Limit, Remaining: int(math.Floor(left)), Window: lim.Window.String(), Per: lim.Per,
			Reset: ceilSeconds(time.Duration((float64(lim.Limit) - left) * refill)),
		}
		if !ok {
			v.Code = keyspace.CodeRateLimited
			v.RateLimit.RetryAfter = max(ceilSeconds(wait), 1)
			return v, nil
		}
	}
	v.Valid = true
	r.touch(k.ID, now)
	return v, nil
}

func ceilSeconds(d time.Duration) int {
	return int(math.Ceil(d.Seconds()))
}

// touch notes that key id was used at t; Run writes it.
func (r *Ring) touch(id string, t time.Time) {
	r.touchMu.Lock()
	if len(r.touched) < maxTouched {
		r.touched[id] = t
	}
	r.touchMu.Unlock()
}

// maxTouched bounds the last-used times kept between two writes.
const maxTouched = 100_000

// touchEvery is how often last-used times are written: a key's last use is
// at most that old, and a key used a thousand times a second costs one
// write a minute.
const touchEvery = time.Minute

// Run writes last-used times every touchEvery until ctx ends, then once more.
func (r *Ring) Run(ctx context.Context) {
	t := time.NewTicker(touchEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			wctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			r.flushTouches(wctx)
			cancel()
			return
		case <-t.C:
			r.flushTouches(ctx)
		}
	}
}

// flushTouches writes the last-used times noted since the last write.
func (r *Ring) flushTouches(ctx context.Context) {
	r.touchMu.Lock()
	used := r.touched
	r.touched = map[string]time.Time{}
	r.touchMu.Unlock()
	if len(used) == 0 {
		return
	}
	if err := r.store.KeyTouch(ctx, used); err != nil {
		r.log.Warn("recording when keys were last used failed", "keys", len(used), "err", err)
	}
}

// cacheTTL is how long a key's record is used before it is read again: a
// key revoked or rolled on one node is refused by every node within it.
const cacheTTL = 500 * time.Millisecond

// maxCached bounds the records cached; past it the cache starts over.
const maxCached = 100_000

// keyCache holds key records by hash for a short while, so that a product
// API's every request does not read the store. An unknown key is cached too.
// Key spaces are cached beside them, by name, for as long. When a record is
// stale, one request reads it again while the others of that key wait for
// that read rather than making their own.
type keyCache struct {
	r   *Ring
	ttl time.Duration
	mu  sync.Mutex
	m   map[string]cached
	ks  map[string]cachedSpace
	// reading holds, per hash, the read in flight; closed when it is done.
	reading map[string]chan struct{}
}

type cached struct {
	key  *keyspace.Key      // nil: no such key
	ks   *keyspace.Keyspace // the key's key space
	read time.Time
}

type cachedSpace struct {
	ks   *keyspace.Keyspace // nil: no such key space
	read time.Time
}

func newKeyCache(r *Ring, ttl time.Duration) *keyCache {
	return &keyCache{r: r, ttl: ttl, m: map[string]cached{}, ks: map[string]cachedSpace{}, reading: map[string]chan struct{}{}}
}

// get returns the record of the key whose hash is h, read again when older
// than the TTL.
func (c *keyCache) get(ctx context.Context, h []byte) (cached, error) {
	id := string(h)
	for {
		now := time.Now()
		c.mu.Lock()
		e, ok := c.m[id]
		if ok && now.Sub(e.read) < c.ttl {
			c.mu.Unlock()
			return e, nil
		}
		wait, busy := c.reading[id]
		if !busy {
			done := make(chan struct{})
			c.reading[id] = done
			c.mu.Unlock()
			e, err := c.load(ctx, h, now)
			c.mu.Lock()
			delete(c.reading, id)
			if err == nil {
				if len(c.m) >= maxCached {
					clear(c.m)
				}
				c.m[id] = e
			}
			c.mu.Unlock()
			close(done)
			return e, err
		}
		c.mu.Unlock()
		select {
		case <-wait: // read by another request: look again
		case <-ctx.Done():
			return cached{}, ctx.Err()
		}
	}
}

// load reads the record of the key whose hash is h, and its key space.
func (c *keyCache) load(ctx context.Context, h []byte, now time.Time) (cached, error) {
	e := cached{read: now}
	k, err := c.r.store.KeyGetByHash(ctx, h)
	switch {
	case errors.Is(err, hookline.ErrNotFound):
		return e, nil
	case err != nil:
		return e, err
	}
	ks, err := c.keyspace(ctx, k.Keyspace, now)
	if err != nil || ks == nil { // a key whose key space is gone is gone
		return e, err
	}
	e.key, e.ks = k, ks
	return e, nil
}

// keyspace returns a key space by name, from the cache when it is fresh;
// nil when there is none.
func (c *keyCache) keyspace(ctx context.Context, name string, now time.Time) (*keyspace.Keyspace, error) {
	c.mu.Lock()
	s, ok := c.ks[name]
	c.mu.Unlock()
	if ok && now.Sub(s.read) < c.ttl {
		return s.ks, nil
	}
	ks, err := c.r.Keyspace(ctx, name)
	switch {
	case errors.Is(err, hookline.ErrNotFound):
		ks = nil
	case err != nil:
		return nil, err
	}
	c.mu.Lock()
	if len(c.ks) >= maxCached {
		clear(c.ks)
	}
	c.ks[name] = cachedSpace{ks: ks, read: now}
	c.mu.Unlock()
	return ks, nil
}

// forget drops a key's record: this node changed it.
func (c *keyCache) forget(h []byte) {
	c.mu.Lock()
	delete(c.m, string(h))
	c.mu.Unlock()
}

// clear drops every record (a key space changed on this node).
func (c *keyCache) clear() {
	c.mu.Lock()
	clear(c.m)
	clear(c.ks)
	c.mu.Unlock()
}

// limiter takes a token from a bucket: in this process (one node), or in the
// store, shared by the nodes.
type limiter interface {
	take(ctx context.Context, id string, limit int, window time.Duration, now time.Time) (ok bool, left float64, wait time.Duration, err error)
}

// sharedLimiter counts in the store, so a key's limit holds across nodes.
type sharedLimiter struct{ rl store.RateLimiter }

func (s sharedLimiter) take(ctx context.Context, id string, limit int, window time.Duration, now time.Time) (bool, float64, time.Duration, error) {
	return s.rl.RateLimitTake(ctx, id, 1, limit, window, now)
}

// localLimiter is token buckets in memory, for a single node.
type localLimiter struct {
	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLocalLimiter() *localLimiter { return &localLimiter{buckets: map[string]*bucket{}} }

func (l *localLimiter) take(_ context.Context, id string, limit int, window time.Duration, now time.Time) (bool, float64, time.Duration, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[id]
	if b == nil {
		if len(l.buckets) >= maxCached {
			clear(l.buckets)
		}
		b = &bucket{tokens: float64(limit), last: now}
		l.buckets[id] = b
	}
	rate := float64(limit) / window.Seconds()
	if now.After(b.last) {
		b.tokens = min(float64(limit), b.tokens+now.Sub(b.last).Seconds()*rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, b.tokens, 0, nil
	}
	return false, b.tokens, time.Duration((1 - b.tokens) / rate * float64(time.Second)), nil
}
