package portal_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/hookline/hookline/internal/hooklinetest"
)

// A webhook whose profile's signature header carries one signature gets no
// grace on rotation: the page offers none, says why, and a forged grace is
// not granted.
func TestPortalRotateOneSignatureNoGrace(t *testing.T) {
	h := hooklinetest.Start(t, hooklinetest.Options{})
	def := map[string]any{"signature": map[string]any{"header": "X-Acme-Signature", "key": "raw"}}
	call(t, h, "POST", "/v1/profiles", map[string]any{"name": "acme", "definition": def})
	_, raw := call(t, h, "POST", "/v1/webhooks", map[string]any{"url": "https://acme.example/hooks", "tenant": "acme", "profile": "acme", "secret": "acme-raw-secret-1234"})
	_, std := call(t, h, "POST", "/v1/webhooks", map[string]any{"url": "https://acme.example/std", "tenant": "acme"})
	_, link := session(t, h, map[string]any{"tenant": "acme", "capabilities": []string{"secrets"}})
	v := newVisitor(t, h)
	v.signIn(link)

	_, _, body := v.do("GET", "/portal/webhooks/"+raw["id"].(string), nil)
	if !strings.Contains(body, `id="grace-note"`) || strings.Contains(body, `name="grace"`) {
		t.Errorf("one-signature webhook page: want the no-grace note and no grace choice")
	}
	_, _, body = v.do("GET", "/portal/webhooks/"+std["id"].(string), nil)
	if strings.Contains(body, `id="grace-note"`) || !strings.Contains(body, `name="grace"`) {
		t.Errorf("standard webhook page: want the grace choice")
	}
	status, _, body := v.post("/portal/webhooks/"+raw["id"].(string)+"/rotate", url.Values{"grace": {"24h"}})
	if status != http.StatusOK || strings.Contains(body, "also signs deliveries until") {
		t.Errorf("rotation with a forged grace: got %d, want 200 and no grace:\n%s", status, body)
	}
}
