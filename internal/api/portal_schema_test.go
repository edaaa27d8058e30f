package api_test

import (
	"net/http"
	"strings"
	"testing"
)

// The portal's webhook form shows each event type's data schema beside its
// description and example.
func TestPortalShowsEventTypeSchema(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	fx.do(t, "POST", "/v1/event-types", fx.admin, obj{"name": "form.submitted", "description": "A form was submitted.",
		"schema": formVoxSchema}).must(t, http.StatusCreated)
	c := portalClient()
	_, loginURL := fx.portalSession(t, fx.admin, obj{"tenant": "acme", "capabilities": []any{"manage_webhooks"}})
	cookie := login(t, c, loginURL)
	page := getPage(t, c, "GET", fx.url+"/portal/webhooks/new", cookie, nil)
	if page.status != http.StatusOK || !strings.Contains(page.body, "Data schema") ||
		!strings.Contains(page.body, `&#34;required&#34;:[&#34;form&#34;,&#34;response&#34;]`) {
		t.Errorf("the new webhook form (%d) does not show the schema:\n%s", page.status, page.body)
	}
}
