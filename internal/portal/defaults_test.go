package portal_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/hookline/hookline/internal/hooklinetest"
)

// The create form preselects the profile a webhook created without one gets:
// the tenant's default (PUT /v1/tenants/{tenant}/defaults), else the server's.
func TestPortalNewWebhookPreselectsDefaultProfile(t *testing.T) {
	h := hooklinetest.Start(t, hooklinetest.Options{})
	def := map[string]any{"signature": map[string]any{"header": "X-Acme-Signature", "key": "raw"}}
	call(t, h, "POST", "/v1/profiles", map[string]any{"name": "acme", "definition": def})
	call(t, h, "PUT", "/v1/tenants/acme/defaults", map[string]any{"profile": "acme"})
	for _, c := range []struct{ tenant, want string }{{"acme", "acme"}, {"other", "standard"}} {
		_, link := session(t, h, map[string]any{"tenant": c.tenant, "capabilities": []string{"manage_webhooks"}})
		v := newVisitor(t, h)
		v.signIn(link)
		status, _, body := v.do("GET", "/portal/webhooks/new", nil)
		if want := `<option value="` + c.want + `" selected>`; status != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("tenant %s: got %d, want 200 with %s preselected", c.tenant, status, want)
		}
	}
}
