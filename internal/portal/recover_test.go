package portal_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/hookline/hookline/internal/hooklinetest"
)

// A disabled webhook would cancel at once what a recovery queues: the
// portal counts its failed deliveries, but refuses to queue them, saying to
// enable the webhook first.
func TestPortalRecoverDisabledWebhook(t *testing.T) {
	h := hooklinetest.Start(t, hooklinetest.Options{})
	_, wh := call(t, h, "POST", "/v1/webhooks", map[string]any{"url": "https://acme.example/hooks", "tenant": "acme", "active": false})
	id := wh["id"].(string)
	_, link := session(t, h, map[string]any{"tenant": "acme", "capabilities": []string{"retry"}})
	v := newVisitor(t, h)
	v.signIn(link)

	if status, _, body := v.do("GET", "/portal/webhooks/"+id+"/recover", nil); status != http.StatusOK || !strings.Contains(body, `id="recover-count"`) {
		t.Errorf("count on a disabled webhook: got %d, want 200 with the count", status)
	}
	status, _, body := v.post("/portal/webhooks/"+id+"/recover", url.Values{"since": {"2025-01-02T09:30"}})
	if status != http.StatusConflict || !strings.Contains(body, "This webhook is disabled") {
		t.Errorf("recovery on a disabled webhook: got %d, want 409 saying to enable it:\n%s", status, body)
	}
}
