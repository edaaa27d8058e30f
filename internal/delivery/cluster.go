package delivery

import (
	"context"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/store"
)

// The engine's side of running several nodes on one database: when the store is
// a store.Notifier, nodes tell each other about work that may be due and about
// webhook and profile changes, so that neither waits for a poll or a cache TTL.

// notifier returns the store's Notifier, or nil on a single-node store.
func (e *Engine) notifier() store.Notifier {
	n, _ := e.o.Store.(store.Notifier)
	return n
}

// broadcast sends a message to every node; failures only cost promptness (polls
// and TTLs still converge), so they are logged, not returned.
func (e *Engine) broadcast(topic, payload string) {
	n := e.notifier()
	if n == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := n.Notify(ctx, topic, payload); err != nil {
		e.log.Warn("notifying the other nodes failed; they will catch up at their next poll", "topic", topic, "err", err)
	}
}

// listen applies other nodes' messages until ctx ends.
func (e *Engine) listen(ctx context.Context, n store.Notifier) {
	defer close(e.listenDone)
	err := n.Listen(ctx, func(topic, payload string) {
		switch topic {
		case store.TopicWork:
			e.Notify()
		case store.TopicWebhook:
			id, tenant, _ := strings.Cut(payload, " ")
			e.cache.invalidate(id, tenant)
		case store.TopicProfile:
			e.o.Profiles.Invalidate(payload)
		case store.TopicReconnected:
			// Messages may have been missed while disconnected.
			e.cache.clear()
			e.o.Profiles.InvalidateAll()
			e.Notify()
		}
	})
	if err != nil && ctx.Err() == nil {
		e.log.Error("listening to the other nodes stopped", "err", err)
	}
}

// ProfileChanged must be called after a profile is created, changed or deleted
// through this node.
func (e *Engine) ProfileChanged(name string) {
	e.o.Profiles.Invalidate(name)
	e.broadcast(store.TopicProfile, name)
}
