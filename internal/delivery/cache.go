package delivery

import (
	"context"
	"sync"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

// webhookCache keeps webhooks in memory so that neither a publish nor an attempt
// reads them from the database each time. Writes made through this process
// invalidate it at once; the TTL bounds staleness for anything else.
type webhookCache struct {
	store store.Store
	ttl   time.Duration

	mu      sync.Mutex
	gen     uint64 // bumped by invalidate; a load begun before it is not stored
	tenants map[string]cachedTenant
	byID    map[string]cachedWebhook
}

type cachedTenant struct {
	webhooks []*hookline.Webhook
	at       time.Time
}

type cachedWebhook struct {
	webhook *hookline.Webhook
	at      time.Time
}

func newWebhookCache(s store.Store, ttl time.Duration) *webhookCache {
	return &webhookCache{store: s, ttl: ttl, tenants: map[string]cachedTenant{}, byID: map[string]cachedWebhook{}}
}

// active returns the active webhooks of tenant.
func (c *webhookCache) active(ctx context.Context, tenant string) ([]*hookline.Webhook, error) {
	c.mu.Lock()
	ent, ok := c.tenants[tenant]
	gen := c.gen
	c.mu.Unlock()
	if ok && time.Since(ent.at) < c.ttl {
		return ent.webhooks, nil
	}
	list, err := c.store.WebhookListActive(ctx, tenant)
	if err != nil {
		return nil, err
	}
	whs := make([]*hookline.Webhook, len(list))
	for i := range list {
		whs[i] = &list[i]
	}
	c.mu.Lock()
	if c.gen == gen {
		c.tenants[tenant] = cachedTenant{webhooks: whs, at: time.Now()}
	}
	c.mu.Unlock()
	return whs, nil
}

// get returns one webhook, active or not; store.ErrNotFound when deleted.
func (c *webhookCache) get(ctx context.Context, id string) (*hookline.Webhook, error) {
	c.mu.Lock()
	ent, ok := c.byID[id]
	gen := c.gen
	c.mu.Unlock()
	if ok && time.Since(ent.at) < c.ttl {
		return ent.webhook, nil
	}
	wh, err := c.store.WebhookGet(ctx, id)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.gen == gen {
		if len(c.byID) > 100_000 {
			clear(c.byID)
		}
		c.byID[id] = cachedWebhook{webhook: wh, at: time.Now()}
	}
	c.mu.Unlock()
	return wh, nil
}

// invalidate forgets a webhook and its tenant's list.
func (c *webhookCache) invalidate(id, tenant string) {
	c.mu.Lock()
	c.gen++
	delete(c.byID, id)
	delete(c.tenants, tenant)
	c.mu.Unlock()
}

// clear forgets everything (after a lost connection to the other nodes).
func (c *webhookCache) clear() {
	c.mu.Lock()
	c.gen++
	clear(c.byID)
	clear(c.tenants)
	c.mu.Unlock()
}
