package api

import (
	"bytes"
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"testing"
)

// These tests hold openapi.json to what wrap checks of every request
// (checkRequest) and adds to every answer (withRequestID, writeCreated).

func TestOpenAPIQueryParametersMatchRoutes(t *testing.T) {
	t.Parallel()
	doc := oaLoadSpec(t)
	ops := map[string]oaOp{}
	for _, o := range doc.ops(t) {
		ops[o.key()] = o
	}
	patterns := map[string]bool{}
	for _, rt := range routes {
		patterns[rt.pattern] = true
		o, ok := ops[rt.pattern]
		if !ok {
			continue // TestOpenAPIPathsMatchRoutes reports it
		}
		var documented []string
		params, _ := o.op["parameters"].([]any)
		for _, p := range params {
			if p := doc.deref(t, p); p["in"] == "query" {
				documented = append(documented, p["name"].(string))
			}
		}
		sort.Strings(documented)
		allowed := slices.Sorted(slices.Values(queryParams[rt.pattern]))
		if !slices.Equal(documented, allowed) {
			t.Errorf("%s: the document declares the query parameters %v, the route takes %v (queryParams in routes.go)", rt.pattern, documented, allowed)
		}
	}
	for pattern := range queryParams {
		if !patterns[pattern] {
			t.Errorf("queryParams names %q, which is not a route", pattern)
		}
	}
}

func TestOpenAPIDeclaresRequestChecks(t *testing.T) {
	t.Parallel()
	doc := oaLoadSpec(t)
	for _, o := range doc.ops(t) {
		resps, _ := o.op["responses"].(map[string]any)
		// Every route refuses unknown query parameters.
		if _, ok := resps["400"]; !ok {
			t.Errorf("%s: does not declare 400 (an unknown query parameter)", o.key())
		}
		_, has415 := resps["415"]
		switch o.method {
		case "post", "put", "patch":
			if !has415 {
				t.Errorf("%s: does not declare 415 (a body that is not JSON)", o.key())
			}
		default:
			if has415 {
				t.Errorf("%s: declares 415, which only POST, PUT and PATCH answer", o.key())
			}
		}
		if rb, ok := o.op["requestBody"]; ok {
			content, _ := doc.deref(t, rb)["content"].(map[string]any)
			if got := oaSortedKeys(content); !slices.Equal(got, []string{"application/json"}) {
				t.Errorf("%s: request body media types got %v, want [application/json]", o.key(), got)
			}
		}
	}
}

func TestOpenAPIDeclaresHeaders(t *testing.T) {
	t.Parallel()
	doc := oaLoadSpec(t)
	for _, o := range doc.ops(t) {
		resps, _ := o.op["responses"].(map[string]any)
		for code, r := range resps {
			headers, _ := doc.deref(t, r)["headers"].(map[string]any)
			if h, ok := headers["Request-Id"]; !ok {
				t.Errorf("%s: response %s does not declare Request-Id", o.key(), code)
			} else if ref, _ := h.(map[string]any)["$ref"].(string); ref != "#/components/headers/Request-Id" {
				t.Errorf("%s: response %s: Request-Id got %v, want the component", o.key(), code, h)
			}
			_, hasLocation := headers["Location"]
			if code == "201" && !hasLocation {
				t.Errorf("%s: 201 does not declare Location", o.key())
			}
			// RFC 9110 §15.5.2: a 401 carries a challenge (problem.go sets it).
			if _, ok := headers["WWW-Authenticate"]; code == "401" && !ok {
				t.Errorf("%s: 401 does not declare WWW-Authenticate", o.key())
			}
		}
	}
	for name, r := range doc["components"].(map[string]any)["responses"].(map[string]any) {
		headers, _ := r.(map[string]any)["headers"].(map[string]any)
		if _, ok := headers["Request-Id"]; !ok {
			t.Errorf("components.responses.%s does not declare Request-Id", name)
		}
	}
	problem := doc.schema(t, "Problem")["properties"].(map[string]any)
	if d, _ := problem["instance"].(map[string]any)["description"].(string); !strings.Contains(d, "Request-Id") {
		t.Errorf("Problem.instance: description %q does not say it is the Request-Id", d)
	}
}

func TestOpenAPIHeadMirrorsGet(t *testing.T) {
	t.Parallel()
	doc := oaLoadSpec(t)
	ops := map[string]oaOp{}
	for _, o := range doc.ops(t) {
		ops[o.key()] = o
	}
	for _, o := range doc.ops(t) {
		if o.method != "head" {
			continue
		}
		get, ok := ops["GET "+o.path]
		if !ok {
			t.Errorf("%s: no GET %s, which is what ServeMux answers HEAD with", o.key(), o.path)
			continue
		}
		// The same request, the same answers: status and headers, no body.
		for _, f := range []string{"parameters", "security", "x-required-scope", "tags", "responses"} {
			h, _ := json.Marshal(o.op[f])
			g, _ := json.Marshal(get.op[f])
			if !bytes.Equal(h, g) {
				t.Errorf("%s: %s differs from GET's:\n%s\n%s", o.key(), f, h, g)
			}
		}
	}
}

// oaParameterTypes are the JSON types of the query parameters whose handlers
// read them as something other than a string.
var oaParameterTypes = map[string]string{"include_secret": "boolean", "limit": "integer"}

func TestOpenAPIQueryParameterTypes(t *testing.T) {
	t.Parallel()
	doc := oaLoadSpec(t)
	for _, o := range doc.ops(t) {
		params, _ := o.op["parameters"].([]any)
		for _, p := range params {
			p := doc.deref(t, p)
			if p["in"] != "query" {
				continue
			}
			want, ok := oaParameterTypes[p["name"].(string)]
			if !ok {
				want = "string"
			}
			schema, _ := p["schema"].(map[string]any)
			if schema["type"] != want {
				t.Errorf("%s: query parameter %v: type got %v, want %s", o.key(), p["name"], schema["type"], want)
			}
		}
	}
}
