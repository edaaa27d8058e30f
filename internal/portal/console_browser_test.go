package portal_test

import (
	"net/http"
	"strings"
	"testing"

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
	if got := text(t, b, "#queue-depth"); got != "0" {
		t.Errorf("queue depth %q, want 0", got)
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
