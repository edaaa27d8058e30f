package delivery

import (
	"context"
	"net/url"
	"strings"

	"github.com/hookline/hookline/internal/hookline"
)

// TestUnsaved sends a test event now, synchronously, to wh, a webhook that is
// not stored (a URL being checked before it is saved: its ID is empty), and
// returns the attempt. It goes through the same sender (the address guard,
// the profile's timeout) and the same test-send bound as Test, per target
// host instead of per webhook. Nothing is stored: neither the event nor the
// attempt, whose event id and id only name what was sent.
func (e *Engine) TestUnsaved(ctx context.Context, wh *hookline.Webhook, te TestEvent) (*hookline.Attempt, error) {
	prof, ev, done, err := e.testEvent(ctx, "url:"+targetHost(wh.URL), wh, te)
	if err != nil {
		return nil, err
	}
	defer done()
	a := &hookline.Attempt{
		ID: hookline.NewID(hookline.PrefixAttempt), EventID: ev.ID,
		EventType: ev.Type, Tenant: wh.Tenant, Number: 1, StartedAt: ev.Timestamp,
	}
	e.send(ctx, prof, wh, ev, hookline.NewID(hookline.PrefixDelivery), a)
	return a, nil
}

// targetHost is the host (and port) of a target URL, lower case, which the
// test-send bound counts unsaved targets by; the whole URL if it has none.
func targetHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return raw
	}
	return strings.ToLower(u.Host)
}
