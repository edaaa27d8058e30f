package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"maps"
	"math"
	"mime"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/apikey"
	"github.com/hookline/hookline/internal/config"
	"github.com/hookline/hookline/internal/delivery"
	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/metrics"
	"github.com/hookline/hookline/internal/profile"
	"github.com/hookline/hookline/internal/store/sqlite/sqlitetest"
	"github.com/hookline/hookline/internal/webhooks"
)

// These tests keep openapi.json equal to the routes table and to the structs the
// handlers read and write, so the published document cannot drift silently.
// Helpers carry an "oa" prefix: other test files of this package have their own.

// oaSpec is the embedded document as generic JSON.
type oaSpec map[string]any

func oaLoadSpec(t *testing.T) oaSpec {
	t.Helper()
	var doc oaSpec
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		t.Fatalf("openapi.json is not valid JSON: %v", err)
	}
	return doc
}

// oaHTTPMethods are the operation keys of a path item.
var oaHTTPMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// oaOp is one operation of the document.
type oaOp struct {
	method, path string
	op           map[string]any
}

func (o oaOp) key() string { return strings.ToUpper(o.method) + " " + o.path }

// ops returns every operation, sorted by path then method.
func (d oaSpec) ops(t *testing.T) []oaOp {
	t.Helper()
	paths, ok := d["paths"].(map[string]any)
	if !ok {
		t.Fatalf("paths: got %T, want an object", d["paths"])
	}
	var out []oaOp
	for path, item := range paths {
		methods, ok := item.(map[string]any)
		if !ok {
			t.Fatalf("paths[%q]: got %T, want an object", path, item)
		}
		for m, op := range methods {
			if !slices.Contains(oaHTTPMethods, m) {
				continue
			}
			o, ok := op.(map[string]any)
			if !ok {
				t.Fatalf("%s %s: got %T, want an object", m, path, op)
			}
			out = append(out, oaOp{method: m, path: path, op: o})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key() < out[j].key() })
	return out
}

// resolve follows a local JSON pointer such as "#/components/schemas/Webhook".
func (d oaSpec) resolve(ref string) (any, error) {
	ptr, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, fmt.Errorf("%q is not a local reference", ref)
	}
	var cur any = map[string]any(d)
	for _, tok := range strings.Split(ptr, "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%q: %q is inside a non-object", ref, tok)
		}
		if cur, ok = obj[tok]; !ok {
			return nil, fmt.Errorf("%q: no %q", ref, tok)
		}
	}
	return cur, nil
}

// deref returns v, or what it refers to when it is a {"$ref": …} object.
func (d oaSpec) deref(t *testing.T, v any) map[string]any {
	t.Helper()
	for range 10 {
		obj, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("got %T, want an object", v)
		}
		ref, ok := obj["$ref"].(string)
		if !ok {
			return obj
		}
		var err error
		if v, err = d.resolve(ref); err != nil {
			t.Fatal(err)
		}
	}
	t.Fatalf("reference chain too long at %v", v)
	return nil
}

// schema returns components.schemas[name].
func (d oaSpec) schema(t *testing.T, name string) map[string]any {
	t.Helper()
	return d.deref(t, map[string]any{"$ref": "#/components/schemas/" + name})
}

// oaRoute splits a routes-table pattern into method and path.
func oaRoute(t *testing.T, rt route) (method, path string) {
	t.Helper()
	method, path, ok := strings.Cut(rt.pattern, " ")
	if !ok {
		t.Fatalf("route %q has no method", rt.pattern)
	}
	return method, path
}

// oaPathParams returns the {names} of a path template.
func oaPathParams(path string) []string {
	var names []string
	for _, m := range regexp.MustCompile(`\{([^}]+)\}`).FindAllStringSubmatch(path, -1) {
		names = append(names, strings.TrimSuffix(m[1], "..."))
	}
	sort.Strings(names)
	return names
}

func oaSortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func oaStrings(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, s := range list {
		if s, ok := s.(string); ok {
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

func TestOpenAPIDocumentIsValid(t *testing.T) {
	t.Parallel()
	if !json.Valid(openAPIDocument) {
		t.Fatal("openapi.json is not valid JSON")
	}
	doc := oaLoadSpec(t)
	if v, _ := doc["openapi"].(string); !regexp.MustCompile(`^3\.1\.\d+$`).MatchString(v) {
		t.Errorf("openapi: got %q, want 3.1.x", v)
	}
	info, _ := doc["info"].(map[string]any)
	for _, f := range []string{"title", "version", "description"} {
		if s, _ := info[f].(string); s == "" {
			t.Errorf("info.%s: got %q, want text", f, s)
		}
	}
	license, _ := info["license"].(map[string]any)
	contact, _ := info["contact"].(map[string]any)
	if name, _ := license["name"].(string); name == "" || (license["url"] == nil && license["identifier"] == nil) {
		t.Errorf("info.license: got %v, want a name and a url or SPDX identifier", info["license"])
	}
	if url, _ := contact["url"].(string); url == "" {
		t.Errorf("info.contact: got %v, want a url", info["contact"])
	}
	bearer := doc.deref(t, map[string]any{"$ref": "#/components/securitySchemes/bearer"})
	if bearer["type"] != "http" || bearer["scheme"] != "bearer" {
		t.Errorf("securitySchemes.bearer: got type %v scheme %v, want http bearer", bearer["type"], bearer["scheme"])
	}
	if len(doc.ops(t)) == 0 {
		t.Error("the document has no operations")
	}
}

func TestOpenAPIPathsMatchRoutes(t *testing.T) {
	t.Parallel()
	doc := oaLoadSpec(t)
	ops := map[string]oaOp{}
	for _, o := range doc.ops(t) {
		ops[o.key()] = o
	}
	want := map[string]bool{}
	for _, rt := range routes {
		method, path := oaRoute(t, rt)
		key := method + " " + path
		want[key] = true
		if _, ok := ops[key]; !ok {
			t.Errorf("route %q has no operation in openapi.json", rt.pattern)
		}
		if method == http.MethodGet {
			// ServeMux answers HEAD wherever it answers GET.
			want["HEAD "+path] = true
			if _, ok := ops["HEAD "+path]; !ok {
				t.Errorf("route %q: openapi.json has no HEAD %s, which ServeMux answers", rt.pattern, path)
			}
		}
	}
	for key, o := range ops {
		if !want[key] {
			t.Errorf("operation %s is not in the routes table", key)
			continue
		}
		// The path parameters declared are exactly the path's {names}, required.
		var declared []string
		params, _ := o.op["parameters"].([]any)
		for _, p := range params {
			p := doc.deref(t, p)
			if p["in"] != "path" {
				continue
			}
			declared = append(declared, fmt.Sprint(p["name"]))
			if p["required"] != true {
				t.Errorf("%s: path parameter %v: required is %v, want true", key, p["name"], p["required"])
			}
		}
		sort.Strings(declared)
		if want := oaPathParams(o.path); !slices.Equal(declared, want) {
			t.Errorf("%s: path parameters got %v, want %v", key, declared, want)
		}
	}
}

func TestOpenAPIOperationsAreComplete(t *testing.T) {
	t.Parallel()
	doc := oaLoadSpec(t)
	tags := map[string]bool{}
	for _, tg := range doc["tags"].([]any) {
		tags[fmt.Sprint(tg.(map[string]any)["name"])] = true
	}
	ids := map[string]string{}
	for _, o := range doc.ops(t) {
		key := o.key()
		id, _ := o.op["operationId"].(string)
		if id == "" {
			t.Errorf("%s: no operationId", key)
		} else if prev, dup := ids[id]; dup {
			t.Errorf("%s: operationId %q already used by %s", key, id, prev)
		}
		ids[id] = key
		if s, _ := o.op["summary"].(string); s == "" {
			t.Errorf("%s: no summary", key)
		}
		opTags := oaStrings(o.op["tags"])
		if len(opTags) == 0 {
			t.Errorf("%s: no tags", key)
		}
		for _, tg := range opTags {
			if !tags[tg] {
				t.Errorf("%s: tag %q is not declared in the top-level tags", key, tg)
			}
		}
		params, _ := o.op["parameters"].([]any)
		for _, p := range params {
			p := doc.deref(t, p)
			if p["name"] == "" || p["in"] == nil || p["schema"] == nil || p["description"] == "" {
				t.Errorf("%s: parameter %v needs name, in, schema and description", key, p)
			}
		}
		resps, _ := o.op["responses"].(map[string]any)
		var success int
		for code, r := range resps {
			r := doc.deref(t, r)
			if d, _ := r["description"].(string); d == "" {
				t.Errorf("%s: response %s has no description", key, code)
			}
			if strings.HasPrefix(code, "2") {
				success++
			}
		}
		if success == 0 {
			t.Errorf("%s: no 2xx response", key)
		}
	}
}

// oaBodies names the request body schema of every route whose handler decodes a
// body; every other route must declare none.
var oaBodies = map[string]string{
	"POST /v1/webhooks":              "WebhookCreate",
	"PUT /v1/webhooks/{id}":          "WebhookReplace",
	"PATCH /v1/webhooks/{id}":        "WebhookUpdate",
	"POST /v1/events":                "EventPublish",
	"POST /v1/events/batch":          "EventBatchPublish",
	"POST /v1/event-types":           "EventTypeCreate",
	"PUT /v1/event-types/{name}":     "EventTypeUpdate",
	"POST /v1/api-keys":              "APIKeyCreate",
	"POST /v1/webhooks/{id}/test":    "",
	"POST /v1/deliveries/{id}/retry": "",
	"POST /v1/webhooks/{id}/recover": "WebhookRecover",
	"POST /v1/events/{id}/replay":    "EventReplay",

	"POST /v1/webhooks/{id}/rotate-secret": "WebhookRotateSecret",
	"POST /v1/profiles":                    "ProfileCreate",
	"PUT /v1/profiles/{name}":              "ProfileUpdate",

	"POST /v1/keyspaces":                         "KeyspaceCreate",
	"PATCH /v1/keyspaces/{name}":                 "KeyspaceUpdate",
	"POST /v1/keyspaces/{name}/keys":             "KeyCreate",
	"POST /v1/keyspaces/{name}/keys/{id}/revoke": "",
	"POST /v1/keyspaces/{name}/keys/{id}/roll":   "KeyRoll",
	"POST /v1/keys/verify":                       "KeyVerify",

	"POST /v1/portal-sessions": "PortalSessionCreate",

	"PUT /v1/tenants/{tenant}/defaults": "TenantDefaultsUpdate",
	"POST /v1/webhook-tests":            "WebhookTestURL",
}

// oaOptionalBodies are the routes of oaBodies whose body may be left out
// (requestBody.required false); every other body is required.
var oaOptionalBodies = map[string]bool{
	"POST /v1/webhooks/{id}/rotate-secret":     true,
	"POST /v1/events/{id}/replay":              true,
	"POST /v1/keyspaces/{name}/keys/{id}/roll": true,
}

func TestOpenAPIRequestBodies(t *testing.T) {
	t.Parallel()
	doc := oaLoadSpec(t)
	for _, o := range doc.ops(t) {
		key := o.key()
		want := oaBodies[key]
		rb, has := o.op["requestBody"]
		if want == "" {
			if has {
				t.Errorf("%s: has a requestBody, want none", key)
			}
			if _, listed := oaBodies[key]; !listed && o.method != "get" && o.method != "head" && o.method != "delete" {
				t.Errorf("%s: add it to oaBodies (with its body schema, or \"\" for none)", key)
			}
			continue
		}
		if !has {
			t.Errorf("%s: no requestBody, want %s", key, want)
			continue
		}
		body := doc.deref(t, rb)
		if want := !oaOptionalBodies[key]; body["required"] != want {
			t.Errorf("%s: requestBody.required: got %v, want %v", key, body["required"], want)
		}
		content, _ := body["content"].(map[string]any)
		media, _ := content["application/json"].(map[string]any)
		if got, _ := media["schema"].(map[string]any)["$ref"].(string); got != "#/components/schemas/"+want {
			t.Errorf("%s: body schema got %q, want %s", key, got, want)
		}
		// decode refuses unknown fields, so every body schema must as well.
		if s := doc.schema(t, want); s["additionalProperties"] != false {
			t.Errorf("%s: schema %s: additionalProperties got %v, want false", key, want, s["additionalProperties"])
		}
		for _, code := range []string{"400", "413", "422"} {
			if _, ok := o.op["responses"].(map[string]any)[code]; !ok {
				t.Errorf("%s: decodes a body but does not declare %s", key, code)
			}
		}
	}
}

func TestOpenAPIScopes(t *testing.T) {
	t.Parallel()
	doc := oaLoadSpec(t)
	ops := map[string]oaOp{}
	for _, o := range doc.ops(t) {
		ops[o.key()] = o
	}
	for _, rt := range routes {
		o, ok := ops[rt.pattern]
		if !ok {
			continue // TestOpenAPIPathsMatchRoutes reports it
		}
		sec, hasSec := o.op["security"].([]any)
		scope, hasScope := o.op["x-required-scope"]
		if rt.scope == "" {
			if !hasSec || len(sec) != 0 {
				t.Errorf("%s: security got %v, want [] (the route needs no key)", rt.pattern, o.op["security"])
			}
			if hasScope {
				t.Errorf("%s: x-required-scope got %v, want none", rt.pattern, scope)
			}
			continue
		}
		// The document may name admin where the handler asks for it beyond
		// the routes table's scope; TestRequiredScopes holds it to what the
		// server really checks.
		if scope != rt.scope && scope != hookline.ScopeAdmin {
			t.Errorf("%s: x-required-scope got %v, want %q (or admin, where the handler demands it)", rt.pattern, scope, rt.scope)
		}
		if desc, _ := o.op["description"].(string); !strings.Contains(desc, fmt.Sprintf("`%s`", scope)) {
			t.Errorf("%s: description does not name the scope %v", rt.pattern, scope)
		}
		if got, _ := json.Marshal(sec); string(got) != `[{"bearer":[]}]` {
			t.Errorf("%s: security got %s, want [{\"bearer\":[]}]", rt.pattern, got)
		}
		resps, _ := o.op["responses"].(map[string]any)
		for _, code := range []string{"401", "403", "429"} {
			if _, ok := resps[code]; !ok {
				t.Errorf("%s: needs a key but does not declare %s", rt.pattern, code)
			}
		}
		if r, ok := resps["429"]; ok {
			headers, _ := doc.deref(t, r)["headers"].(map[string]any)
			if _, ok := headers["Retry-After"]; !ok {
				t.Errorf("%s: 429 has no Retry-After header", rt.pattern)
			}
		}
	}
}

func TestOpenAPIErrorResponses(t *testing.T) {
	t.Parallel()
	doc := oaLoadSpec(t)
	for _, o := range doc.ops(t) {
		key := o.key()
		resps, _ := o.op["responses"].(map[string]any)
		for code, r := range resps {
			if code < "400" || o.path == "/readyz" { // readyz answers 503 in its own JSON
				continue
			}
			content, _ := doc.deref(t, r)["content"].(map[string]any)
			media, ok := content["application/problem+json"].(map[string]any)
			if !ok || len(content) != 1 {
				t.Errorf("%s: response %s: content types got %v, want only application/problem+json", key, code, oaSortedKeys(content))
				continue
			}
			if ref, _ := media["schema"].(map[string]any)["$ref"].(string); ref != "#/components/schemas/Problem" {
				t.Errorf("%s: response %s: schema got %q, want the Problem schema", key, code, ref)
			}
		}
		params, _ := o.op["parameters"].([]any)
		for _, p := range params {
			p := doc.deref(t, p)
			var want string
			switch {
			case p["in"] == "path":
				want = "404"
			case p["name"] == "limit":
				want = "400"
			}
			if _, ok := resps[want]; want != "" && !ok {
				t.Errorf("%s: has parameter %v but does not declare %s", key, p["name"], want)
			}
		}
	}
}

func TestOpenAPIRefsResolve(t *testing.T) {
	t.Parallel()
	doc := oaLoadSpec(t)
	used := map[string]bool{}
	var walk func(at string, v any)
	walk = func(at string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				if _, err := doc.resolve(ref); err != nil {
					t.Errorf("at %s: %v", at, err)
				}
				used[ref] = true
			}
			for k, e := range v {
				walk(at+"/"+k, e)
			}
		case []any:
			for i, e := range v {
				walk(fmt.Sprintf("%s/%d", at, i), e)
			}
		}
	}
	walk("#", map[string]any(doc))
	if len(used) == 0 {
		t.Fatal("no $ref found; the walk is broken")
	}
	// A component nobody refers to is usually a renamed or forgotten schema.
	comps, _ := doc["components"].(map[string]any)
	for _, kind := range []string{"schemas", "responses", "headers"} {
		group, _ := comps[kind].(map[string]any)
		for name := range group {
			if ref := "#/components/" + kind + "/" + name; !used[ref] {
				t.Errorf("%s is never referred to", ref)
			}
		}
	}
}

func TestOpenAPIEnumsMatchDomain(t *testing.T) {
	t.Parallel()
	doc := oaLoadSpec(t)
	scopes := oaStrings(doc.schema(t, "APIKeyCreate")["properties"].(map[string]any)["scopes"].(map[string]any)["items"].(map[string]any)["enum"])
	if want := slices.Sorted(slices.Values(hookline.Scopes)); !slices.Equal(scopes, want) {
		t.Errorf("APIKeyCreate.scopes enum: got %v, want %v", scopes, want)
	}
	statuses := oaStrings(doc.schema(t, "Delivery")["properties"].(map[string]any)["status"].(map[string]any)["enum"])
	if len(statuses) == 0 {
		t.Fatal("Delivery.status has no enum")
	}
	for _, s := range statuses {
		if !hookline.ValidDeliveryStatus(s) {
			t.Errorf("Delivery.status enum: %q is not a delivery status", s)
		}
	}
	for _, s := range []string{hookline.DeliveryPending, hookline.DeliverySucceeded, hookline.DeliveryFailed, hookline.DeliveryCancelled} {
		if !slices.Contains(statuses, s) {
			t.Errorf("Delivery.status enum: %q is missing", s)
		}
	}
}

// oaFill sets every settable field of v, recursively, to a non-zero value, so
// that marshalling it shows every key, omitempty ones included.
func oaFill(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		oaFill(v.Elem())
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)))
			return
		}
		for i := range v.NumField() {
			if v.Field(i).CanSet() {
				oaFill(v.Field(i))
			}
		}
	case reflect.String:
		v.SetString("x")
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(7)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(7)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(7)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Slice:
		if v.Type() == reflect.TypeFor[json.RawMessage]() {
			v.SetBytes([]byte(`{"k":1}`))
			return
		}
		s := reflect.MakeSlice(v.Type(), 1, 1)
		oaFill(s.Index(0))
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		oaFill(k)
		oaFill(e)
		m.SetMapIndex(k, e)
		v.Set(m)
	}
}

// oaMarshalObject marshals v and returns its top-level members.
func oaMarshalObject(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]any
	if err := json.Unmarshal(b, &obj); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return obj
}

// oaJSONType is the JSON Schema type of a decoded JSON value.
func oaJSONType(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		if v == math.Trunc(v) {
			return "integer"
		}
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	}
	return "object"
}

// oaSchemaTypes returns the types a property schema allows; nil means any.
func (d oaSpec) schemaTypes(t *testing.T, prop any) []string {
	t.Helper()
	p := d.deref(t, prop)
	switch ty := p["type"].(type) {
	case string:
		return []string{ty}
	case []any:
		return oaStrings(ty)
	}
	return nil
}

func TestOpenAPISchemasMatchStructs(t *testing.T) {
	t.Parallel()
	doc := oaLoadSpec(t)
	// zero is the value with every omitempty field empty (embedded pointers set):
	// its keys are the schema's required list; full's keys are all its properties.
	cases := []struct {
		schema string
		zero   any
		full   any
	}{
		{"Webhook", hookline.Webhook{}, &hookline.Webhook{}},
		{"WebhookRotated", rotatedView{Webhook: &hookline.Webhook{}}, &rotatedView{Webhook: &hookline.Webhook{}}},
		{"Event", hookline.Event{}, &hookline.Event{}},
		{"EventWithDeliveries", eventWithDeliveries{Event: &hookline.Event{}}, &eventWithDeliveries{}},
		{"Delivery", hookline.Delivery{}, &hookline.Delivery{}},
		{"Attempt", hookline.Attempt{}, &hookline.Attempt{}},
		{"LogEntry", logItem{}, &logItem{}},
		{"WebhookURLTested", urlTested{}, &urlTested{}},
		{"EventAccepted", eventAccepted{}, &eventAccepted{}},
		{"EventBatchAccepted", batchAccepted{}, &batchAccepted{}},
		{"EventBatchResult", batchResult{}, &batchResult{}},
		{"DeliverySummary", deliverySummary{}, &deliverySummary{}},
		{"Recovery", recovered{}, &recovered{}},
		{"EventReplayed", eventReplayed{}, &eventReplayed{}},
		{"ReplaySkip", webhooks.ReplaySkip{}, &webhooks.ReplaySkip{}},
		{"EventType", hookline.EventType{}, &hookline.EventType{}},
		{"APIKey", hookline.APIKey{}, &hookline.APIKey{}},
		{"APIKeyCreated", apiKeyCreated{APIKey: &hookline.APIKey{}}, &apiKeyCreated{}},
		{"Problem", problem{}, &problem{}},
		{"FieldError", fieldError{}, &fieldError{}},
		{"WebhookPage", page[*hookline.Webhook]{}, &page[*hookline.Webhook]{}},
		{"LogEntryPage", page[logItem]{}, &page[logItem]{}},
		{"EventPage", page[hookline.Event]{}, &page[hookline.Event]{}},
		{"DeliveryPage", page[hookline.Delivery]{}, &page[hookline.Delivery]{}},
		{"EventTypePage", page[hookline.EventType]{}, &page[hookline.EventType]{}},
		{"APIKeyPage", page[hookline.APIKey]{}, &page[hookline.APIKey]{}},
		{"Profile", profileView{}, &profileView{}},
		{"ProfilePage", page[profileView]{}, &page[profileView]{}},
	}
	for _, tc := range cases {
		t.Run(tc.schema, func(t *testing.T) {
			t.Parallel()
			s := doc.schema(t, tc.schema)
			props, _ := s["properties"].(map[string]any)
			if s["type"] != "object" || len(props) == 0 {
				t.Fatalf("got type %v with %d properties, want an object schema with properties", s["type"], len(props))
			}
			oaFill(reflect.ValueOf(tc.full))
			full := oaMarshalObject(t, tc.full)
			if got, want := oaSortedKeys(full), oaSortedKeys(props); !slices.Equal(got, want) {
				t.Errorf("JSON keys of the filled struct: got %v, want the schema's properties %v", got, want)
			}
			if got, want := oaSortedKeys(oaMarshalObject(t, tc.zero)), oaStrings(s["required"]); !slices.Equal(got, want) {
				t.Errorf("JSON keys of the zero struct: got %v, want the schema's required %v", got, want)
			}
			for name, v := range full {
				prop, ok := props[name]
				if !ok {
					continue
				}
				types := doc.schemaTypes(t, prop)
				got := oaJSONType(v)
				if len(types) > 0 && !slices.Contains(types, got) && !(got == "integer" && slices.Contains(types, "number")) {
					t.Errorf("property %s: the struct gives %s, the schema says %v", name, got, types)
				}
			}
		})
	}
}

// oaJSONFields returns the JSON names of a struct type's fields.
func oaJSONFields(typ reflect.Type) []string {
	var names []string
	for i := range typ.NumField() {
		f := typ.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-" || !f.IsExported():
			continue
		case name == "":
			name = f.Name
		}
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

func TestOpenAPIRequestSchemasMatchInputs(t *testing.T) {
	t.Parallel()
	doc := oaLoadSpec(t)
	cases := []struct {
		schema string
		input  reflect.Type
	}{
		{"WebhookCreate", reflect.TypeFor[webhooks.Input]()},
		{"WebhookReplace", reflect.TypeFor[webhooks.Input]()},
		{"WebhookUpdate", reflect.TypeFor[webhooks.Input]()},
		{"EventPublish", reflect.TypeFor[eventInput]()},
		{"EventBatchPublish", reflect.TypeFor[batchInput]()},
		{"EventTypeCreate", reflect.TypeFor[eventTypeInput]()},
		{"EventTypeUpdate", reflect.TypeFor[eventTypeInput]()},
		{"APIKeyCreate", reflect.TypeFor[apiKeyInput]()},
		{"WebhookRotateSecret", reflect.TypeFor[rotateInput]()},
		{"WebhookTestURL", reflect.TypeFor[webhooks.TestURLInput]()},
		{"WebhookRecover", reflect.TypeFor[recoverInput]()},
		{"EventReplay", reflect.TypeFor[replayInput]()},
		{"ProfileCreate", reflect.TypeFor[profileInput]()},
		{"ProfileUpdate", reflect.TypeFor[profileInput]()},
		{"ProfileDefinition", reflect.TypeFor[profile.Definition]()},
		{"ProfileSignature", reflect.TypeFor[profile.Signature]()},
		{"ProfilePolicy", reflect.TypeFor[profile.PolicyDefinition]()},
		{"ProfileAutoDisable", reflect.TypeFor[profile.AutoDisable]()},
	}
	for _, tc := range cases {
		props, _ := doc.schema(t, tc.schema)["properties"].(map[string]any)
		if got, want := oaSortedKeys(props), oaJSONFields(tc.input); !slices.Equal(got, want) {
			t.Errorf("%s properties: got %v, want the fields of %s %v", tc.schema, got, tc.input.Name(), want)
		}
	}
}

// oaNewServer serves the API over loopback with a real SQLite store in a
// temporary directory; the delivery engine is created but not started.
func oaNewServer(t *testing.T) *httptest.Server {
	t.Helper()
	s := sqlitetest.Open(t)
	log := slog.New(slog.DiscardHandler)
	m := metrics.New()
	engine := delivery.New(delivery.Options{Store: s, Metrics: m, Logger: log})
	hasher, err := apikey.NewHasher(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(CheckContract(t, New(Options{Store: s, Engine: engine, Config: config.Config{MaxPayloadBytes: 1 << 20}, Metrics: m, Logger: log, Hasher: hasher})))
	t.Cleanup(srv.Close)
	return srv
}

// oaGet fetches path without credentials.
func oaGet(t *testing.T, srv *httptest.Server, path string) (*http.Response, []byte) {
	t.Helper()
	res, err := srv.Client().Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, body
}

func TestOpenAPIServedVerbatim(t *testing.T) {
	t.Parallel()
	srv := oaNewServer(t)
	res, body := oaGet(t, srv, "/openapi.json")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /openapi.json: got %d, want 200: %s", res.StatusCode, body)
	}
	if mt, _, err := mime.ParseMediaType(res.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		t.Errorf("Content-Type: got %q, want application/json", res.Header.Get("Content-Type"))
	}
	if !bytes.Equal(body, openAPIDocument) {
		t.Errorf("body: got %d bytes that differ from the embedded document (%d bytes)", len(body), len(openAPIDocument))
	}
	onDisk, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(body, onDisk) {
		t.Error("body differs from internal/api/openapi.json")
	}
}

func TestDocsListsEveryOperation(t *testing.T) {
	t.Parallel()
	srv := oaNewServer(t)
	res, body := oaGet(t, srv, "/docs")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /docs: got %d, want 200: %s", res.StatusCode, body)
	}
	if mt, _, err := mime.ParseMediaType(res.Header.Get("Content-Type")); err != nil || mt != "text/html" {
		t.Errorf("Content-Type: got %q, want text/html", res.Header.Get("Content-Type"))
	}
	page := string(body)
	if !strings.HasSuffix(strings.TrimSpace(page), "</html>") {
		t.Errorf("the page is cut short: it ends %q", page[max(0, len(page)-80):])
	}
	for _, rt := range routes {
		method, path := oaRoute(t, rt)
		if want := fmt.Sprintf(`<span class="m %s">%s</span> <code>%s</code>`, method, method, path); !strings.Contains(page, want) {
			t.Errorf("the page does not list %s (looked for %s)", rt.pattern, want)
		}
	}
	doc := oaLoadSpec(t)
	for _, o := range doc.ops(t) {
		if s, _ := o.op["summary"].(string); !strings.Contains(page, html.EscapeString(s)) {
			t.Errorf("the page does not show the summary of %s: %q", o.key(), s)
		}
	}
	for name := range doc["components"].(map[string]any)["schemas"].(map[string]any) {
		if !strings.Contains(page, `<h3 id="schema-`+name+`">`) {
			t.Errorf("the page does not show schema %s", name)
		}
	}
}

// page is the shape of every list response, as writePage writes it
// (listPage, whose items are already encoded); the schema tests compare the
// document with it, and TestPageMatchesListPage keeps the two alike.
type page[T any] struct {
	Items      []T    `json:"items"`
	HasMore    bool   `json:"has_more"`
	NextCursor string `json:"next_cursor"`
	PrevCursor string `json:"prev_cursor"`
}

func TestPageMatchesListPage(t *testing.T) {
	keys := func(v any) []string {
		b, _ := json.Marshal(v)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		return slices.Sorted(maps.Keys(m))
	}
	if got, want := keys(page[int]{}), keys(listPage{}); !slices.Equal(got, want) {
		t.Errorf("the test's page has keys %v, writePage's listPage %v", got, want)
	}
}
