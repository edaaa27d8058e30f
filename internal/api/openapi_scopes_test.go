package api_test

import (
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/hookline/hookline/internal/hookline"
)

// TestRequiredScopes holds every operation's x-required-scope to what the
// server checks, in wrap and in the handler: a key holding only that scope
// is not refused for its scopes, and a key holding every other one (admin
// aside) is.
func TestRequiredScopes(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	doc := fx.do(t, "GET", "/openapi.json", "", nil).must(t, http.StatusOK).body
	keys := map[string]string{}
	key := func(scopes ...string) string {
		name := strings.Join(scopes, " ")
		if keys[name] == "" {
			_, keys[name] = fx.createKey(t, obj{"name": "scopes", "scopes": scopes})
		}
		return keys[name]
	}
	paths, _ := doc["paths"].(map[string]any)
	checked := 0
	for _, path := range slices.Sorted(maps.Keys(paths)) {
		for method, op := range paths[path].(map[string]any) {
			scope, _ := op.(map[string]any)["x-required-scope"].(string)
			if scope == "" {
				continue
			}
			checked++
			method, target := strings.ToUpper(method), strings.NewReplacer("{id}", "x", "{name}", "x").Replace(path)
			var others []string
			for _, s := range hookline.Scopes {
				if s != scope && s != hookline.ScopeAdmin {
					others = append(others, s)
				}
			}
			// No body: a route that needs one refuses it after the scope checks.
			if r := fx.do(t, method, target, key(scope), nil); r.status == http.StatusForbidden {
				t.Errorf("%s %s: a key with only %q, the scope the document names, got 403: %s", method, path, scope, r.raw)
			}
			if r := fx.do(t, method, target, key(others...), nil); r.status != http.StatusForbidden {
				t.Errorf("%s %s: a key with every scope but %q (and admin) got %d, want 403: the document names the scope it needs", method, path, scope, r.status)
			}
		}
	}
	if checked < 50 {
		t.Fatalf("checked %d operations; the document's x-required-scope went missing", checked)
	}
}

// TestHeadAnswersAsGet: HEAD is GET without the body.
func TestHeadAnswersAsGet(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	id := fx.createWebhook(t, fx.admin, obj{"url": discard}).str("id")
	for _, path := range []string{"/healthz", "/openapi.json", "/v1/webhooks", "/v1/webhooks/" + id, "/v1/webhooks/wh_none", "/v1/events?bogus=1"} {
		for _, key := range []string{fx.admin, ""} {
			get := fx.do(t, "GET", path, key, nil)
			head := fx.do(t, "HEAD", path, key, nil)
			if head.status != get.status || len(head.raw) != 0 {
				t.Errorf("HEAD %s: got %d with %d bytes, want GET's %d without a body", path, head.status, len(head.raw), get.status)
			}
			for _, h := range []string{"Content-Type", "WWW-Authenticate", "Allow"} {
				if head.header.Get(h) != get.header.Get(h) {
					t.Errorf("HEAD %s: %s got %q, GET's is %q", path, h, head.header.Get(h), get.header.Get(h))
				}
			}
		}
	}
}
