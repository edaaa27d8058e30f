package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hookline/hookline/apikeys"
	"github.com/hookline/hookline/internal/hooklinetest"
)

type obj = map[string]any

// startHookline starts a real Hookline on loopback and returns its URL and
// admin key.
func startHookline(t *testing.T) (url, admin string) {
	t.Helper()
	h := hooklinetest.Start(t, hooklinetest.Options{})
	return h.URL, h.Admin
}

// call sends a JSON request with key in header and returns the status, the
// answer's header and its JSON object.
func call(t *testing.T, method, url, header, key string, in any) (int, http.Header, obj) {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set(header, key)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out obj
	json.Unmarshal(raw, &out)
	return res.StatusCode, res.Header, out
}

// The README's walk-through, against a real Hookline: the Formulr key space,
// keys of two tenants, and the example's router.
func TestFormulrAPI(t *testing.T) {
	hl, admin := startHookline(t)
	adminCall := func(path string, in obj) obj {
		t.Helper()
		status, _, out := call(t, "POST", hl+path, "Authorization", "Bearer "+admin, in)
		if status != http.StatusCreated {
			t.Fatalf("POST %s: %d %v", path, status, out)
		}
		return out
	}
	adminCall("/v1/keyspaces", obj{"name": "formulr", "prefix": "frm",
		"permissions": []any{"campaigns:read", "campaigns:write", "responses:read", "responses:write", "files:read"},
		"rate_limit":  obj{"limit": 1000, "window": "1h"}})
	verifier := adminCall("/v1/api-keys", obj{"name": "formulr-api", "scopes": []any{"keys:verify"}})["key"].(string)
	issue := func(in obj) (key, id string) {
		out := adminCall("/v1/keyspaces/formulr/keys", in)
		return out["key"].(string), out["id"].(string)
	}
	reader, _ := issue(obj{"tenant": "acme", "name": "dashboard", "permissions": []any{"campaigns:read", "responses:read"}})
	writer, writerID := issue(obj{"tenant": "acme", "name": "CRM", "permissions": []any{"campaigns:*"}})
	globex, _ := issue(obj{"tenant": "globex", "name": "theirs", "permissions": []any{"*"}})
	limited, _ := issue(obj{"tenant": "acme", "name": "two an hour", "permissions": []any{"*"}, "rate_limit": obj{"limit": 2, "window": "1h"}})

	cfg, err := loadConfig(nil, func(k string) string {
		return map[string]string{"HOOKLINE_URL": hl, "HOOKLINE_VERIFY_KEY": verifier}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	client, err := apikeys.NewClient(cfg.hooklineURL, cfg.verifyKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(newRouter(&apikeys.Middleware{Client: client, Keyspace: cfg.keyspace}))
	t.Cleanup(srv.Close)
	do := func(method, path, key string, in any) (int, http.Header, obj) {
		t.Helper()
		if key == "" {
			return call(t, method, srv.URL+path, "", "", in)
		}
		return call(t, method, srv.URL+path, "Authorization", "Bearer "+key, in)
	}

	if status, h, out := do("GET", "/v1/campaigns", "", nil); status != http.StatusUnauthorized || h.Get("WWW-Authenticate") != `Bearer realm="formulr"` {
		t.Errorf("no key: %d %q %v", status, h.Get("WWW-Authenticate"), out)
	}
	status, h, out := do("GET", "/v1/campaigns", reader, nil)
	if items, _ := out["items"].([]any); status != http.StatusOK || items == nil || len(items) != 0 {
		t.Fatalf("GET /v1/campaigns, campaigns:read: %d %v", status, out)
	}
	if h.Get("RateLimit-Policy") != `"default";q=1000;w=3600` || !strings.HasPrefix(h.Get("RateLimit"), `"default";r=999;t=`) || h.Get("X-RateLimit-Remaining") != "999" {
		t.Errorf("rate-limit fields: %q, %q, %q", h.Get("RateLimit-Policy"), h.Get("RateLimit"), h.Get("X-RateLimit-Remaining"))
	}
	if status, h, out := do("POST", "/v1/campaigns", reader, obj{"name": "Spring"}); status != http.StatusForbidden ||
		h.Get("Content-Type") != "application/problem+json" || !strings.Contains(out["detail"].(string), "campaigns:write") {
		t.Errorf("POST /v1/campaigns without campaigns:write: %d %v", status, out)
	}
	if status, _, out := do("GET", "/v1/responses", reader, nil); status != http.StatusOK || out["tenant"] != "acme" {
		t.Errorf("GET /v1/responses, responses:read: %d %v", status, out)
	}
	if status, _, out := do("GET", "/v1/responses", writer, nil); status != http.StatusForbidden {
		t.Errorf("GET /v1/responses without responses:read: %d %v", status, out)
	}

	// The writer creates a campaign for its tenant; the reader of that tenant
	// sees it, another tenant does not.
	status, _, out = do("POST", "/v1/campaigns", writer, obj{"name": "Spring"})
	if status != http.StatusCreated || out["name"] != "Spring" || out["created_by"] != writerID {
		t.Fatalf("POST /v1/campaigns: %d %v", status, out)
	}
	if status, _, out := do("POST", "/v1/campaigns", writer, obj{}); status != http.StatusBadRequest {
		t.Errorf("a campaign without a name: %d %v", status, out)
	}
	if _, _, out := do("GET", "/v1/campaigns", reader, nil); len(out["items"].([]any)) != 1 {
		t.Errorf("acme's campaigns: %v", out)
	}
	if _, _, out := do("GET", "/v1/campaigns", globex, nil); len(out["items"].([]any)) != 0 {
		t.Errorf("globex sees acme's campaigns: %v", out)
	}

	// Two an hour: the third is 429.
	for i := range 2 {
		if status, _, _ := do("GET", "/v1/campaigns", limited, nil); status != http.StatusOK {
			t.Fatalf("request %d of two an hour: %d", i+1, status)
		}
	}
	status, h, _ = do("GET", "/v1/campaigns", limited, nil)
	if status != http.StatusTooManyRequests || h.Get("Retry-After") == "" || h.Get("X-RateLimit-Remaining") != "0" {
		t.Errorf("the third of two an hour: %d, Retry-After %q, remaining %q", status, h.Get("Retry-After"), h.Get("X-RateLimit-Remaining"))
	}
}

func TestLoadConfig(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	cfg, err := loadConfig(nil, env(map[string]string{"HOOKLINE_VERIFY_KEY": "hl_k"}))
	if err != nil || cfg != (config{hooklineURL: "http://127.0.0.1:8080", verifyKey: "hl_k", addr: "127.0.0.1:8090", keyspace: "formulr"}) {
		t.Errorf("defaults: %+v, %v", cfg, err)
	}
	cfg, err = loadConfig(nil, env(map[string]string{"HOOKLINE_VERIFY_KEY": "hl_k", "HOOKLINE_URL": "http://h:1", "LISTEN_ADDR": ":9"}))
	if err != nil || cfg.hooklineURL != "http://h:1" || cfg.addr != ":9" {
		t.Errorf("from the environment: %+v, %v", cfg, err)
	}
	cfg, err = loadConfig([]string{"-hookline", "http://f:2", "-addr", ":8", "-keyspace", "other"}, env(map[string]string{"HOOKLINE_VERIFY_KEY": "hl_k", "HOOKLINE_URL": "http://h:1"}))
	if err != nil || cfg.hooklineURL != "http://f:2" || cfg.addr != ":8" || cfg.keyspace != "other" {
		t.Errorf("flags over the environment: %+v, %v", cfg, err)
	}
	if _, err := loadConfig(nil, env(nil)); err == nil || !strings.Contains(err.Error(), "HOOKLINE_VERIFY_KEY") {
		t.Errorf("no verify key: %v", err)
	}
}
