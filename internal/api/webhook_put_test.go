package api_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"testing"
)

// A profile with put: partial makes PUT change only the fields it gives:
// Products Manager's page updates a webhook with {"events", "active"} alone.
func TestWebhookPartialPut(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	def := maps.Clone(rawProfile)
	def["put"] = "partial"
	fx.do(t, "POST", "/v1/profiles", fx.admin, obj{"name": "pm", "definition": def}).must(t, http.StatusCreated)
	fx.do(t, "POST", "/v1/profiles", fx.admin, obj{"name": "bad", "definition": obj{"put": "merge"}}).
		problem(t, http.StatusUnprocessableEntity, "definition.put")

	id := fx.createWebhook(t, fx.admin, obj{"url": discard, "profile": "pm", "secret": "votre_secret_pour_signature", "events": []string{"product.created"}, "description": "kept"}).str("id")
	page := json.RawMessage(`{
  "events": ["import.completed", "import.failed"],
  "active": true
}`)
	got := fx.do(t, "PUT", "/v1/webhooks/"+id+"?include_secret=true", fx.admin, page).must(t, http.StatusOK)
	var wh struct {
		URL, Secret, Profile, Description string
		Events                            []string
	}
	if err := json.Unmarshal(got.raw, &wh); err != nil {
		t.Fatal(err)
	}
	if wh.URL != discard || wh.Secret != "votre_secret_pour_signature" || wh.Profile != "pm" || wh.Description != "kept" ||
		len(wh.Events) != 2 || wh.Events[0] != "import.completed" {
		t.Errorf("partial PUT: got %s, want the events changed and everything else kept", got.raw)
	}

	// Another profile keeps PUT's replace semantics: the page's body lacks url.
	std := fx.createWebhook(t, fx.admin, obj{"url": discard}).str("id")
	fx.do(t, "PUT", "/v1/webhooks/"+std, fx.admin, page).problem(t, http.StatusUnprocessableEntity, "url")
}
