package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/config"
	"github.com/hookline/hookline/webhook"
)

func TestWebhookCRUD(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	_, reader := fx.createKey(t, obj{"name": "reader", "scopes": []string{"webhooks:read"}})

	c := fx.createWebhook(t, fx.admin, obj{
		"url": discard, "events": []string{"invoice.*"}, "description": "first",
		"metadata": obj{"plan": "pro"}, "headers": obj{"X-Custom": "1"},
	})
	id, secret := c.str("id"), c.str("secret")
	if !strings.HasPrefix(id, "wh_") {
		t.Errorf("got id %q, want wh_…", id)
	}
	if !strings.HasPrefix(secret, "whsec_") {
		t.Errorf("got secret %q, want a generated whsec_…", secret)
	} else if _, err := webhook.DecodeSecret(secret); err != nil {
		t.Errorf("generated secret %q does not decode: %v", secret, err)
	}
	for field, want := range map[string]any{
		"url": discard, "tenant": "default", "active": true, "profile": "standard", "description": "first",
		"events": []any{"invoice.*"}, "metadata": obj{"plan": "pro"}, "headers": obj{"X-Custom": "1"},
	} {
		if got := c.body[field]; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("created %s: got %v, want %v", field, got, want)
		}
	}

	if other := fx.createWebhook(t, fx.admin, obj{"url": discard}); other.str("secret") == secret {
		t.Errorf("two webhooks got the same generated secret %q", secret)
	} else {
		fx.do(t, "DELETE", "/v1/webhooks/"+other.str("id"), fx.admin, nil).must(t, http.StatusNoContent)
	}

	own := "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" // base64 of 24 bytes
	c2 := fx.createWebhook(t, fx.admin, obj{"url": discard, "secret": own})
	if c2.str("secret") != own {
		t.Errorf("got secret %q, want the one given", c2.str("secret"))
	}
	id2 := c2.str("id")

	g := fx.do(t, "GET", "/v1/webhooks/"+id, fx.admin, nil).must(t, http.StatusOK)
	if _, ok := g.body["secret"]; ok || g.str("url") != discard || g.str("description") != "first" {
		t.Errorf("GET: got %s, want the webhook without its secret", g.raw)
	}
	if s := fx.do(t, "GET", "/v1/webhooks/"+id+"?include_secret=true", fx.admin, nil).must(t, http.StatusOK).str("secret"); s != secret {
		t.Errorf("admin with include_secret: got secret %q, want %q", s, secret)
	}
	if r := fx.do(t, "GET", "/v1/webhooks/"+id+"?include_secret=true", reader, nil).must(t, http.StatusOK); r.str("secret") != "" {
		t.Errorf("a non-admin key got the secret with include_secret")
	}
	l := fx.do(t, "GET", "/v1/webhooks", reader, nil).must(t, http.StatusOK)
	if got := l.ids(); !slices.Equal(got, []string{id2, id}) {
		t.Errorf("list: got %v, want [%s %s] newest first", got, id2, id)
	}
	if bytes.Contains(l.raw, []byte(secret)) || bytes.Contains(l.raw, []byte(own)) {
		t.Errorf("the list shows secrets: %s", l.raw)
	}

	p := fx.do(t, "PATCH", "/v1/webhooks/"+id, fx.admin, obj{"description": "changed"}).must(t, http.StatusOK)
	if p.str("description") != "changed" || p.str("url") != discard || fmt.Sprint(p.body["events"]) != "[invoice.*]" ||
		fmt.Sprint(p.body["metadata"]) != "map[plan:pro]" || p.str("secret") != "" {
		t.Errorf("PATCH description: got %s, want only the description changed, no secret", p.raw)
	}
	if p := fx.do(t, "PATCH", "/v1/webhooks/"+id, fx.admin, obj{"active": false}).must(t, http.StatusOK); p.body["active"] != false {
		t.Errorf("PATCH active=false: got active %v", p.body["active"])
	}

	u := fx.do(t, "PUT", "/v1/webhooks/"+id, fx.admin, obj{"url": discard + "/b"}).must(t, http.StatusOK)
	if u.str("url") != discard+"/b" || u.str("description") != "" || fmt.Sprint(u.body["events"]) != "[]" ||
		fmt.Sprint(u.body["metadata"]) != "map[]" || fmt.Sprint(u.body["headers"]) != "map[]" || u.body["active"] != true {
		t.Errorf("PUT: got %s, want every field left out back at its default", u.raw)
	}
	if u.str("created_at") != c.str("created_at") {
		t.Errorf("PUT: got created_at %s, want %s unchanged", u.str("created_at"), c.str("created_at"))
	}
	if s := fx.do(t, "GET", "/v1/webhooks/"+id+"?include_secret=true", fx.admin, nil).str("secret"); s != secret {
		t.Errorf("PUT without a secret: got secret %q, want %q kept", s, secret)
	}

	fx.do(t, "PUT", "/v1/webhooks/"+id, fx.admin, obj{"events": []string{"*"}}).problem(t, http.StatusUnprocessableEntity, "url")
	fx.do(t, "PATCH", "/v1/webhooks/"+id, fx.admin, obj{"tenant": "other"}).problem(t, http.StatusUnprocessableEntity, "tenant")
	fx.do(t, "PATCH", "/v1/webhooks/"+id, fx.admin, obj{"url": "gopher://x"}).problem(t, http.StatusUnprocessableEntity, "url")
	fx.do(t, "PATCH", "/v1/webhooks/wh_nope", fx.admin, obj{"description": "x"}).problem(t, http.StatusNotFound, "")
	fx.do(t, "PATCH", "/v1/webhooks/"+id, reader, obj{"description": "x"}).problem(t, http.StatusForbidden, "")

	fx.do(t, "DELETE", "/v1/webhooks/"+id, fx.admin, nil).must(t, http.StatusNoContent)
	fx.do(t, "GET", "/v1/webhooks/"+id, fx.admin, nil).problem(t, http.StatusNotFound, "")
	fx.do(t, "DELETE", "/v1/webhooks/"+id, fx.admin, nil).problem(t, http.StatusNotFound, "")
	if got := fx.do(t, "GET", "/v1/webhooks", fx.admin, nil).ids(); !slices.Equal(got, []string{id2}) {
		t.Errorf("after DELETE: got %v, want [%s]", got, id2)
	}
}

func TestWebhookValidation(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	tests := []struct {
		name   string
		body   any
		status int
		field  string // "" when the body as a whole is wrong
	}{
		{"url missing", obj{"events": []string{"*"}}, 422, "url"},
		{"url scheme", obj{"url": "ftp://example.com/hook"}, 422, "url"},
		{"url not a url", obj{"url": "not a url"}, 422, "url"},
		{"url without host", obj{"url": "http://"}, 422, "url"},
		{"url with credentials", obj{"url": "http://user:pw@127.0.0.1/"}, 422, "url"},
		{"url not a string", obj{"url": 42}, 400, "url"},
		{"event pattern with an empty segment", obj{"url": discard, "events": []string{"invoice..paid"}}, 422, "events"},
		{"event pattern with a space", obj{"url": discard, "events": []string{"invoice.pa id"}}, 422, "events"},
		{"empty event pattern", obj{"url": discard, "events": []string{""}}, 422, "events"},
		{"events not an array", obj{"url": discard, "events": "invoice.paid"}, 400, "events"},
		{"unknown field", obj{"url": discard, "colour": "red"}, 400, "colour"},
		{"secret not whsec", obj{"url": discard, "secret": "hunter2"}, 422, "secret"},
		{"unknown profile", obj{"url": discard, "profile": "nope"}, 422, "profile"},
		{"reserved header", obj{"url": discard, "headers": obj{"webhook-signature": "x"}}, 422, "headers"},
		{"bad header name", obj{"url": discard, "headers": obj{"Bad Header": "x"}}, 422, "headers"},
		{"header value with a newline", obj{"url": discard, "headers": obj{"X-A": "a\r\nX-B: b"}}, 422, "headers"},
		{"active not a boolean", obj{"url": discard, "active": "yes"}, 400, "active"},
		{"tenant with a control character", obj{"url": discard, "tenant": "a\x01b"}, 422, "tenant"},
		{"malformed JSON", `{"url": `, 400, ""},
		{"not an object", `["http://127.0.0.1/"]`, 400, ""},
		{"empty body", "", 400, ""},
		{"data after the object", `{"url":"http://127.0.0.1:9/"} {}`, 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx.do(t, "POST", "/v1/webhooks", fx.admin, tt.body).problem(t, tt.status, tt.field)
		})
	}
	if n := len(fx.do(t, "GET", "/v1/webhooks", fx.admin, nil).must(t, http.StatusOK).items()); n != 0 {
		t.Errorf("invalid requests created %d webhooks", n)
	}
}

func TestWebhookPagination(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	var created []string // oldest first
	for i := range 7 {
		created = append(created, fx.createWebhook(t, fx.admin, obj{"url": discard, "tenant": "pag", "description": strconv.Itoa(i)}).str("id"))
	}
	for range 2 {
		fx.createWebhook(t, fx.admin, obj{"url": discard, "tenant": "other"})
	}
	newestFirst := slices.Clone(created)
	slices.Reverse(newestFirst)

	pages := fx.listAll(t, "/v1/webhooks?tenant=pag", fx.admin, 3)
	var sizes []int
	for _, p := range pages {
		sizes = append(sizes, len(p))
	}
	if !slices.Equal(sizes, []int{3, 3, 1}) {
		t.Errorf("got pages %v, want sizes 3, 3, 1", pages)
	}
	if got := slices.Concat(pages...); !slices.Equal(got, newestFirst) {
		t.Errorf("pages together: got %v, want %v (no duplicate, no omission, newest first)", got, newestFirst)
	}
	if got := slices.Concat(fx.listAll(t, "/v1/webhooks", fx.admin, 4)...); len(got) != 9 || len(uniq(got)) != 9 {
		t.Errorf("all tenants: got %d ids (%d distinct), want 9", len(got), len(uniq(got)))
	}

	// Keyset: an object created between two pages does not shift the next one.
	first := fx.do(t, "GET", "/v1/webhooks?tenant=pag&limit=3", fx.admin, nil).must(t, http.StatusOK)
	fx.createWebhook(t, fx.admin, obj{"url": discard, "tenant": "pag"})
	next := fx.do(t, "GET", "/v1/webhooks?tenant=pag&limit=3&cursor="+first.str("next_cursor"), fx.admin, nil).must(t, http.StatusOK)
	if got := next.ids(); !slices.Equal(got, newestFirst[3:6]) {
		t.Errorf("second page after an insert: got %v, want %v", got, newestFirst[3:6])
	}

	for _, bad := range []string{"0", "1001", "ten", "-1"} {
		fx.do(t, "GET", "/v1/webhooks?limit="+bad, fx.admin, nil).problem(t, http.StatusBadRequest, "limit")
	}
}

func TestWebhookLimitPerTenant(t *testing.T) {
	t.Parallel()
	fx := setup(t, func(c *config.Config) { c.MaxWebhooksPerTenant = 3 })
	var ids []string
	for range 3 {
		ids = append(ids, fx.createWebhook(t, fx.admin, obj{"url": discard, "tenant": "acme"}).str("id"))
	}
	r := fx.do(t, "POST", "/v1/webhooks", fx.admin, obj{"url": discard, "tenant": "acme"})
	r.problem(t, http.StatusUnprocessableEntity, "")
	if r.str("type") != "urn:hookline:problem:limit" {
		t.Errorf("got type %q, want urn:hookline:problem:limit", r.str("type"))
	}
	if n := len(fx.do(t, "GET", "/v1/webhooks?tenant=acme", fx.admin, nil).items()); n != 3 {
		t.Errorf("after the refused create: got %d webhooks, want 3", n)
	}
	fx.createWebhook(t, fx.admin, obj{"url": discard, "tenant": "globex"}) // another tenant has its own allowance
	fx.do(t, "DELETE", "/v1/webhooks/"+ids[0], fx.admin, nil).must(t, http.StatusNoContent)
	fx.createWebhook(t, fx.admin, obj{"url": discard, "tenant": "acme"})
}

func TestWebhookTestAndLogs(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	rc := fx.receiver()
	c := fx.createWebhook(t, fx.admin, obj{"url": rc.url + "/ok"})
	id := c.str("id")

	r := fx.do(t, "POST", "/v1/webhooks/"+id+"/test", fx.admin, nil).must(t, http.StatusOK)
	if r.str("event") != "webhook.test" || r.body["http_status"] != 200.0 || r.body["success"] != true ||
		r.str("response_body") != "answered 200" || r.body["retry_count"] != 0.0 || r.str("error") != "" ||
		!strings.HasPrefix(r.str("event_id"), "evt_") {
		t.Errorf("test: got %s, want a successful webhook.test attempt", r.raw)
	}
	if _, err := time.Parse(time.RFC3339Nano, r.str("timestamp")); err != nil {
		t.Errorf("test: timestamp %q: %v", r.str("timestamp"), err)
	}
	if _, ok := r.body["response_time_ms"].(float64); !ok {
		t.Errorf("test: no response_time_ms in %s", r.raw)
	}
	// Synchronous: the receiver has it by the time the answer comes.
	got := rc.requests("/ok")
	if len(got) != 1 {
		t.Fatalf("after the test call the receiver got %d requests, want 1", len(got))
	}
	if env := decodeEnvelope(t, got[0].body); env.Event != "webhook.test" || env.ID != r.str("event_id") {
		t.Errorf("test delivery: got event %q id %q, want webhook.test %s", env.Event, env.ID, r.str("event_id"))
	}
	if v, _ := webhook.NewStandard(c.str("secret")); v.Verify(got[0].body, got[0].header) != nil {
		t.Errorf("the test delivery's signature does not verify")
	}

	rc.respond("/ok", http.StatusServiceUnavailable) // the event's first attempt is retried
	ev := fx.publish(t, fx.admin, obj{"type": "invoice.paid", "data": obj{}})
	dlv := oneDelivery(t, ev)
	fx.waitDelivery(t, dlv, "succeeded")

	logs := fx.do(t, "GET", "/v1/webhooks/"+id+"/logs", fx.admin, nil).must(t, http.StatusOK).items()
	want := []struct {
		event            string
		status, retryCnt float64
		err              string
	}{
		{"invoice.paid", 200, 1, ""},
		{"invoice.paid", 503, 0, "HTTP 503"},
		{"webhook.test", 200, 0, ""},
	}
	if len(logs) != len(want) {
		t.Fatalf("logs: got %d entries, want %d: %v", len(logs), len(want), logs)
	}
	for i, w := range want {
		l := logs[i]
		errText, _ := l["error"].(string)
		if l["event"] != w.event || l["http_status"] != w.status || l["retry_count"] != w.retryCnt || errText != w.err {
			t.Errorf("logs[%d]: got %v, want event %s status %v retry_count %v error %q", i, l, w.event, w.status, w.retryCnt, w.err)
		}
		for _, f := range []string{"timestamp", "response_time_ms"} {
			if _, ok := l[f]; !ok {
				t.Errorf("logs[%d] has no %s", i, f)
			}
		}
	}
	if logs[0]["delivery_id"] != dlv || logs[0]["event_id"] != ev.str("id") {
		t.Errorf("logs[0]: got delivery %v event %v, want %s %s", logs[0]["delivery_id"], logs[0]["event_id"], dlv, ev.str("id"))
	}
	pages := fx.listAll(t, "/v1/webhooks/"+id+"/logs", fx.admin, 2)
	if len(pages) != 2 || len(slices.Concat(pages...)) != 3 || len(uniq(slices.Concat(pages...))) != 3 {
		t.Errorf("logs in pages of 2: got %v", pages)
	}

	// A failing endpoint, and an inactive webhook, can still be tested.
	fx.do(t, "PATCH", "/v1/webhooks/"+id, fx.admin, obj{"active": false}).must(t, http.StatusOK)
	rc.respond("/ok", http.StatusInternalServerError)
	r = fx.do(t, "POST", "/v1/webhooks/"+id+"/test", fx.admin, nil).must(t, http.StatusOK)
	if r.body["http_status"] != 500.0 || r.body["success"] != false || r.str("error") != "HTTP 500" {
		t.Errorf("test of a failing endpoint: got %s", r.raw)
	}
	fx.do(t, "POST", "/v1/webhooks/wh_nope/test", fx.admin, nil).problem(t, http.StatusNotFound, "")
	fx.do(t, "GET", "/v1/webhooks/wh_nope/logs", fx.admin, nil).problem(t, http.StatusNotFound, "")
}

// A test send is one truth: its event_id leads to the event it sent, for the
// keys that may see the webhook and no others, and its answer is the log's
// entry for it, timestamp included (the millisecond the store keeps).
func TestWebhookTestSendLeadsSomewhere(t *testing.T) {
	onEachDriver(t, func(t *testing.T, setup setupFunc) {
		fx := setup(t)
		rc := fx.receiver()
		_, acme := fx.createKey(t, obj{"name": "acme", "tenant": "acme", "scopes": []string{"webhooks:write", "events:read", "deliveries:read"}})
		_, globex := fx.createKey(t, obj{"name": "globex", "tenant": "globex", "scopes": []string{"events:read"}})
		id := fx.createWebhook(t, acme, obj{"url": rc.url + "/t"}).str("id")

		sent := fx.do(t, "POST", "/v1/webhooks/"+id+"/test", acme, nil).must(t, http.StatusOK)
		env := decodeEnvelope(t, rc.requests("/t")[0].body)
		ev := fx.do(t, "GET", "/v1/events/"+sent.str("event_id"), acme, nil).must(t, http.StatusOK)
		if ev.str("id") != env.ID || ev.str("type") != "webhook.test" || ev.str("tenant") != "acme" || !bytes.Equal(compactJSON(t, ev.body["data"]), env.Data) {
			t.Errorf("GET /v1/events/{the test's event_id}: got %s, want the event sent, %s", ev.raw, rc.requests("/t")[0].body)
		}
		if ds, ok := ev.body["deliveries"].([]any); !ok || len(ds) != 0 {
			t.Errorf("the test event's deliveries: got %v, want [] (a test send is no delivery)", ev.body["deliveries"])
		}
		fx.do(t, "GET", "/v1/events/"+sent.str("event_id"), globex, nil).problem(t, http.StatusNotFound, "")

		logs := fx.do(t, "GET", "/v1/webhooks/"+id+"/logs", acme, nil).must(t, http.StatusOK).items()
		if len(logs) != 1 {
			t.Fatalf("log: got %d entries, want 1", len(logs))
		}
		if got, want := fmt.Sprint(logs[0]), fmt.Sprint(sent.body); got != want {
			t.Errorf("one attempt, two answers:\n the test answered %s\n      the log shows %s", want, got)
		}
		if ts, err := time.Parse(time.RFC3339Nano, sent.str("timestamp")); err != nil || !ts.Equal(ts.Truncate(time.Millisecond)) {
			t.Errorf("test answer's timestamp %q: got %v, want a time to the millisecond", sent.str("timestamp"), err)
		}
	})
}

// compactJSON is v encoded, for comparing a decoded answer with raw JSON.
func compactJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
