package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/hookline/hookline/internal/config"
	"github.com/hookline/hookline/webhook"
)

func TestPublishDeliversDataByteForByte(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	rc := fx.receiver()
	wh := fx.createWebhook(t, fx.admin, obj{"url": rc.url + "/in", "events": []string{"*"}, "headers": obj{"X-Custom": "yes"}})
	verifier, err := webhook.NewStandard(wh.str("secret"))
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, data string
	}{
		{"object", `{
			"z": 1.0,
			"a": {"price": 0.10, "big": 1e3, "neg": -0.0, "list": [1.50, 2, 3.000]},
			"name": "Zoë \u00e9 日本語 ✓ 🎉",
			"escaped": "tab\there \"quoted\" \/slash",
			"nested": {"b": true, "a": null}
		}`},
		{"array", `[1.0, "two", {"k": 0.10}]`},
		{"string", `"just a string"`},
		{"number", `100.000`},
		{"null", `null`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want bytes.Buffer
			if err := json.Compact(&want, []byte(tt.data)); err != nil {
				t.Fatal(err)
			}
			req := `{"type": "invoice.paid", "timestamp": "2024-05-01T12:00:00Z", "data": ` + tt.data + `}`
			ev := fx.do(t, "POST", "/v1/events", fx.admin, req).must(t, http.StatusAccepted)
			id := ev.str("id")
			if !strings.HasPrefix(id, "evt_") || ev.body["duplicate"] != false || ev.str("tenant") != "default" {
				t.Errorf("got %s, want a new evt_… in tenant default", ev.raw)
			}
			if ds := ev.objects("deliveries"); len(ds) != 1 || ds[0]["webhook_id"] != wh.str("id") {
				t.Errorf("got deliveries %v, want one to %s", ev.body["deliveries"], wh.str("id"))
			}

			var got received
			eventually(t, func() bool {
				for _, d := range rc.requests("/in") {
					if d.header.Get("webhook-id") == id {
						got = d
						return true
					}
				}
				return false
			}, func() string { return "event " + id + " was never delivered" })

			if err := verifier.Verify(got.body, got.header); err != nil {
				t.Errorf("signature does not verify: %v", err)
			}
			if ct := got.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("got Content-Type %q, want application/json", ct)
			}
			if got.header.Get("X-Custom") != "yes" {
				t.Errorf("the webhook's custom header is missing: %v", got.header)
			}
			env := decodeEnvelope(t, got.body)
			if env.ID != id || env.Event != "invoice.paid" || env.Timestamp != "2024-05-01T12:00:00Z" {
				t.Errorf("got envelope id=%q event=%q timestamp=%q, want %q invoice.paid 2024-05-01T12:00:00Z", env.ID, env.Event, env.Timestamp, id)
			}
			if !bytes.Equal(env.Data, want.Bytes()) {
				t.Errorf("delivered data:\n got %s\nwant %s", env.Data, want.Bytes())
			}

			var stored struct{ Data json.RawMessage }
			r := fx.do(t, "GET", "/v1/events/"+id, fx.admin, nil).must(t, http.StatusOK)
			if err := json.Unmarshal(r.raw, &stored); err != nil || !bytes.Equal(stored.Data, want.Bytes()) {
				t.Errorf("GET /v1/events/%s data:\n got %s\nwant %s", id, stored.Data, want.Bytes())
			}
		})
	}

	invalid := []struct {
		name   string
		body   any
		status int
		field  string
	}{
		{"no type", obj{"data": obj{}}, 422, "type"},
		{"bad type", obj{"type": "invoice paid", "data": obj{}}, 422, "type"},
		{"no data", obj{"type": "invoice.paid"}, 422, "data"},
		{"bad timestamp", obj{"type": "invoice.paid", "data": obj{}, "timestamp": "yesterday"}, 400, "timestamp"},
		{"unknown field", obj{"type": "invoice.paid", "data": obj{}, "event": "x"}, 400, "event"},
	}
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) {
			fx.do(t, "POST", "/v1/events", fx.admin, tt.body).problem(t, tt.status, tt.field)
		})
	}
}

func TestEventFilters(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	rc := fx.receiver()
	subs := []struct {
		path   string
		events []string
		active bool
		want   []string // event types it must receive
	}{
		{"/prefix", []string{"invoice.*"}, true, []string{"invoice.created", "invoice.paid"}},
		{"/star", []string{"*"}, true, []string{"customer.deleted", "invoice.created", "invoice.item.added", "invoice.paid"}},
		{"/exact", []string{"invoice.paid"}, true, []string{"invoice.paid"}},
		{"/empty", []string{}, true, []string{"customer.deleted", "invoice.created", "invoice.item.added", "invoice.paid"}},
		{"/multi", []string{"customer.*", "invoice.paid"}, true, []string{"customer.deleted", "invoice.paid"}},
		{"/other", []string{"customer.created"}, true, nil},
		{"/inactive", []string{"*"}, false, nil},
	}
	pathOf := map[string]string{} // webhook id → path
	for _, s := range subs {
		id := fx.createWebhook(t, fx.admin, obj{"url": rc.url + s.path, "tenant": "shop", "events": s.events, "active": s.active}).str("id")
		pathOf[id] = s.path
	}
	fx.createWebhook(t, fx.admin, obj{"url": rc.url + "/elsewhere", "tenant": "elsewhere", "events": []string{"customer.*"}})

	wantPaths := map[string][]string{} // event type → paths, from subs
	for _, s := range subs {
		for _, e := range s.want {
			wantPaths[e] = append(wantPaths[e], s.path)
		}
	}
	total := 0
	for _, typ := range []string{"invoice.paid", "invoice.created", "customer.deleted", "invoice.item.added"} {
		ev := fx.publish(t, fx.admin, obj{"type": typ, "tenant": "shop", "data": obj{"type": typ}})
		var got []string
		for _, d := range ev.objects("deliveries") {
			got = append(got, pathOf[fmt.Sprint(d["webhook_id"])])
		}
		slices.Sort(got)
		want := slices.Sorted(slices.Values(wantPaths[typ]))
		if !slices.Equal(got, want) {
			t.Errorf("%s: got deliveries to %v, want %v", typ, got, want)
		}
		total += len(want)
	}

	rc.waitFor(t, "", total)
	for _, s := range subs {
		var got []string
		for _, d := range rc.requests(s.path) {
			got = append(got, decodeEnvelope(t, d.body).Event)
		}
		slices.Sort(got)
		if !slices.Equal(got, s.want) {
			t.Errorf("%s %v: received %v, want %v", s.path, s.events, got, s.want)
		}
	}
	if n := len(rc.requests("/elsewhere")); n != 0 {
		t.Errorf("another tenant's webhook received %d of shop's events", n)
	}
}

func TestEventIdempotency(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	rc := fx.receiver()
	wh := fx.createWebhook(t, fx.admin, obj{"url": rc.url + "/idem"}).str("id")

	first := fx.publish(t, fx.admin, obj{"type": "order.created", "data": obj{"n": 1, "m": []int{1, 2}}, "id": "order-42"})
	if first.body["duplicate"] != false || first.str("idempotency_key") != "order-42" || first.header.Get("Idempotent-Replayed") != "" {
		t.Errorf("first publish: got %s (Idempotent-Replayed %q), want a new event keyed order-42", first.raw, first.header.Get("Idempotent-Replayed"))
	}
	// The same event, its data spelt another way, is a replay.
	again := fx.publish(t, fx.admin, obj{"type": "order.created", "data": json.RawMessage(`{ "m": [1, 2], "n": 1 }`), "id": "order-42"})
	if again.str("id") != first.str("id") || again.body["duplicate"] != true || again.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("repeat by id: got %s (Idempotent-Replayed %q), want event %s replayed", again.raw, again.header.Get("Idempotent-Replayed"), first.str("id"))
	}
	if got, want := deliveryIDs(again), deliveryIDs(first); len(want) != 1 || !slices.Equal(got, want) {
		t.Errorf("repeat by id: got deliveries %v, want the original %v", got, want)
	}

	hdr := http.Header{"Idempotency-Key": {"hdr-7"}}
	h1 := fx.doHeader(t, "POST", "/v1/events", fx.admin, obj{"type": "order.created", "data": obj{"n": 3}}, hdr).must(t, http.StatusAccepted)
	h2 := fx.doHeader(t, "POST", "/v1/events", fx.admin, obj{"type": "order.created", "data": obj{"n": 3}}, hdr).must(t, http.StatusAccepted)
	h3 := fx.doHeader(t, "POST", "/v1/events", fx.admin, obj{"type": "order.created", "data": obj{"n": 3}, "id": "hdr-7"}, hdr).must(t, http.StatusAccepted)
	if h1.body["duplicate"] != false || h1.str("idempotency_key") != "hdr-7" {
		t.Errorf("first publish by header: got %s", h1.raw)
	}
	for _, h := range []response{h2, h3} {
		if h.str("id") != h1.str("id") || h.body["duplicate"] != true || h.header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("repeat by header: got %s, want event %s replayed", h.raw, h1.str("id"))
		}
	}
	fx.doHeader(t, "POST", "/v1/events", fx.admin, obj{"type": "order.created", "data": obj{}, "id": "other"}, hdr).
		problem(t, http.StatusUnprocessableEntity, "id")

	// The same key in another tenant is another event.
	if r := fx.publish(t, fx.admin, obj{"type": "order.created", "data": obj{}, "id": "order-42", "tenant": "t2"}); r.str("id") == first.str("id") || r.body["duplicate"] != false {
		t.Errorf("same key, tenant t2: got %s, want a new event", r.raw)
	}

	// Concurrent publishes of one key store one event.
	const n = 8
	results := make([]response, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r, err := fx.send("POST", "/v1/events", fx.admin, obj{"type": "order.created", "data": obj{"race": 1}, "id": "race-1"}, nil)
			if err != nil {
				t.Error(err)
			}
			results[i] = r
		})
	}
	wg.Wait()
	created := 0
	for _, r := range results {
		if r.status != http.StatusAccepted || r.str("id") != results[0].str("id") {
			t.Errorf("concurrent publish: got %d %s, want 202 with event %s", r.status, r.raw, results[0].str("id"))
		}
		if r.body["duplicate"] == false {
			created++
		}
	}
	if created != 1 {
		t.Errorf("concurrent publishes of one key: %d said created, want 1", created)
	}

	want := map[string]string{first.str("id"): `{"m":[1,2],"n":1}`, h1.str("id"): `{"n":3}`, results[0].str("id"): `{"race":1}`}
	got := rc.waitFor(t, "/idem", len(want))
	seen := map[string]int{}
	for _, d := range got {
		env := decodeEnvelope(t, d.body)
		seen[env.ID]++
		if w, ok := want[env.ID]; !ok {
			t.Errorf("received unexpected event %s", env.ID)
		} else if w != "" && string(env.Data) != w {
			t.Errorf("event %s: got data %s, want the first publish's %s", env.ID, env.Data, w)
		}
	}
	for id := range want {
		if seen[id] != 1 {
			t.Errorf("event %s received %d times, want once", id, seen[id])
		}
	}
	if ds := fx.do(t, "GET", "/v1/deliveries?webhook_id="+wh, fx.admin, nil).items(); len(ds) != len(want) {
		t.Errorf("got %d deliveries, want %d", len(ds), len(want))
	}
	if evs := fx.do(t, "GET", "/v1/events?tenant=default", fx.admin, nil).items(); len(evs) != len(want) {
		t.Errorf("got %d events in tenant default, want %d", len(evs), len(want))
	}
}

// An id already used for another event is refused, naming what differs,
// rather than answered with the first event: the publisher's new event would
// otherwise be dropped without a word. Batch items too, and a key repeated
// within one batch.
func TestEventIDReusedForAnotherEvent(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	ts := "2026-01-02T03:04:05.678Z"
	first := fx.publish(t, fx.admin, obj{"type": "order.created", "data": obj{"n": 1}, "id": "order-7", "timestamp": ts})

	for _, c := range []struct {
		name string
		in   obj
		hdr  string
		says string
	}{
		{"other type", obj{"type": "order.paid", "data": obj{"n": 1}, "id": "order-7"}, "", "another type"},
		{"other data", obj{"type": "order.created", "data": obj{"n": 2}, "id": "order-7"}, "", "another data"},
		{"other timestamp", obj{"type": "order.created", "data": obj{"n": 1}, "id": "order-7", "timestamp": "2026-01-02T03:04:06Z"}, "", "another timestamp"},
		{"all differ, by header", obj{"type": "order.paid", "data": obj{}, "timestamp": "2026-01-02T03:04:06Z"}, "order-7", "another type and data and timestamp"},
	} {
		r := fx.doHeader(t, "POST", "/v1/events", fx.admin, c.in, http.Header{"Idempotency-Key": {c.hdr}})
		r.problem(t, http.StatusUnprocessableEntity, "id")
		if d := r.str("detail"); !strings.Contains(d, c.says) || !strings.Contains(d, first.str("id")) {
			t.Errorf("%s: detail %q should name event %s and say %q", c.name, d, first.str("id"), c.says)
		}
		if got := r.str("type"); got != "urn:hookline:problem:idempotency-key-reused" {
			t.Errorf("%s: problem type %q", c.name, got)
		}
	}
	// Leaving the timestamp out is the same event: it took the first one's.
	if r := fx.publish(t, fx.admin, obj{"type": "order.created", "data": obj{"n": 1}, "id": "order-7"}); r.str("id") != first.str("id") {
		t.Errorf("replay without timestamp: got %s", r.raw)
	}

	results := fx.publishBatch(t, fx.admin, []obj{
		{"type": "order.created", "data": obj{"n": 1}, "id": "order-7"},
		{"type": "order.created", "data": obj{"n": 9}, "id": "order-7"},
		{"type": "a.b", "data": obj{"k": 1}, "id": "in-batch"},
		{"type": "a.b", "data": obj{"k": 2}, "id": "in-batch"},
		{"type": "a.b", "data": obj{"k": 1}, "id": "in-batch"},
	})
	for i, want := range []float64{202, 422, 202, 422, 202} {
		if results[i]["status"] != want {
			t.Errorf("batch item %d: got %v, want status %v", i, results[i], want)
		}
	}
	if e, _ := results[3]["error"].(map[string]any); e == nil || e["type"] != "urn:hookline:problem:idempotency-key-reused" {
		t.Errorf("batch item 3: got %v, want an idempotency-key-reused problem", results[3])
	}
	if evs := fx.do(t, "GET", "/v1/events?tenant=default", fx.admin, nil).items(); len(evs) != 2 {
		t.Errorf("got %d events, want 2: nothing refused was stored", len(evs))
	}
}

func TestEventPayloadLimit(t *testing.T) {
	t.Parallel()
	fx := setup(t, func(c *config.Config) { c.MaxPayloadBytes = 64 })
	data := func(n int) string { return `{"s":"` + strings.Repeat("x", n-8) + `"}` } // n bytes compact

	fx.publish(t, fx.admin, obj{"type": "a.b", "data": json.RawMessage(data(64))})
	r := fx.do(t, "POST", "/v1/events", fx.admin, obj{"type": "a.b", "data": json.RawMessage(data(65))})
	r.problem(t, http.StatusRequestEntityTooLarge, "data")
	if !strings.Contains(r.str("detail"), "65") || !strings.Contains(r.str("detail"), "64") {
		t.Errorf("detail %q should say 65 bytes is over the 64 allowed", r.str("detail"))
	}
	// The limit is on the data, not on its insignificant whitespace.
	padded := `{"type":"a.b","data":{"s":` + strings.Repeat(" ", 1000) + `"` + strings.Repeat("x", 56) + `"}}`
	fx.do(t, "POST", "/v1/events", fx.admin, padded).must(t, http.StatusAccepted)

	huge := `{"type":"a.b","data":"` + strings.Repeat("x", 200<<10) + `"}`
	fx.do(t, "POST", "/v1/events", fx.admin, huge).problem(t, http.StatusRequestEntityTooLarge, "")

	if n := len(fx.do(t, "GET", "/v1/events", fx.admin, nil).items()); n != 2 {
		t.Errorf("got %d events stored, want 2", n)
	}
}

func TestOpsTenantIsReserved(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	rc := fx.receiver()
	_, acme := fx.createKey(t, obj{"name": "acme", "tenant": "acme", "scopes": []string{"events:write"}})
	_, opsKey := fx.createKey(t, obj{"name": "ops", "tenant": "_ops", "scopes": []string{"events:write", "events:read"}})

	ev := obj{"type": "delivery.failed", "tenant": "_ops", "data": obj{"forged": true}}
	fx.do(t, "POST", "/v1/events", fx.admin, ev).problem(t, http.StatusUnprocessableEntity, "tenant")
	fx.do(t, "POST", "/v1/events", acme, ev).problem(t, http.StatusForbidden, "tenant")
	fx.do(t, "POST", "/v1/events", opsKey, obj{"type": "delivery.failed", "data": obj{"forged": true}}).
		problem(t, http.StatusUnprocessableEntity, "tenant")

	// Subscribing to _ops is allowed, and receives Hookline's own events.
	fx.createWebhook(t, fx.admin, obj{"url": rc.url + "/ops", "tenant": "_ops", "events": []string{"delivery.failed"}})
	fx.createWebhook(t, fx.admin, obj{"url": rc.url + "/broken"})
	rc.respond("/broken", http.StatusBadRequest)
	pub := fx.publish(t, fx.admin, obj{"type": "invoice.paid", "data": obj{}})
	got := rc.waitFor(t, "/ops", 1)
	env := decodeEnvelope(t, got[0].body)
	var data struct {
		EventID        string `json:"event_id"`
		LastHTTPStatus int    `json:"last_http_status"`
	}
	if err := json.Unmarshal(env.Data, &data); err != nil || env.Event != "delivery.failed" || data.EventID != pub.str("id") || data.LastHTTPStatus != 400 {
		t.Errorf("got ops event %s %s, want delivery.failed of event %s with last_http_status 400", env.Event, env.Data, pub.str("id"))
	}
	evs := fx.do(t, "GET", "/v1/events", opsKey, nil).must(t, http.StatusOK).items()
	if len(evs) != 1 || evs[0]["type"] != "delivery.failed" {
		t.Errorf("_ops events: got %v, want only Hookline's delivery.failed", evs)
	}
}

func TestEventListAndGet(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	rc := fx.receiver()
	sub := fx.createWebhook(t, fx.admin, obj{"url": rc.url + "/two", "tenant": "t1", "events": []string{"a.two"}}).str("id")
	inactive := fx.createWebhook(t, fx.admin, obj{"url": discard, "tenant": "t1", "events": []string{"a.one"}, "active": false})
	var ids []string // oldest first
	for i := range 5 {
		typ := []string{"a.one", "a.two"}[i%2]
		ids = append(ids, fx.publish(t, fx.admin, obj{"type": typ, "tenant": "t1", "data": obj{"i": i}}).str("id"))
	}
	fx.publish(t, fx.admin, obj{"type": "a.one", "tenant": "t2", "data": obj{}})
	newestFirst := slices.Clone(ids)
	slices.Reverse(newestFirst)

	pages := fx.listAll(t, "/v1/events?tenant=t1", fx.admin, 2)
	if len(pages) != 3 || !slices.Equal(slices.Concat(pages...), newestFirst) {
		t.Errorf("got pages %v, want %v in pages of 2", pages, newestFirst)
	}
	ones := fx.do(t, "GET", "/v1/events?tenant=t1&type=a.one", fx.admin, nil).must(t, http.StatusOK).ids()
	if want := []string{ids[4], ids[2], ids[0]}; !slices.Equal(ones, want) {
		t.Errorf("type=a.one: got %v, want %v", ones, want)
	}
	if all := fx.do(t, "GET", "/v1/events", fx.admin, nil).ids(); len(all) != 6 {
		t.Errorf("all tenants: got %d events, want 6", len(all))
	}

	g := fx.do(t, "GET", "/v1/events/"+ids[0], fx.admin, nil).must(t, http.StatusOK)
	if g.str("id") != ids[0] || g.str("tenant") != "t1" || g.str("type") != "a.one" || fmt.Sprint(g.body["data"]) != "map[i:0]" {
		t.Errorf("GET event: got %s", g.raw)
	}
	if ds, ok := g.body["deliveries"].([]any); !ok || len(ds) != 0 {
		t.Errorf("GET event: got deliveries %v, want [] (the matching webhook %s is inactive)", g.body["deliveries"], inactive.str("id"))
	}
	g = fx.do(t, "GET", "/v1/events/"+ids[1], fx.admin, nil).must(t, http.StatusOK)
	if ds := g.objects("deliveries"); len(ds) != 1 || ds[0]["webhook_id"] != sub || ds[0]["event_id"] != ids[1] {
		t.Errorf("GET event: got deliveries %v, want one to %s", g.body["deliveries"], sub)
	}
	rc.waitFor(t, "/two", 2) // ids[1] and ids[3]
	fx.do(t, "GET", "/v1/events/evt_nope", fx.admin, nil).problem(t, http.StatusNotFound, "")
	fx.do(t, "GET", "/v1/events?limit=5000", fx.admin, nil).problem(t, http.StatusBadRequest, "limit")
}

// A timestamp that is not RFC 3339 is refused naming the field (with its
// place in a batch) and the format, never in Go's own words.
func TestBadTimestampNamesFieldAndFormat(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	fx.do(t, "POST", "/v1/keyspaces", fx.admin, obj{"name": "formulr", "prefix": "frm", "permissions": []any{"a"}}).must(t, http.StatusCreated)
	event := func(ts any) obj { return obj{"type": "a.b", "data": obj{}, "timestamp": ts} }
	tests := []struct {
		name  string
		path  string
		body  obj
		field string
	}{
		{"a word", "/v1/events", event("yesterday"), "timestamp"},
		{"no time zone", "/v1/events", event("2024-05-01T12:00:00"), "timestamp"},
		{"a date only", "/v1/events", event("2024-05-01"), "timestamp"},
		{"Unix seconds", "/v1/events", event(1714564800), "timestamp"},
		{"an object", "/v1/events", event(obj{}), "timestamp"},
		{"fourth event of a batch", "/v1/events/batch",
			obj{"events": []obj{event("2024-05-01T12:00:00Z"), event(nil), event("2024-05-01T12:00:00.5+02:00"), event("01/05/2024")}},
			"events[3].timestamp"},
		{"a key's expiry", "/v1/keyspaces/formulr/keys", obj{"tenant": "acme", "name": "k", "permissions": []any{"a"}, "expires_at": "tomorrow"},
			"expires_at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := fx.do(t, "POST", tt.path, fx.admin, tt.body)
			r.problem(t, http.StatusBadRequest, tt.field)
			d := r.str("detail")
			if !strings.Contains(d, "RFC 3339") || !strings.Contains(d, "2024-05-01T12:00:00Z") {
				t.Errorf("detail %q does not state the format (RFC 3339, with an example)", d)
			}
			if strings.Contains(d, "2006") || strings.Contains(d, "parsing time") {
				t.Errorf("detail %q shows Go's time layout", d)
			}
		})
	}
	if n := fx.countEvents(t); n != 0 {
		t.Errorf("got %d events stored, want none", n)
	}
}
