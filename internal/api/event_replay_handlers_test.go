package api_test

import (
	"bytes"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/config"
	"github.com/hookline/hookline/webhook"
)

// replayed returns the delivery ids a replay answer queued, sorted, and its
// skipped deliveries as delivery id → reason.
func replayed(t *testing.T, r response) ([]string, map[string]string) {
	t.Helper()
	var ids []string
	for _, d := range r.objects("replayed") {
		if d["status"] != "pending" {
			t.Errorf("a replayed delivery: got %v, want it pending", d)
		}
		ids = append(ids, d["id"].(string))
	}
	slices.Sort(ids)
	skipped := map[string]string{}
	for _, s := range r.objects("skipped") {
		skipped[s["delivery_id"].(string)], _ = s["reason"].(string)
	}
	if _, ok := r.body["skipped"].([]any); !ok {
		t.Errorf("replay answer %s: skipped is not a list", r.raw)
	}
	return ids, skipped
}

// A replay sends an event again through its existing deliveries: to every
// webhook that is active and still subscribed, or to the one named; a
// delivery still pending is left alone, so that a repeated replay does not
// send twice what is on its way.
func TestEventReplay(t *testing.T) {
	onEachDriver(t, func(t *testing.T, setup setupFunc) {
		fx := setup(t, func(c *config.Config) { c.RetrySchedule = []time.Duration{0, time.Hour, time.Hour, time.Hour} })
		rc := fx.receiver()
		_, acme := fx.createKey(t, obj{"name": "acme", "tenant": "acme", "scopes": []string{"events:read", "events:write", "deliveries:read", "deliveries:write"}})
		_, globex := fx.createKey(t, obj{"name": "globex", "tenant": "globex", "scopes": []string{"events:read", "deliveries:write"}})
		_, reader := fx.createKey(t, obj{"name": "reader", "tenant": "acme", "scopes": []string{"events:read", "deliveries:read"}})
		hook := func(tenant, path string) string {
			return fx.createWebhook(t, fx.admin, obj{"url": rc.url + path, "tenant": tenant, "events": []string{"order.*"}}).str("id")
		}
		a, b, off, moved, slow := hook("acme", "/a"), hook("acme", "/b"), hook("acme", "/off"), hook("acme", "/moved"), hook("acme", "/slow")
		rc.respond("/slow", http.StatusInternalServerError) // retried in an hour: pending meanwhile

		ev := fx.publish(t, acme, obj{"type": "order.created", "data": obj{"n": 1}})
		path := "/v1/events/" + ev.str("id") + "/replay"
		dlv := map[string]string{} // webhook → its delivery of ev
		for _, d := range ev.objects("deliveries") {
			dlv[d["webhook_id"].(string)] = d["id"].(string)
		}
		for _, w := range []string{a, b, off, moved} {
			fx.waitDelivery(t, dlv[w], "succeeded")
		}
		fx.waitAttempts(t, dlv[slow], 1)
		fx.do(t, "PATCH", "/v1/webhooks/"+off, fx.admin, obj{"active": false}).must(t, http.StatusOK)
		fx.do(t, "PATCH", "/v1/webhooks/"+moved, fx.admin, obj{"events": []string{"invoice.*"}}).must(t, http.StatusOK)
		late := hook("acme", "/late") // created after the event
		theirs := hook("globex", "/theirs")

		// To all: the active webhooks still subscribed, but not the pending one.
		rc.respond("/a", http.StatusInternalServerError) // a's replay fails: pending for an hour
		all := fx.do(t, "POST", path, acme, nil).must(t, http.StatusAccepted)
		ids, skipped := replayed(t, all)
		if want := slices.Sorted(slices.Values([]string{dlv[a], dlv[b]})); !slices.Equal(ids, want) || all.str("event_id") != ev.str("id") {
			t.Errorf("replay to all: got replayed %v, want %v", ids, want)
		}
		if want := map[string]string{dlv[off]: "disabled", dlv[moved]: "unsubscribed", dlv[slow]: "pending"}; !maps.Equal(skipped, want) {
			t.Errorf("replay to all: got skipped %v, want %v", skipped, want)
		}
		fx.waitAttempts(t, dlv[a], 2)
		fx.waitAttempts(t, dlv[b], 2)
		fx.waitDelivery(t, dlv[b], "succeeded")
		got := rc.requests("/b")
		if len(got) != 2 || got[0].header.Get(webhook.HeaderID) != got[1].header.Get(webhook.HeaderID) || !bytes.Equal(got[0].body, got[1].body) {
			t.Errorf("a replay sends the same message again: got %d requests at /b", len(got))
		}

		// Again: what is on its way (a, slow) is left alone.
		before := fx.do(t, "GET", "/v1/deliveries/"+dlv[a], fx.admin, nil).must(t, http.StatusOK)
		again := fx.do(t, "POST", path, acme, obj{}).must(t, http.StatusAccepted)
		ids, skipped = replayed(t, again)
		if !slices.Equal(ids, []string{dlv[b]}) || skipped[dlv[a]] != "pending" || skipped[dlv[slow]] != "pending" {
			t.Errorf("replay to all again: got replayed %v skipped %v, want %s replayed and %s, %s pending", ids, skipped, dlv[b], dlv[a], dlv[slow])
		}
		if after := fx.do(t, "GET", "/v1/deliveries/"+dlv[a], fx.admin, nil).must(t, http.StatusOK); after.str("next_attempt_at") != before.str("next_attempt_at") || after.body["attempt_count"] != 2.0 {
			t.Errorf("a pending delivery after a replay: got %s, want it unchanged: %s", after.raw, before.raw)
		}
		fx.waitAttempts(t, dlv[b], 3)

		// To one webhook: sent even if it no longer subscribes, since it is named.
		one := fx.do(t, "POST", path, acme, obj{"webhook_id": moved}).must(t, http.StatusAccepted)
		if ids, skipped := replayed(t, one); !slices.Equal(ids, []string{dlv[moved]}) || len(skipped) != 0 {
			t.Errorf("replay to %s: got replayed %v skipped %v, want %s only", moved, ids, skipped, dlv[moved])
		}
		fx.waitAttempts(t, dlv[moved], 2)
		pending := fx.do(t, "POST", path, acme, obj{"webhook_id": slow}).must(t, http.StatusAccepted)
		if ids, skipped := replayed(t, pending); len(ids) != 0 || skipped[dlv[slow]] != "pending" {
			t.Errorf("replay to a webhook whose delivery is pending: got replayed %v skipped %v, want it skipped, pending", ids, skipped)
		}

		// Refused, changing nothing.
		disabled := fx.do(t, "POST", path, acme, obj{"webhook_id": off})
		disabled.problem(t, http.StatusConflict, "")
		if disabled.str("type") != "urn:hookline:problem:webhook-disabled" {
			t.Errorf("replay to a disabled webhook: got type %q, want urn:hookline:problem:webhook-disabled", disabled.str("type"))
		}
		for _, w := range []string{late, theirs, "wh_01doesnotexist0000000000000"} {
			fx.do(t, "POST", path, acme, obj{"webhook_id": w}).problem(t, http.StatusUnprocessableEntity, "webhook_id")
		}
		fx.do(t, "POST", path, acme, obj{"webhook_id": 5}).problem(t, http.StatusBadRequest, "webhook_id")
		fx.do(t, "POST", path, acme, obj{"webhook": a}).problem(t, http.StatusBadRequest, "webhook")
		fx.do(t, "POST", path, reader, nil).problem(t, http.StatusForbidden, "")
		absent := fx.do(t, "POST", "/v1/events/evt_01doesnotexist0000000000000/replay", globex, nil)
		absent.problem(t, http.StatusNotFound, "")
		for _, body := range []any{nil, obj{"webhook_id": a}} {
			r := fx.do(t, "POST", path, globex, body)
			r.problem(t, http.StatusNotFound, "")
			if r.str("detail") != absent.str("detail") {
				t.Errorf("another tenant's event: got detail %q, want %q as for one that does not exist", r.str("detail"), absent.str("detail"))
			}
		}
		fx.checkDeliveries(t, "after refused replays", []string{dlv[off]}, "succeeded", 1)
		fx.checkDeliveries(t, "after refused replays", []string{dlv[slow]}, "pending", 1)
		if n := len(rc.requests("/late")) + len(rc.requests("/theirs")) + len(rc.requests("/off")); n != 1 {
			t.Errorf("webhooks a replay must not reach got %d requests, want 1 (off's first delivery)", n)
		}

		// A test send's event has no delivery to replay.
		test := fx.do(t, "POST", "/v1/webhooks/"+b+"/test", fx.admin, nil).must(t, http.StatusOK)
		r := fx.do(t, "POST", "/v1/events/"+test.str("event_id")+"/replay", fx.admin, nil).must(t, http.StatusAccepted)
		if ids, skipped := replayed(t, r); len(ids) != 0 || len(skipped) != 0 {
			t.Errorf("replay of a test event: got %s, want nothing replayed or skipped", r.raw)
		}
		fx.do(t, "POST", "/v1/events/"+test.str("event_id")+"/replay", fx.admin, obj{"webhook_id": b}).problem(t, http.StatusUnprocessableEntity, "webhook_id")
	})
}

// waitAttempts polls a delivery until it has made n attempts and is not
// leased for another.
func (fx *fixture) waitAttempts(t *testing.T, id string, n int) {
	t.Helper()
	var r response
	eventually(t, func() bool {
		r = fx.do(t, "GET", "/v1/deliveries/"+id, fx.admin, nil).must(t, http.StatusOK)
		return r.body["attempt_count"] == float64(n) && len(r.objects("attempts")) == n
	}, func() string { return fmt.Sprintf("delivery %s: got %s, want %d attempts", id, r.raw, n) })
}
