package portal_test

import (
	"net/http"
	"testing"

	"github.com/hookline/hookline/internal/browsertest"
	"github.com/hookline/hookline/internal/hooklinetest"
)

// Every page on a phone's screen: nothing wider than the screen, and every
// form field with a label a screen reader can say.
func TestPortalOnAPhone(t *testing.T) {
	h := hooklinetest.Start(t, hooklinetest.Options{})
	rc := newReceiver(t)
	call(t, h, "POST", "/v1/event-types", map[string]any{"name": "form.submitted", "description": "A form was submitted.", "example": map[string]any{"form": "contact"}})
	_, wh := call(t, h, "POST", "/v1/webhooks", map[string]any{"url": rc.URL + "/a-rather-long-path/that/goes/on/and/on/for/a/while?with=query&and=more", "tenant": "acme",
		"description": "A webhook whose address is longer than a phone is wide"})
	id := wh["id"].(string)
	rc.status.Store(http.StatusInternalServerError)
	failed := waitStatus(t, h, publish(t, h, "acme", "form.submitted", map[string]any{"a-long-field-name-for-a-phone": "and a long value that must wrap somewhere on a small screen"}), "failed")
	call(t, h, "POST", "/v1/keyspaces", map[string]any{"name": "api", "prefix": "api", "permissions": []string{"forms:read"}})
	b := browsertest.New(t, browsertest.WindowSize(390, 844))
	_, link := session(t, h, map[string]any{"tenant": "acme", "locale": "fr", "capabilities": []string{"manage_webhooks", "secrets", "retry", "manage_keys"}})
	must(t, b.Navigate(link))
	for _, path := range []string{"/portal/", "/portal/webhooks/" + id, "/portal/webhooks/new", "/portal/webhooks/" + id + "/edit",
		"/portal/deliveries", "/portal/deliveries/" + failed, "/portal/webhooks/" + id + "/recover", "/portal/keys"} {
		must(t, b.Navigate(h.URL+path))
		if b.Status() != http.StatusOK {
			t.Errorf("%s: %d", path, b.Status())
			continue
		}
		var overflow int
		must(t, b.Eval(`document.documentElement.scrollWidth - window.innerWidth`, &overflow))
		if overflow > 0 {
			t.Errorf("%s is %d px wider than the phone", path, overflow)
		}
		var unlabelled []string
		must(t, b.Eval(`[...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
			.filter(e => e.labels.length === 0 && !e.getAttribute('aria-label')).map(e => e.outerHTML)`, &unlabelled))
		if len(unlabelled) > 0 {
			t.Errorf("%s has fields without a label: %v", path, unlabelled)
		}
		if path == "/portal/webhooks/"+id {
			screenshot(t, b, "portal-phone")
		}
	}
}
