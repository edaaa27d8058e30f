package portal_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/browsertest"
	"github.com/hookline/hookline/internal/hooklinetest"
)

// receiver is a webhook endpoint on loopback that records what it gets and
// answers with the status set.
type receiver struct {
	*httptest.Server
	status atomic.Int32
	mu     sync.Mutex
	got    []received
}

type received struct {
	Header http.Header
	Body   string
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{}
	rc.status.Store(http.StatusOK)
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, received{Header: r.Header.Clone(), Body: string(b)})
		rc.mu.Unlock()
		w.WriteHeader(int(rc.status.Load()))
		_, _ = w.Write([]byte(`{"received":true}`))
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

// waitStatus polls the API until the delivery of an event reaches status,
// and returns the delivery's id.
func waitStatus(t *testing.T, h *hooklinetest.Server, eventID, status string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, out := call(t, h, "GET", "/v1/deliveries?event_id="+eventID, nil)
		if items, _ := out["items"].([]any); len(items) == 1 {
			d := items[0].(map[string]any)
			if d["status"] == status {
				return d["id"].(string)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the delivery of %s did not become %s: %v", eventID, status, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// publish publishes an event through the API and returns its id.
func publish(t *testing.T, h *hooklinetest.Server, tenant, typ string, data any) string {
	t.Helper()
	status, out := call(t, h, "POST", "/v1/events", map[string]any{"tenant": tenant, "type": typ, "data": data})
	if status != http.StatusAccepted {
		t.Fatalf("publish: %d %v", status, out)
	}
	return out["id"].(string)
}

// must fails the test now on an error.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// text reads an element's text, failing the test if it cannot.
func text(t *testing.T, b *browsertest.Browser, selector string) string {
	t.Helper()
	s, err := b.Text(selector)
	must(t, err)
	return s
}

// screenshot saves the page for docs/portal.md when HOOKLINE_SCREENSHOTS
// names a directory, and to the test's temporary directory otherwise (so
// that taking one is always tested).
func screenshot(t *testing.T, b *browsertest.Browser, name string) {
	t.Helper()
	dir := os.Getenv("HOOKLINE_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	must(t, b.Screenshot(filepath.Join(dir, name+".png")))
}

// The portal's webhook flow in a real browser, as a customer goes through
// it: add a webhook through the form, send a test of a catalogue type and
// see its attempt, find a failed delivery in the log with its request and
// response, retry it, recover the failed ones since a time after counting
// them, reveal the secret on request only. Then what must be refused: a
// form without its CSRF token, another tenant's ids, and what the session's
// capabilities do not allow.
func TestPortalWebhookFlowInABrowser(t *testing.T) {
	h := hooklinetest.Start(t, hooklinetest.Options{})
	rc := newReceiver(t)
	if status, out := call(t, h, "POST", "/v1/event-types", map[string]any{
		"name": "form.submitted", "description": "A form was submitted.", "example": map[string]any{"form": "contact", "answers": 3},
	}); status != http.StatusCreated {
		t.Fatalf("create event type: %d %v", status, out)
	}
	_, other := call(t, h, "POST", "/v1/webhooks", map[string]any{"url": rc.URL + "/globex", "tenant": "globex"})
	otherID := other["id"].(string)
	otherEvent := publish(t, h, "globex", "form.submitted", map[string]any{"n": 0})
	otherDelivery := waitStatus(t, h, otherEvent, "succeeded")

	b := browsertest.New(t)
	_, link := session(t, h, map[string]any{"tenant": "acme", "locale": "en", "capabilities": []string{"manage_webhooks", "secrets", "retry"}})
	must(t, b.Navigate(link))
	if got := text(t, b, "main"); !strings.Contains(got, "No webhooks yet.") {
		t.Fatalf("a new tenant's portal shows:\n%s", got)
	}

	// Add a webhook through the form.
	must(t, b.ClickAndWait(`a[href="/portal/webhooks/new"]`))
	screenshot(t, b, "portal-new-webhook")
	must(t, b.Fill("#url", rc.URL+"/acme"))
	must(t, b.Fill("#description", "Orders service"))
	must(t, b.Click(`input[name="event"][value="form.submitted"]`))
	must(t, b.Submit("#url"))
	if b.Status() != http.StatusOK || !strings.Contains(b.URL(), "/portal/webhooks/wh_") {
		t.Fatalf("after creating: %d %s", b.Status(), b.URL())
	}
	if got := text(t, b, ".flash"); got != "The webhook was added." {
		t.Errorf("flash: %q", got)
	}
	id := strings.TrimPrefix(strings.Split(b.URL(), "?")[0], h.URL+"/portal/webhooks/")
	_, wh := call(t, h, "GET", "/v1/webhooks/"+id+"?include_secret=true", nil)
	if wh["tenant"] != "acme" || wh["url"] != rc.URL+"/acme" || wh["description"] != "Orders service" {
		t.Errorf("the webhook created: %v", wh)
	}
	if ev, _ := wh["events"].([]any); len(ev) != 1 || ev[0] != "form.submitted" {
		t.Errorf("its events: %v", wh["events"])
	}
	secret := wh["secret"].(string)
	var html string
	must(t, b.Eval("document.documentElement.outerHTML", &html))
	if strings.Contains(html, secret) {
		t.Error("the webhook page holds the secret before it is revealed")
	}

	// Send a test of a catalogue type: the attempt leads the log.
	must(t, b.Fill("#test-type", "form.submitted"))
	must(t, b.Submit("#test-type"))
	if got := text(t, b, ".flash"); !strings.Contains(got, "Test sent") {
		t.Errorf("after the test, flash %q", got)
	}
	first := text(t, b, "ol.attempts li:first-child summary")
	if !strings.Contains(first, "200") || !strings.Contains(first, "form.submitted") || !strings.Contains(first, "test") {
		t.Errorf("the first attempt of the log: %q", first)
	}
	if got := rc.requests(); len(got) != 2 || !strings.Contains(got[1].Body, `"answers":3`) || got[1].Header.Get("Webhook-Signature") == "" {
		t.Errorf("the receiver got %d requests; the test one: %+v", len(got), got[len(got)-1])
	}
	screenshot(t, b, "portal-webhook")

	// A failed delivery in the log, with its request and response.
	rc.status.Store(http.StatusInternalServerError)
	failedEvent := publish(t, h, "acme", "form.submitted", map[string]any{"order": "A-1"})
	failedID := waitStatus(t, h, failedEvent, "failed")
	must(t, b.Navigate(h.URL+"/portal/deliveries?status=failed"))
	rows := text(t, b, "#log")
	if !strings.Contains(rows, failedEvent) || strings.Contains(rows, otherEvent) {
		t.Errorf("the log of failed deliveries shows:\n%s", rows)
	}
	screenshot(t, b, "portal-deliveries")
	// Live refresh: a delivery that fails now appears without a reload.
	must(t, b.Click("#live"))
	lateEvent := publish(t, h, "acme", "form.submitted", map[string]any{"order": "late"})
	waitStatus(t, h, lateEvent, "failed")
	must(t, b.WaitText("#log", lateEvent))
	must(t, b.Click("#live")) // off again
	must(t, b.ClickAndWait(`a[href="/portal/deliveries/`+failedID+`"]`))
	must(t, b.Click("ol.attempts li:first-child summary"))
	attempt := text(t, b, "ol.attempts li:first-child")
	for _, want := range []string{"500", "webhook-signature", `"order":"A-1"`, `{"received":true}`} {
		if !strings.Contains(attempt, want) {
			t.Errorf("the attempt shows no %q:\n%s", want, attempt)
		}
	}
	screenshot(t, b, "portal-delivery")

	// Retry it, now that the endpoint is fixed.
	rc.status.Store(http.StatusOK)
	must(t, b.Submit(`form[action="/portal/deliveries/`+failedID+`/retry"]`))
	if got := text(t, b, ".flash"); !strings.Contains(got, "retried") {
		t.Errorf("after retry, flash %q", got)
	}
	waitStatus(t, h, failedEvent, "succeeded")

	// Recover the failed deliveries since a time: counted first.
	rc.status.Store(http.StatusInternalServerError)
	failed := []string{lateEvent}
	for i := range 2 {
		e := publish(t, h, "acme", "form.submitted", map[string]any{"order": i})
		waitStatus(t, h, e, "failed")
		failed = append(failed, e)
	}
	rc.status.Store(http.StatusOK)
	must(t, b.Navigate(h.URL+"/portal/webhooks/"+id))
	must(t, b.ClickAndWait(`a[href="/portal/webhooks/`+id+`/recover"]`))
	if got := text(t, b, "#recover-count"); !strings.HasPrefix(got, "3 failed deliveries will be retried") {
		t.Errorf("recover counts %q, want 3", got)
	}
	must(t, b.Submit(`form[method="post"][action="/portal/webhooks/`+id+`/recover"]`))
	if got := text(t, b, "#recover-count"); !strings.HasPrefix(got, "3 ") {
		t.Errorf("recovered: %q", got)
	}
	for _, e := range failed {
		waitStatus(t, h, e, "succeeded")
	}

	// The secret, on request.
	must(t, b.Navigate(h.URL+"/portal/webhooks/"+id))
	must(t, b.Submit(`form[action="/portal/webhooks/`+id+`/secret"]`))
	if got := text(t, b, "#secret-value"); got != secret {
		t.Errorf("revealed %q, want the webhook's secret", got)
	}

	// A form posted without its CSRF token changes nothing.
	must(t, b.Navigate(h.URL+"/portal/webhooks/"+id))
	must(t, b.Eval(`document.querySelectorAll('form[action$="/active"] input[name="csrf"]').forEach(e => e.remove()), true`, nil))
	must(t, b.Submit(`form[action="/portal/webhooks/`+id+`/active"]`))
	if b.Status() != http.StatusForbidden || text(t, b, "h1") != "Form expired" {
		t.Errorf("a form without CSRF token: %d %q", b.Status(), text(t, b, "h1"))
	}
	takeStatusProblems(t, b, 403)
	if _, wh := call(t, h, "GET", "/v1/webhooks/"+id, nil); wh["active"] != true {
		t.Error("a form without its CSRF token disabled the webhook")
	}

	// Another tenant's ids are not found, to read or to act on.
	for _, path := range []string{"/portal/webhooks/" + otherID, "/portal/webhooks/" + otherID + "/edit", "/portal/deliveries/" + otherDelivery, "/portal/webhooks/" + otherID + "/recover"} {
		must(t, b.Navigate(h.URL+path))
		if b.Status() != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", path, b.Status())
		}
		takeStatusProblems(t, b, 404)
	}
	must(t, b.Navigate(h.URL+"/portal/webhooks/"+id))
	var status int
	must(t, b.Eval(`(async () => {
		const csrf = document.querySelector('input[name="csrf"]').value;
		const r = await fetch("/portal/webhooks/`+otherID+`/delete", {method: "POST", body: new URLSearchParams({csrf})});
		return r.status;
	})()`, &status))
	if status != http.StatusNotFound {
		t.Errorf("deleting another tenant's webhook: %d, want 404", status)
	}
	takeStatusProblems(t, b, 404)
	if code, _ := call(t, h, "GET", "/v1/webhooks/"+otherID, nil); code != http.StatusOK {
		t.Errorf("the other tenant's webhook after the attempt: %d", code)
	}
	if got := text(t, b, "main"); strings.Contains(got, "globex") {
		t.Errorf("acme's page mentions globex:\n%s", got)
	}

	// A session that may only view: no forms, and their addresses refused.
	_, viewLink := session(t, h, map[string]any{"tenant": "acme", "locale": "en"})
	must(t, b.Navigate(viewLink))
	must(t, b.Navigate(h.URL+"/portal/webhooks/"+id))
	var forms int
	must(t, b.Eval(`document.querySelectorAll('main form[method="post"]').length`, &forms))
	if forms != 0 {
		t.Errorf("a view-only session sees %d forms that act", forms)
	}
	must(t, b.Navigate(h.URL+"/portal/webhooks/new"))
	if b.Status() != http.StatusForbidden {
		t.Errorf("a view-only session opens the new-webhook form: %d", b.Status())
	}
	takeStatusProblems(t, b, 403)
}

// takeStatusProblems takes the browser's complaints of a page answered with
// status, which the test expected, and fails on any other.
func takeStatusProblems(t *testing.T, b *browsertest.Browser, status int) {
	t.Helper()
	for _, p := range b.TakeProblems() {
		if !strings.Contains(p.Text, "status of "+itoa(status)) {
			t.Errorf("unexpected problem: %s", p)
		}
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }
