package apikeys_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookline/hookline/apikeys"
	"github.com/hookline/hookline/internal/hooklinetest"
	"github.com/hookline/hookline/internal/testkit"
)

// hookline is a real Hookline on loopback (internal/hooklinetest) whose
// clock runs skew ahead of the real one.
type hookline struct {
	url   string
	admin string
	http  *http.Client
	logs  *testkit.SyncBuffer
	skew  atomic.Int64 // nanoseconds added to time.Now
}

type obj = map[string]any

func startHookline(t *testing.T) *hookline {
	t.Helper()
	h := &hookline{}
	srv := hooklinetest.Start(t, hooklinetest.Options{Now: func() time.Time { return time.Now().Add(time.Duration(h.skew.Load())) }})
	h.url, h.admin, h.http, h.logs = srv.URL, srv.Admin, srv.Client, srv.Logs
	return h
}

// do sends a request to Hookline's API with the admin key and returns the
// status and the decoded JSON object answered.
func (h *hookline) do(t *testing.T, method, path string, in any) (int, obj) {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, h.url+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+h.admin)
	req.Header.Set("Content-Type", "application/json")
	res, err := h.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out obj
	if len(raw) > 0 && raw[0] == '{' {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, raw)
		}
	}
	return res.StatusCode, out
}

// must is do that fails the test unless the status is want.
func (h *hookline) must(t *testing.T, want int, method, path string, in any) obj {
	t.Helper()
	status, out := h.do(t, method, path, in)
	if status != want {
		t.Fatalf("%s %s: got %d, want %d: %v", method, path, status, want, out)
	}
	return out
}

// Key spaces of the seed pages.
var (
	formulrKeyspace = obj{
		"name": "formulr", "prefix": "frm",
		"permissions": []any{"campaigns:read", "campaigns:write", "responses:read", "responses:write", "files:read"},
		"rate_limit":  obj{"limit": 1000, "window": "1h"},
	}
	formvoxKeyspace = obj{
		"name": "formvox", "prefix": "fvx",
		"permissions": []any{"read_form", "read_responses", "write_responses", "delete_responses"},
	}
)

// issue creates a key of keyspace and returns it and its id.
func (h *hookline) issue(t *testing.T, keyspace string, in obj) (key, id string) {
	t.Helper()
	out := h.must(t, http.StatusCreated, "POST", "/v1/keyspaces/"+keyspace+"/keys", in)
	key, _ = out["key"].(string)
	id, _ = out["id"].(string)
	if key == "" || id == "" {
		t.Fatalf("issued: %v", out)
	}
	return key, id
}

// apiKey creates a Hookline API key with scopes.
func (h *hookline) apiKey(t *testing.T, scopes ...string) string {
	t.Helper()
	out := h.must(t, http.StatusCreated, "POST", "/v1/api-keys", obj{"name": "api servers", "scopes": scopes})
	return out["key"].(string)
}

// client returns a Client with a fresh keys:verify key.
func (h *hookline) client(t *testing.T) *apikeys.Client {
	t.Helper()
	c, err := apikeys.NewClient(h.url, h.apiKey(t, "keys:verify"), h.http)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// app is a product API on loopback: routes guarded by the middleware, in
// front of a handler that answers 200 with the Verification it found.
type app struct {
	url    string
	http   *http.Client
	called atomic.Int32

	mu   sync.Mutex
	seen []*apikeys.Verification
	errs []error // what OnError was told
}

func newApp(t *testing.T, mw *apikeys.Middleware, routes func(mux *http.ServeMux, h http.Handler)) *app {
	t.Helper()
	a := &app{}
	mw.OnError = func(r *http.Request, err error) {
		a.mu.Lock()
		a.errs = append(a.errs, err)
		a.mu.Unlock()
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.called.Add(1)
		v := apikeys.FromContext(r.Context())
		a.mu.Lock()
		a.seen = append(a.seen, v)
		a.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(v)
	})
	mux := http.NewServeMux()
	routes(mux, h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	a.url, a.http = srv.URL, srv.Client()
	return a
}

// last returns the Verification the handler saw last.
func (a *app) last() *apikeys.Verification {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.seen) == 0 {
		return nil
	}
	return a.seen[len(a.seen)-1]
}

func (a *app) onErrors() []error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]error(nil), a.errs...)
}

// answer is one answer of the app.
type answer struct {
	status int
	header http.Header
	raw    string
	body   obj
}

// call sends a request to the app with header (a key in it) and checks that
// no part of the answer shows key.
func (a *app) call(t *testing.T, method, path string, header http.Header, key string) answer {
	t.Helper()
	req, err := http.NewRequest(method, a.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := a.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	ans := answer{status: res.StatusCode, header: res.Header, raw: string(raw)}
	if len(raw) > 0 && raw[0] == '{' {
		if err := json.Unmarshal(raw, &ans.body); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, raw)
		}
	}
	if key != "" {
		if strings.Contains(ans.raw, key) {
			t.Errorf("%s %s: the answer shows the key: %s", method, path, raw)
		}
		for name, vs := range res.Header {
			for _, v := range vs {
				if strings.Contains(v, key) {
					t.Errorf("%s %s: header %s shows the key: %s", method, path, name, v)
				}
			}
		}
	}
	return ans
}

// bearer is the header of a request with key as bearer token.
func bearer(key string) http.Header {
	return http.Header{"Authorization": {"Bearer " + key}}
}

// problem checks that a is an RFC 9457 problem with status and type.
func (ans answer) problem(t *testing.T, status int, typ string) {
	t.Helper()
	if ans.status != status {
		t.Fatalf("got %d, want %d: %s", ans.status, status, ans.raw)
	}
	if ct := ans.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type %q, want application/problem+json", ct)
	}
	if ans.body["type"] != typ || ans.body["title"] != http.StatusText(status) || ans.body["status"] != float64(status) || ans.body["detail"] == "" {
		t.Errorf("problem %s, want type %s, title %q, status %d and a detail", ans.raw, typ, http.StatusText(status), status)
	}
}

// noRateLimit checks that the answer carries no rate-limit field.
func (ans answer) noRateLimit(t *testing.T) {
	t.Helper()
	for _, f := range []string{"RateLimit-Policy", "RateLimit", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} {
		if v := ans.header.Get(f); v != "" {
			t.Errorf("%s: %q, want none", f, v)
		}
	}
}
