package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/hookline/hookline/internal/config"
)

// publishBatch posts events to POST /v1/events/batch with key and returns the
// 202 answer's results, checked to be one per event.
func (fx *fixture) publishBatch(t *testing.T, key string, events []obj) []map[string]any {
	t.Helper()
	r := fx.do(t, "POST", "/v1/events/batch", key, obj{"events": events}).must(t, http.StatusAccepted)
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("got Content-Type %q, want application/json", ct)
	}
	results := r.objects("results")
	if len(results) != len(events) {
		t.Fatalf("got %d results for %d events: %s", len(results), len(events), r.raw)
	}
	return results
}

// acceptedEvent returns the event of a successful batch result, failing the test
// when the result is not a 202.
func acceptedEvent(t *testing.T, i int, res map[string]any) map[string]any {
	t.Helper()
	ev, _ := res["event"].(map[string]any)
	if res["status"] != float64(http.StatusAccepted) || ev == nil || res["error"] != nil {
		t.Fatalf("result %d: got %v, want status 202 with an event and no error", i, res)
	}
	return ev
}

// countEvents returns how many events the store holds (up to 1000).
func (fx *fixture) countEvents(t *testing.T) int {
	t.Helper()
	return len(fx.do(t, "GET", "/v1/events?limit=1000", fx.admin, nil).must(t, http.StatusOK).items())
}

func TestEventBatchDelivers(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	rc := fx.receiver()
	wh := fx.createWebhook(t, fx.admin, obj{"url": rc.url + "/batch", "tenant": "shop", "events": []string{"order.*"}}).str("id")

	var events []obj
	for i := range 5 {
		events = append(events, obj{"type": fmt.Sprintf("order.step%d", i), "tenant": "shop", "data": obj{"i": i, "price": json.RawMessage("1.50")}})
	}
	events = append(events, obj{"type": "customer.created", "tenant": "shop", "data": obj{}}) // matches no webhook
	results := fx.publishBatch(t, fx.admin, events)

	want := map[string]string{} // event id → data
	for i, res := range results {
		ev := acceptedEvent(t, i, res)
		id, _ := ev["id"].(string)
		if !strings.HasPrefix(id, "evt_") || ev["type"] != events[i]["type"] || ev["tenant"] != "shop" || ev["duplicate"] != false {
			t.Errorf("result %d: got event %v, want a new evt_… of type %v in shop", i, ev, events[i]["type"])
		}
		ds, _ := ev["deliveries"].([]any)
		if i == 5 {
			if len(ds) != 0 {
				t.Errorf("result %d: got deliveries %v, want none", i, ds)
			}
			continue
		}
		if len(ds) != 1 || ds[0].(map[string]any)["webhook_id"] != wh {
			t.Errorf("result %d: got deliveries %v, want one to %s", i, ds, wh)
		}
		want[id] = fmt.Sprintf(`{"i":%d,"price":1.50}`, i)
	}
	if len(want) != 5 {
		t.Fatalf("got %d distinct event ids, want 5", len(want))
	}

	for _, d := range rc.waitFor(t, "/batch", 5) {
		env := decodeEnvelope(t, d.body)
		if w, ok := want[env.ID]; !ok || string(env.Data) != w {
			t.Errorf("received event %s with data %s, want one of the batch with its data", env.ID, env.Data)
		}
		delete(want, env.ID)
	}
	if len(want) != 0 {
		t.Errorf("never delivered: %v", want)
	}
	if n := fx.countEvents(t); n != 6 {
		t.Errorf("got %d events stored, want 6", n)
	}

	// Metrics count events, not requests.
	page := string(fx.do(t, "GET", "/metrics", "", nil).must(t, http.StatusOK).raw)
	for _, w := range []string{
		"hookline_events_published_total 6",
		`hookline_http_requests_total{code="202",route="POST /v1/events/batch"} 1`,
	} {
		if !strings.Contains(page, w) {
			t.Errorf("metrics: no %q", w)
		}
	}
}

func TestEventBatchInvalidEvents(t *testing.T) {
	t.Parallel()
	fx := setup(t, func(c *config.Config) { c.MaxPayloadBytes = 64 })
	rc := fx.receiver()
	fx.createWebhook(t, fx.admin, obj{"url": rc.url + "/mixed"})

	events := []obj{
		{"type": "a.ok", "data": obj{"n": 0}},
		{"type": "a b", "data": obj{}},
		{"type": "a.nodata"},
		{"type": "a.ok", "data": obj{"n": 3}, "id": "keep-3"},
		{"type": "a.ops", "tenant": "_ops", "data": obj{}},
		{"type": "a.big", "data": obj{"s": strings.Repeat("x", 100)}},
		{"type": "a.longid", "data": obj{}, "id": strings.Repeat("k", 256)},
		{"type": "a.badtenant", "tenant": strings.Repeat("t", 201), "data": obj{}},
	}
	wantStatus := []int{202, 422, 422, 202, 422, 413, 422, 422}
	results := fx.publishBatch(t, fx.admin, events)
	var stored []string
	for i, res := range results {
		if got := int(res["status"].(float64)); got != wantStatus[i] {
			t.Errorf("result %d: got status %d, want %d: %v", i, got, wantStatus[i], res)
			continue
		}
		if wantStatus[i] == http.StatusAccepted {
			stored = append(stored, acceptedEvent(t, i, res)["id"].(string))
			continue
		}
		if res["event"] != nil {
			t.Errorf("result %d: a refused event has an event: %v", i, res)
		}
		// The error is exactly what POST /v1/events answers for that event.
		single := fx.do(t, "POST", "/v1/events", fx.admin, events[i])
		if single.status != wantStatus[i] {
			t.Errorf("event %d alone: got %d %s, want %d", i, single.status, single.raw, wantStatus[i])
		}
		delete(single.body, "instance") // the single request's id; a result names none
		if !reflect.DeepEqual(res["error"], any(single.body)) {
			t.Errorf("result %d: got error %v, want the single route's problem %v", i, res["error"], single.body)
		}
	}
	if len(stored) != 2 {
		t.Fatalf("got %d events accepted, want 2", len(stored))
	}
	if n := fx.countEvents(t); n != 2 {
		t.Errorf("got %d events stored, want only the 2 valid ones", n)
	}
	got := rc.waitFor(t, "/mixed", 2)
	var ids []string
	for _, d := range got {
		ids = append(ids, decodeEnvelope(t, d.body).ID)
	}
	if slices.Sort(ids); !slices.Equal(ids, slices.Sorted(slices.Values(stored))) {
		t.Errorf("received %v, want only the valid events %v", ids, stored)
	}

	// A batch of only invalid events is still processed: 202, nothing stored.
	results = fx.publishBatch(t, fx.admin, []obj{{"type": "x"}, {"data": obj{}}})
	for i, res := range results {
		if res["status"] != float64(http.StatusUnprocessableEntity) {
			t.Errorf("all invalid, result %d: got %v, want 422", i, res)
		}
	}
	if n := fx.countEvents(t); n != 2 {
		t.Errorf("after an all-invalid batch: got %d events stored, want 2", n)
	}
}

func TestEventBatchIdempotency(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	rc := fx.receiver()
	fx.createWebhook(t, fx.admin, obj{"url": rc.url + "/idem"})
	earlier := fx.publish(t, fx.admin, obj{"type": "order.created", "data": obj{"n": "earlier"}, "id": "order-1"})

	events := []obj{
		{"type": "order.created", "data": obj{"n": "a"}, "id": "order-2"},
		{"type": "order.created", "data": obj{"n": "earlier"}, "id": "order-1"}, // seen in an earlier request
		{"type": "order.created", "data": obj{"n": "a"}, "id": "order-2"},       // seen earlier in this batch
		{"type": "order.created", "data": obj{"n": "d"}, "id": "order-2", "tenant": "t2"},
		{"type": "order.created", "data": obj{"n": "e"}},
		{"type": "order.created", "data": obj{"n": "f"}},
	}
	results := fx.publishBatch(t, fx.admin, events)
	evs := make([]map[string]any, len(results))
	for i, res := range results {
		evs[i] = acceptedEvent(t, i, res)
	}
	type want struct {
		id        any
		duplicate bool
	}
	for i, w := range []want{
		{nil, false},
		{earlier.str("id"), true},
		{evs[0]["id"], true},
		{nil, false},
		{nil, false},
		{nil, false},
	} {
		if evs[i]["duplicate"] != w.duplicate || (w.id != nil && evs[i]["id"] != w.id) {
			t.Errorf("result %d: got %v, want duplicate %v of %v", i, evs[i], w.duplicate, w.id)
		}
	}
	if got, want := deliveryIDsOf(evs[2]), deliveryIDsOf(evs[0]); len(want) != 1 || !slices.Equal(got, want) {
		t.Errorf("repeat within the batch: got deliveries %v, want the first's %v", got, want)
	}
	if got, want := deliveryIDsOf(evs[1]), deliveryIDs(earlier); !slices.Equal(got, want) {
		t.Errorf("repeat of an earlier publish: got deliveries %v, want the original %v", got, want)
	}
	newIDs := map[any]bool{evs[0]["id"]: true, evs[3]["id"]: true, evs[4]["id"]: true, evs[5]["id"]: true}
	if len(newIDs) != 4 {
		t.Errorf("got new events %v, want 4 distinct ones", newIDs)
	}

	// The same batch again creates nothing; keyless events are new each time.
	again := fx.publishBatch(t, fx.admin, events[:4])
	for i, res := range again {
		if ev := acceptedEvent(t, i, res); ev["duplicate"] != true || ev["id"] != evs[i]["id"] {
			t.Errorf("batch again, result %d: got %v, want event %v replayed", i, ev, evs[i]["id"])
		}
	}
	// And a single publish sees the batch's keys.
	if r := fx.publish(t, fx.admin, obj{"type": "order.created", "data": obj{"n": "a"}, "id": "order-2"}); r.str("id") != evs[0]["id"] || r.body["duplicate"] != true {
		t.Errorf("single publish of a batch's key: got %s, want event %v replayed", r.raw, evs[0]["id"])
	}

	// The receiver got each stored event once, with the first publish's data.
	wantData := map[string]string{earlier.str("id"): `{"n":"earlier"}`, evs[0]["id"].(string): `{"n":"a"}`,
		evs[4]["id"].(string): `{"n":"e"}`, evs[5]["id"].(string): `{"n":"f"}`} // t2 has no webhook
	got := rc.waitFor(t, "/idem", len(wantData))
	for _, d := range got {
		env := decodeEnvelope(t, d.body)
		if w, ok := wantData[env.ID]; !ok || string(env.Data) != w {
			t.Errorf("received %s with %s, want each event once with its first data", env.ID, env.Data)
		}
		delete(wantData, env.ID)
	}
	if n := fx.countEvents(t); n != 5 {
		t.Errorf("got %d events stored, want 5", n)
	}
}

// deliveryIDsOf returns the delivery ids of an accepted event.
func deliveryIDsOf(ev map[string]any) []string {
	var ids []string
	ds, _ := ev["deliveries"].([]any)
	for _, d := range ds {
		id, _ := d.(map[string]any)["id"].(string)
		ids = append(ids, id)
	}
	return ids
}

func TestEventBatchRefusedWhole(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	one := []obj{{"type": "a.b", "data": obj{}}}
	many := func(n int) []obj {
		out := make([]obj, n)
		for i := range out {
			out[i] = obj{"type": "a.b", "data": obj{"i": i}, "id": fmt.Sprintf("k%d", i)}
		}
		return out
	}
	huge := `{"events":[{"type":"a.b","data":"` + strings.Repeat("x", 10<<20) + `"}]}`
	tests := []struct {
		name   string
		body   any
		header http.Header
		status int
		field  string
	}{
		{"not JSON", `{"events": [`, nil, 400, ""},
		{"not an object", `[]`, nil, 400, ""},
		{"no events", obj{}, nil, 400, "events"},
		{"empty events", obj{"events": []obj{}}, nil, 400, "events"},
		{"null events", `{"events": null}`, nil, 400, "events"},
		{"events not an array", obj{"events": obj{}}, nil, 400, "events"},
		{"unknown field", obj{"events": one, "atomic": true}, nil, 400, "atomic"},
		{"unknown field in an event", obj{"events": []obj{{"type": "a.b", "data": obj{}}, {"type": "a.b", "data": obj{}, "event": "x"}}}, nil, 400, "events[1].event"},
		{"event not an object", obj{"events": []any{obj{"type": "a.b", "data": obj{}}, "a.b"}}, nil, 400, "events[1]"},
		{"mistyped field in an event", obj{"events": []obj{{"type": 7, "data": obj{}}}}, nil, 400, "events[0].type"},
		{"bad timestamp", obj{"events": []obj{{"type": "a.b", "data": obj{}, "timestamp": "yesterday"}}}, nil, 400, "events[0].timestamp"},
		{"1001 events", obj{"events": many(1001)}, nil, 400, "events"},
		{"Idempotency-Key header", obj{"events": one}, http.Header{"Idempotency-Key": {"k"}}, 400, ""},
		{"body over 10 MiB", huge, nil, 413, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := fx.doHeader(t, "POST", "/v1/events/batch", fx.admin, tt.body, tt.header)
			r.problem(t, tt.status, tt.field)
			if tt.header != nil && !strings.Contains(r.str("detail"), "id") {
				t.Errorf("detail %q should say to give each event an id", r.str("detail"))
			}
		})
	}
	if n := fx.countEvents(t); n != 0 {
		t.Fatalf("got %d events stored after refused batches, want none", n)
	}

	// 1000 is allowed.
	results := fx.publishBatch(t, fx.admin, many(1000))
	for i, res := range results {
		if ev := acceptedEvent(t, i, res); ev["idempotency_key"] != fmt.Sprintf("k%d", i) {
			t.Fatalf("result %d: got %v, want the event keyed k%d (results are in request order)", i, ev, i)
		}
	}
	if n := fx.countEvents(t); n != 1000 {
		t.Errorf("got %d events stored, want 1000", n)
	}

	// Wrong scope.
	_, reader := fx.createKey(t, obj{"name": "reader", "scopes": []string{"events:read"}})
	fx.do(t, "POST", "/v1/events/batch", reader, obj{"events": one}).problem(t, http.StatusForbidden, "")
	fx.do(t, "POST", "/v1/events/batch", "", obj{"events": one}).problem(t, http.StatusUnauthorized, "")
}

func TestEventBatchProfileLimitRefusesAll(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	def := obj{"policy": obj{"max_payload_bytes": 16}}
	fx.do(t, "POST", "/v1/profiles", fx.admin, obj{"name": "small", "definition": def}).must(t, http.StatusCreated)
	fx.createWebhook(t, fx.admin, obj{"url": discard, "tenant": "t1", "profile": "small", "secret": "a-raw-secret"})

	// The profile's limit is found while publishing, in the one commit: the
	// whole batch is refused, like the single route, and nothing is stored.
	r := fx.do(t, "POST", "/v1/events/batch", fx.admin, obj{"events": []obj{
		{"type": "a.b", "tenant": "t1", "data": json.RawMessage(`{"n":"0123456"}`)},   // 15 bytes
		{"type": "a.b", "tenant": "t1", "data": json.RawMessage(`{"n":"012345678"}`)}, // 17 bytes
	}})
	r.problem(t, http.StatusRequestEntityTooLarge, "data")
	if !strings.Contains(string(r.raw), `profile \"small\"`) {
		t.Errorf("413: got %s, want the profile named", r.raw)
	}
	if n := fx.countEvents(t); n != 0 {
		t.Errorf("got %d events stored, want none", n)
	}
}

func TestEventBatchTenantKey(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	rc := fx.receiver()
	fx.createWebhook(t, fx.admin, obj{"url": rc.url + "/acme", "tenant": "acme"})
	fx.createWebhook(t, fx.admin, obj{"url": rc.url + "/globex", "tenant": "globex"})
	_, acme := fx.createKey(t, obj{"name": "acme", "tenant": "acme", "scopes": []string{"events:write"}})

	events := []obj{
		{"type": "a.b", "data": obj{"n": 0}},
		{"type": "a.b", "tenant": "globex", "data": obj{"n": 1}},
		{"type": "a.b", "tenant": "acme", "data": obj{"n": 2}},
		{"type": "a.b", "tenant": "_ops", "data": obj{"n": 3}},
	}
	results := fx.publishBatch(t, acme, events)
	for _, i := range []int{0, 2} {
		if ev := acceptedEvent(t, i, results[i]); ev["tenant"] != "acme" {
			t.Errorf("result %d: got tenant %v, want acme", i, ev["tenant"])
		}
	}
	for _, i := range []int{1, 3} {
		single := fx.do(t, "POST", "/v1/events", acme, events[i])
		single.problem(t, http.StatusForbidden, "tenant")
		delete(single.body, "instance") // the single request's id; a result names none
		if results[i]["status"] != float64(http.StatusForbidden) || !reflect.DeepEqual(results[i]["error"], any(single.body)) {
			t.Errorf("result %d: got %v, want 403 with the single route's problem %s", i, results[i], single.raw)
		}
	}
	rc.waitFor(t, "/acme", 2)
	if n := len(rc.requests("/globex")); n != 0 {
		t.Errorf("globex's webhook received %d events from the acme key", n)
	}
}

func TestEventBatchRateLimit(t *testing.T) {
	t.Parallel()
	fx := setup(t, func(c *config.Config) { c.TenantKeyRateLimit = 5 })
	key := func(name string) string {
		_, k := fx.createKey(t, obj{"name": name, "tenant": "acme", "scopes": []string{"events:write"}})
		return k
	}
	batch := func(n int) obj {
		events := make([]obj, n)
		for i := range events {
			events[i] = obj{"type": "a.b", "data": obj{}}
		}
		return obj{"events": events}
	}
	send := func(k string, body any) response { return fx.do(t, "POST", "/v1/events/batch", k, body) }

	t.Run("one token per event", func(t *testing.T) {
		k := key("per-event")
		send(k, batch(3)).must(t, http.StatusAccepted)
		r := send(k, batch(3)) // 2 left
		r.problem(t, http.StatusTooManyRequests, "")
		secs, err := strconv.Atoi(r.header.Get("Retry-After"))
		if err != nil || secs < 600 || secs > 720 {
			t.Errorf("got Retry-After %q, want about 720 s (one more token at 5 per hour)", r.header.Get("Retry-After"))
		}
		send(k, batch(2)).must(t, http.StatusAccepted) // the refused batch took nothing
		fx.do(t, "POST", "/v1/events", k, obj{"type": "a.b", "data": obj{}}).problem(t, http.StatusTooManyRequests, "")
	})
	t.Run("invalid events cost too", func(t *testing.T) {
		k := key("invalid")
		results := fx.publishBatch(t, k, []obj{{"type": "a.b"}, {"type": "a.b"}, {"type": "a.b"}, {"type": "a.b"}})
		if results[0]["status"] != float64(http.StatusUnprocessableEntity) {
			t.Errorf("got %v, want 422", results[0])
		}
		send(k, batch(2)).problem(t, http.StatusTooManyRequests, "")
		send(k, batch(1)).must(t, http.StatusAccepted)
	})
	t.Run("more than the whole limit", func(t *testing.T) {
		k := key("too-many")
		r := send(k, batch(6))
		r.problem(t, http.StatusUnprocessableEntity, "events")
		if r.header.Get("Retry-After") != "" {
			t.Errorf("got Retry-After %q, want none: waiting cannot help", r.header.Get("Retry-After"))
		}
		send(k, batch(5)).must(t, http.StatusAccepted) // the refused batch took nothing
	})
	t.Run("unreadable body costs one", func(t *testing.T) {
		k := key("unreadable")
		send(k, `{"events": [`).problem(t, http.StatusBadRequest, "")
		send(k, batch(5)).problem(t, http.StatusTooManyRequests, "")
		send(k, batch(4)).must(t, http.StatusAccepted)
	})
	t.Run("admin key unlimited", func(t *testing.T) {
		for range 3 {
			send(fx.admin, batch(10)).must(t, http.StatusAccepted)
		}
	})
	t.Run("refusals are counted", func(t *testing.T) {
		page := string(fx.do(t, "GET", "/metrics", "", nil).must(t, http.StatusOK).raw)
		if !strings.Contains(page, "hookline_rate_limited_total 4") {
			t.Errorf("metrics: want hookline_rate_limited_total 4 after four 429s")
		}
	})
}
