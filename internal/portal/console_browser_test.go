package portal_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/browsertest"
	"github.com/hookline/hookline/internal/hooklinetest"
)

// The operator console in a real browser: signed in through its form with
// the admin key, every tenant's webhooks and deliveries, its own pages with
// no CSP violation or console error, and signed out.
func TestConsoleInABrowser(t *testing.T) {
	h := hooklinetest.Start(t, hooklinetest.Options{})
	rc := newReceiver(t)
	for _, tenant := range []string{"acme", "globex"} {
		call(t, h, "POST", "/v1/webhooks", map[string]any{"url": rc.URL + "/" + tenant, "tenant": tenant})
		waitStatus(t, h, publish(t, h, tenant, "order.created", map[string]any{"tenant": tenant}), "succeeded")
	}
	// One delivery waiting for its retry: a profile with a second attempt an
	// hour later, and an endpoint that fails.
	down := newReceiver(t)
	down.status.Store(http.StatusInternalServerError)
	if status, out := call(t, h, "POST", "/v1/profiles", map[string]any{"name": "retrying", "definition": map[string]any{"policy": map[string]any{"retry_schedule": []string{"0s", "1h"}}}}); status != http.StatusCreated {
		t.Fatalf("create profile: %d %v", status, out)
	}
	call(t, h, "POST", "/v1/webhooks", map[string]any{"url": down.URL + "/initech", "tenant": "initech", "profile": "retrying", "secret": "a-raw-secret"})
	retried := publish(t, h, "initech", "order.created", map[string]any{})
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, out := call(t, h, "GET", "/v1/deliveries?event_id="+retried, nil)
		if items, _ := out["items"].([]any); len(items) == 1 && items[0].(map[string]any)["attempt_count"] == float64(1) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the delivery to initech was not attempted: %v", out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	b := browsertest.New(t)
	must(t, b.Navigate(h.URL+"/console/"))
	if b.Status() != http.StatusUnauthorized {
		t.Errorf("the console before signing in: %d, want 401", b.Status())
	}
	takeStatusProblems(t, b, 401)
	must(t, b.Fill("#key", h.Admin))
	must(t, b.Submit("#key"))
	if b.Status() != http.StatusOK || !strings.HasSuffix(b.URL(), "/console/") {
		t.Fatalf("after signing in: %d %s", b.Status(), b.URL())
	}
	if home := text(t, b, "main"); !strings.Contains(home, "/acme") || !strings.Contains(home, "/globex") {
		t.Errorf("the console's webhooks:\n%s", home)
	}
	must(t, b.ClickAndWait(`a[href="/console/deliveries"]`))
	if log := text(t, b, "#log"); !strings.Contains(log, "acme") || !strings.Contains(log, "globex") {
		t.Errorf("the console's delivery log:\n%s", log)
	}
	for _, page := range []string{"tenants", "profiles", "api-keys", "health"} {
		must(t, b.ClickAndWait(`a[href="/console/`+page+`"]`))
		if b.Status() != http.StatusOK {
			t.Errorf("/console/%s: %d", page, b.Status())
		}
	}
	if got := text(t, b, "#queue-depth"); got != "1" {
		t.Errorf("queue depth %q, want 1 (the delivery waiting for its retry)", got)
	}
	if got := text(t, b, "#retry-backlog"); got != "1" {
		t.Errorf("retry backlog %q, want 1", got)
	}
	screenshot(t, b, "console-health")
	must(t, b.Submit(`form[action="/console/logout"]`))
	if got := text(t, b, ".flash"); got != "You are signed out." {
		t.Errorf("after signing out: %q", got)
	}
	must(t, b.Navigate(h.URL+"/console/health"))
	if b.Status() != http.StatusUnauthorized {
		t.Errorf("the console after signing out: %d", b.Status())
	}
	takeStatusProblems(t, b, 401)
}
