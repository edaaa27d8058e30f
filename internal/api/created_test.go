package api_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

// Every 201 answer has a Location: the path of the object it created, where
// the object is read (or, for an API key, deleted).
func TestCreatedHasLocation(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	id := func(r response) string { return r.str("id") }
	name := func(r response) string { return r.str("name") }

	var keyID string
	tests := []struct {
		route string
		path  string
		body  obj
		want  func(r response) string // the path the answer should name
		read  bool                    // GET at the Location shows the object
	}{
		{"POST /v1/webhooks", "/v1/webhooks", obj{"url": discard},
			func(r response) string { return "/v1/webhooks/" + id(r) }, true},
		{"POST /v1/event-types", "/v1/event-types", obj{"name": "invoice.paid"},
			func(r response) string { return "/v1/event-types/" + name(r) }, true},
		{"POST /v1/profiles", "/v1/profiles", obj{"name": "acme", "definition": rawProfile},
			func(r response) string { return "/v1/profiles/" + name(r) }, true},
		{"POST /v1/api-keys", "/v1/api-keys", obj{"name": "ci", "scopes": []string{"events:write"}},
			func(r response) string { return "/v1/api-keys/" + id(r) }, false},
		{"POST /v1/keyspaces", "/v1/keyspaces", obj{"name": "formulr", "prefix": "frm", "permissions": []any{"a"}},
			func(r response) string { return "/v1/keyspaces/" + name(r) }, true},
		{"POST /v1/keyspaces/{name}/keys", "/v1/keyspaces/formulr/keys", obj{"tenant": "acme", "name": "crm", "permissions": []any{"a"}},
			func(r response) string { keyID = id(r); return "/v1/keyspaces/formulr/keys/" + keyID }, true},
		{"POST /v1/keyspaces/{name}/keys/{id}/roll", "", obj{"grace_period": "1h"},
			func(r response) string {
				k, _ := r.body["key"].(map[string]any)
				s, _ := k["id"].(string)
				return "/v1/keyspaces/formulr/keys/" + s
			}, true},
		{"POST /v1/portal-sessions", "/v1/portal-sessions", obj{"tenant": "acme"},
			func(r response) string { return "/v1/portal-sessions/" + id(r) }, true},
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.route] = true
		path := tt.path
		if path == "" {
			path = "/v1/keyspaces/formulr/keys/" + keyID + "/roll"
		}
		r := fx.do(t, "POST", path, fx.admin, tt.body).must(t, http.StatusCreated)
		want := tt.want(r)
		if strings.HasSuffix(want, "/") {
			t.Fatalf("%s: the answer has no id or name: %s", tt.route, r.raw)
		}
		if got := r.header.Get("Location"); got != want {
			t.Errorf("%s: got Location %q, want %q", tt.route, got, want)
			continue
		}
		if tt.read {
			fx.do(t, "GET", want, fx.admin, nil).must(t, http.StatusOK)
		}
	}
	for op, o := range fx.operations(t) {
		if !covered[op] && slices.Contains(o.responses, "201") {
			t.Errorf("%s answers 201: add it to this test", op)
		}
	}
}
