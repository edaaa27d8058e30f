package api_test

import (
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/keyring"
)

// operation is what the served /openapi.json says of one route.
type operation struct {
	query     []string // the names of its query parameters
	responses []string // its status codes
}

// operations returns every operation of the served /openapi.json, by
// "METHOD /path".
func (fx *fixture) operations(t *testing.T) map[string]operation {
	t.Helper()
	doc := fx.do(t, "GET", "/openapi.json", "", nil).must(t, http.StatusOK).body
	ops := map[string]operation{}
	paths, _ := doc["paths"].(map[string]any)
	for path, item := range paths {
		for method, op := range item.(map[string]any) {
			var o operation
			params, _ := op.(map[string]any)["parameters"].([]any)
			for _, p := range params {
				if p := p.(map[string]any); p["in"] == "query" {
					o.query = append(o.query, p["name"].(string))
				}
			}
			for code := range op.(map[string]any)["responses"].(map[string]any) {
				o.responses = append(o.responses, code)
			}
			ops[strings.ToUpper(method)+" "+path] = o
		}
	}
	return ops
}

// A cursor is the key of an item of its list: anything else is refused
// rather than read as the end of the list, which would stop an iteration
// early without a word.
func TestListsRefuseBadCursors(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	wh := fx.createWebhook(t, fx.admin, obj{"url": discard}).str("id")
	fx.do(t, "POST", "/v1/keyspaces", fx.admin, obj{"name": "formulr", "prefix": "frm", "permissions": []any{"a"}}).must(t, http.StatusCreated)

	lists := []struct {
		path   string
		prefix string // of the ids the list's cursors are; "" for event types, named
	}{
		{"/v1/webhooks", hookline.PrefixWebhook},
		{"/v1/webhooks/" + wh + "/logs", hookline.PrefixAttempt},
		{"/v1/events", hookline.PrefixEvent},
		{"/v1/deliveries", hookline.PrefixDelivery},
		{"/v1/api-keys", hookline.PrefixAPIKey},
		{"/v1/keyspaces/formulr/keys", keyring.PrefixKey},
		{"/v1/event-types", ""},
	}
	covered := map[string]bool{}
	for _, l := range lists {
		covered[strings.Replace(strings.Replace(l.path, wh, "{id}", 1), "formulr", "{name}", 1)] = true
		good := "invoice.paid"
		if l.prefix != "" {
			good = hookline.NewID(l.prefix)
		}
		// An event type's name is its cursor: any valid name is one.
		bad := []string{"not a name", "%00", strings.Repeat("a", 300), "invoice..paid", "invoice/paid"}
		if l.prefix != "" {
			bad = []string{"not-a-cursor", "%00", strings.Repeat("a", 300), good + "x", strings.ToUpper(good), hookline.NewID("zz_"), good[len(l.prefix):]}
		}
		for _, c := range bad {
			t.Run(l.path+"?cursor="+c[:min(len(c), 20)], func(t *testing.T) {
				fx.do(t, "GET", l.path+"?cursor="+url.QueryEscape(c), fx.admin, nil).problem(t, http.StatusBadRequest, "cursor")
			})
		}
		// A cursor of the right form is a place in the list, whether or not
		// its item still exists.
		if r := fx.do(t, "GET", l.path+"?cursor="+good, fx.admin, nil).must(t, http.StatusOK); r.items() == nil {
			t.Errorf("%s?cursor=%s: got %s, want a page", l.path, good, r.raw)
		}
	}
	for op, o := range fx.operations(t) {
		method, path, _ := strings.Cut(op, " ")
		if method == "GET" && slices.Contains(o.query, "cursor") && !covered[path] {
			t.Errorf("%s takes a cursor: add it to this test", op)
		}
	}
}

// Every route refuses a query parameter it does not take, as the body
// decoder refuses an unknown field: a misspelt filter must not quietly list
// everything.
func TestUnknownQueryParameters(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	wh := fx.createWebhook(t, fx.admin, obj{"url": discard}).str("id")

	r := fx.do(t, "GET", "/v1/deliveries?webhookId="+wh, fx.admin, nil)
	r.problem(t, http.StatusBadRequest, "webhookId")
	if d := r.str("detail"); !strings.Contains(d, "webhook_id") {
		t.Errorf("detail %q does not list the parameters the route takes", d)
	}
	fx.do(t, "GET", "/v1/deliveries?webhook_id="+wh, fx.admin, nil).must(t, http.StatusOK)
	fx.do(t, "GET", "/v1/webhooks?limit=1&limit=2", fx.admin, nil).problem(t, http.StatusBadRequest, "limit")
	fx.do(t, "GET", "/v1/webhooks?limit=1&%zz", fx.admin, nil).problem(t, http.StatusBadRequest, "")
	fx.do(t, "GET", "/v1/profiles?limit=10", fx.admin, nil).problem(t, http.StatusBadRequest, "limit")
	// The key is checked first: a client without one learns nothing more.
	fx.do(t, "GET", "/v1/webhooks?bogus=1", "", nil).problem(t, http.StatusUnauthorized, "")

	// Every route of the document, those that need no key included.
	for _, op := range slices.Sorted(maps.Keys(fx.operations(t))) {
		method, path, _ := strings.Cut(op, " ")
		t.Run(op, func(t *testing.T) {
			p := strings.NewReplacer("{id}", wh, "{name}", "x").Replace(path)
			var body any
			if method == "POST" || method == "PUT" || method == "PATCH" {
				body = obj{}
			}
			r := fx.do(t, method, p+"?bogus=1", fx.admin, body)
			if method == "HEAD" { // the answer GET gives, without its body
				r.must(t, http.StatusBadRequest)
				return
			}
			r.problem(t, http.StatusBadRequest, "bogus")
		})
	}
}

// rawSend sends body (nil for none; one of unknown length, such as an
// io.MultiReader, is sent chunked) with exactly the headers given, and the
// admin key.
func (fx *fixture) rawSend(t *testing.T, method, path string, body io.Reader, header http.Header) response {
	t.Helper()
	req, err := http.NewRequest(method, fx.url+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	req.Header.Set("Authorization", "Bearer "+fx.admin)
	res, err := fx.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := response{status: res.StatusCode, header: res.Header, raw: raw}
	if len(raw) > 0 && raw[0] == '{' {
		r.body = map[string]any{}
		if err := json.Unmarshal(raw, &r.body); err != nil {
			t.Fatalf("answer is not JSON: %v\n%s", err, raw)
		}
	}
	fx.remember(r.body)
	return r
}

// A body must be declared as JSON: 415 otherwise. A request without a body
// needs no Content-Type.
func TestContentType(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	wh := fx.createWebhook(t, fx.admin, obj{"url": discard}).str("id")
	body := `{"url": "` + discard + `"}`

	tests := []struct {
		contentType string // "-" for no Content-Type header at all
		status      int
	}{
		{"application/json", http.StatusCreated},
		{"application/json; charset=utf-8", http.StatusCreated},
		{"Application/JSON; Charset=UTF-8", http.StatusCreated},
		{"application/merge-patch+json", http.StatusCreated},
		{"application/vnd.acme.webhook+json; version=2", http.StatusCreated},
		{"-", http.StatusUnsupportedMediaType},
		{"", http.StatusUnsupportedMediaType},
		{"text/plain", http.StatusUnsupportedMediaType},
		{"text/plain; charset=utf-8", http.StatusUnsupportedMediaType},
		{"application/x-www-form-urlencoded", http.StatusUnsupportedMediaType},
		{"multipart/form-data; boundary=x", http.StatusUnsupportedMediaType},
		{"application/jsonx", http.StatusUnsupportedMediaType},
		{"application/+json", http.StatusUnsupportedMediaType},
		{"application/json; charset=iso-8859-1", http.StatusUnsupportedMediaType},
		{"application/json; charset", http.StatusUnsupportedMediaType},
	}
	for _, tt := range tests {
		t.Run(tt.contentType, func(t *testing.T) {
			h := http.Header{}
			if tt.contentType != "-" {
				h["Content-Type"] = []string{tt.contentType}
			}
			r := fx.rawSend(t, "POST", "/v1/webhooks", strings.NewReader(body), h)
			if tt.status != http.StatusUnsupportedMediaType {
				r.must(t, tt.status)
				return
			}
			r.problem(t, tt.status, "")
			if typ := r.str("type"); typ != "urn:hookline:problem:unsupported-media-type" {
				t.Errorf("got type %q, want urn:hookline:problem:unsupported-media-type", typ)
			}
			if d := r.str("detail"); !strings.Contains(d, "application/json") {
				t.Errorf("detail %q does not say what to send", d)
			}
		})
	}

	asJSON := http.Header{"Content-Type": {"application/json"}}
	// Other methods and routes that take a body; the check comes after the key's.
	fx.rawSend(t, "PATCH", "/v1/webhooks/"+wh, strings.NewReader(`{"description":"x"}`), http.Header{"Content-Type": {"text/plain"}}).problem(t, http.StatusUnsupportedMediaType, "")
	fx.rawSend(t, "POST", "/v1/events/batch", strings.NewReader(`{"events":[]}`), nil).problem(t, http.StatusUnsupportedMediaType, "")
	fx.do(t, "POST", "/v1/webhooks", "", "x").problem(t, http.StatusUnauthorized, "")
	// Without a body, no Content-Type is needed, whether the length is 0 or
	// the body is chunked and empty.
	fx.rawSend(t, "POST", "/v1/webhooks/"+wh+"/rotate-secret", nil, nil).must(t, http.StatusOK)
	chunked := "POST /v1/webhooks/" + wh + "/rotate-secret HTTP/1.1\r\nHost: hookline\r\nAuthorization: Bearer " + fx.admin +
		"\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
	if res, doc := fx.rawRequest(t, chunked, false); res.StatusCode != http.StatusOK {
		t.Errorf("rotate-secret with an empty chunked body: got %d %v, want 200", res.StatusCode, doc)
	} else {
		fx.remember(doc)
	}
	fx.rawSend(t, "POST", "/v1/webhooks/"+wh+"/test", nil, nil).must(t, http.StatusOK)
	fx.rawSend(t, "DELETE", "/v1/webhooks/"+wh, nil, nil).must(t, http.StatusNoContent)
	// A chunked body is checked like any other.
	fx.rawSend(t, "POST", "/v1/webhooks", io.MultiReader(strings.NewReader(body)), nil).problem(t, http.StatusUnsupportedMediaType, "")
	fx.rawSend(t, "POST", "/v1/webhooks", io.MultiReader(strings.NewReader(body)), asJSON).must(t, http.StatusCreated)
}
