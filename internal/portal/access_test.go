package portal_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hooklinetest"
)

// visitor is a browser-like HTTP client: a cookie jar, no redirects
// followed, and the CSRF token of the last page it read.
type visitor struct {
	t    testing.TB
	h    *hooklinetest.Server
	c    *http.Client
	csrf string
}

func newVisitor(t testing.TB, h *hooklinetest.Server) *visitor {
	jar, _ := cookiejar.New(nil)
	return &visitor{t: t, h: h, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// do sends a request to path and returns the status, the Location and the
// body; it keeps the page's CSRF token.
func (v *visitor) do(method, path string, form url.Values, header ...string) (int, string, string) {
	v.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	u := path
	if !strings.HasPrefix(path, "http") {
		u = v.h.URL + path
	}
	req, _ := http.NewRequest(method, u, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", v.h.URL)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := v.c.Do(req)
	if err != nil {
		v.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if m := csrfRE.FindSubmatch(b); m != nil {
		v.csrf = string(m[1])
	}
	return res.StatusCode, res.Header.Get("Location"), string(b)
}

// post posts a form with the visitor's CSRF token.
func (v *visitor) post(path string, form url.Values) (int, string, string) {
	v.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", v.csrf)
	return v.do("POST", path, form)
}

// signIn opens a portal link.
func (v *visitor) signIn(link string) {
	v.t.Helper()
	if status, loc, _ := v.do("GET", link, nil); status != http.StatusSeeOther || loc != "/portal/" {
		v.t.Fatalf("login: %d → %q", status, loc)
	}
	if status, _, _ := v.do("GET", "/portal/", nil); status != http.StatusOK {
		v.t.Fatalf("home: %d", status)
	}
}

// What each capability allows, route by route: a session without it gets
// 403 and changes nothing, whatever it posts.
func TestPortalCapabilities(t *testing.T) {
	h := hooklinetest.Start(t, hooklinetest.Options{})
	_, wh := call(t, h, "POST", "/v1/webhooks", map[string]any{"url": "https://acme.example/hooks", "tenant": "acme"})
	id := wh["id"].(string)
	call(t, h, "POST", "/v1/keyspaces", map[string]any{"name": "api", "prefix": "api", "permissions": []string{"read"}})
	routes := []struct {
		method, path, capability string
		form                     url.Values
	}{
		{"GET", "/portal/webhooks/new", "manage_webhooks", nil},
		{"POST", "/portal/webhooks", "manage_webhooks", url.Values{"url": {"https://acme.example/other"}}},
		{"GET", "/portal/webhooks/" + id + "/edit", "manage_webhooks", nil},
		{"POST", "/portal/webhooks/" + id, "manage_webhooks", url.Values{"url": {"https://evil.example/"}}},
		{"POST", "/portal/webhooks/" + id + "/active", "manage_webhooks", url.Values{"active": {"false"}}},
		{"POST", "/portal/webhooks/" + id + "/delete", "manage_webhooks", nil},
		{"POST", "/portal/webhooks/" + id + "/test", "manage_webhooks", nil},
		{"POST", "/portal/webhooks/" + id + "/secret", "secrets", nil},
		{"POST", "/portal/webhooks/" + id + "/rotate", "secrets", nil},
		{"GET", "/portal/webhooks/" + id + "/recover", "retry", nil},
		{"POST", "/portal/webhooks/" + id + "/recover", "retry", nil},
		{"GET", "/portal/keys", "manage_keys", nil},
		{"POST", "/portal/keys", "manage_keys", url.Values{"keyspace": {"api"}, "permission": {"read"}}},
	}
	v := newVisitor(t, h)
	_, link := session(t, h, map[string]any{"tenant": "acme", "capabilities": []string{"manage_webhooks", "secrets", "retry", "manage_keys"}})
	all := newVisitor(t, h)
	all.signIn(link)
	for _, rt := range routes {
		var caps []string
		for _, c := range []string{"manage_webhooks", "secrets", "retry", "manage_keys"} {
			if c != rt.capability {
				caps = append(caps, c)
			}
		}
		_, link := session(t, h, map[string]any{"tenant": "acme", "capabilities": caps})
		v.signIn(link)
		var status int
		if rt.method == "GET" {
			status, _, _ = v.do("GET", rt.path, nil)
		} else {
			status, _, _ = v.post(rt.path, rt.form)
		}
		if status != http.StatusForbidden {
			t.Errorf("%s %s without %s: %d, want 403", rt.method, rt.path, rt.capability, status)
		}
	}
	_, after := call(t, h, "GET", "/v1/webhooks/"+id+"?include_secret=true", nil)
	if after["url"] != wh["url"] || after["active"] != true || after["updated_at"] != wh["updated_at"] {
		t.Errorf("the webhook changed under sessions without the capability: %v", after)
	}
	if _, list := call(t, h, "GET", "/v1/webhooks?tenant=acme", nil); len(list["items"].([]any)) != 1 {
		t.Errorf("acme has %d webhooks, want 1", len(list["items"].([]any)))
	}
	if _, keys := call(t, h, "GET", "/v1/keyspaces/api/keys", nil); len(keys["items"].([]any)) != 0 {
		t.Errorf("keys were made: %v", keys["items"])
	}
	// With the capability, the same request goes through.
	if status, _, _ := all.do("GET", "/portal/webhooks/"+id+"/edit", nil); status != http.StatusOK {
		t.Errorf("edit with manage_webhooks: %d", status)
	}
}

// The console: signed in with an admin API key through its form, never by
// a key without the admin scope, an unknown key, a form posted from another
// site, or a portal session; it sees every tenant.
func TestConsoleAccess(t *testing.T) {
	h := hooklinetest.Start(t, hooklinetest.Options{})
	for _, tenant := range []string{"acme", "globex"} {
		call(t, h, "POST", "/v1/webhooks", map[string]any{"url": "https://" + tenant + ".example/hooks", "tenant": tenant})
	}
	_, reader := call(t, h, "POST", "/v1/api-keys", map[string]any{"name": "reader", "scopes": []string{"webhooks:read", "deliveries:read"}})
	v := newVisitor(t, h)
	if status, _, body := v.do("GET", "/console/", nil); status != http.StatusUnauthorized || !strings.Contains(body, `name="key"`) {
		t.Errorf("the console without a session: %d; want 401 and the sign-in form", status)
	}
	for _, c := range []struct {
		key    string
		header []string
		want   int
	}{
		{"not-a-key", nil, http.StatusUnauthorized},
		{reader["key"].(string), nil, http.StatusForbidden},
		{h.Admin, []string{"Origin", "https://evil.example"}, http.StatusForbidden},
		{h.Admin, []string{"Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
	} {
		form := url.Values{"key": {c.key}}
		status, _, _ := v.do("POST", "/console/login", form, c.header...)
		if status != c.want {
			t.Errorf("sign in with %.8s… %v: %d, want %d", c.key, c.header, status, c.want)
		}
	}
	// A portal session does not open the console.
	_, link := session(t, h, map[string]any{"tenant": "acme"})
	v.signIn(link)
	if status, _, _ := v.do("GET", "/console/", nil); status != http.StatusUnauthorized {
		t.Errorf("the console with a portal session: %d", status)
	}
	status, loc, _ := v.do("POST", "/console/login", url.Values{"key": {h.Admin}})
	if status != http.StatusSeeOther || loc != "/console/" {
		t.Fatalf("sign in with the admin key: %d → %q", status, loc)
	}
	status, _, body := v.do("GET", "/console/", nil)
	if status != http.StatusOK || !strings.Contains(body, "acme.example") || !strings.Contains(body, "globex.example") {
		t.Errorf("the console home: %d, want both tenants' webhooks", status)
	}
	for _, path := range []string{"/console/tenants", "/console/profiles", "/console/api-keys", "/console/health", "/console/deliveries"} {
		if status, _, body := v.do("GET", path, nil); status != http.StatusOK || strings.Contains(body, h.Admin) {
			t.Errorf("%s: %d (or it shows the admin key)", path, status)
		}
	}
	// The console's cookie is not the portal's: the portal still sees acme only.
	if _, _, body := v.do("GET", "/portal/", nil); strings.Contains(body, "globex") {
		t.Error("the portal shows globex after a console sign-in")
	}
	v.do("GET", "/console/health", nil) // the console's CSRF token
	if status, loc, _ := v.post("/console/logout", nil); status != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/login") {
		t.Errorf("sign out: %d → %q", status, loc)
	}
	if status, _, _ := v.do("GET", "/console/health", nil); status != http.StatusUnauthorized {
		t.Errorf("the console after signing out: %d", status)
	}
}

// A recovery window that starts in the future is a form error, not a
// server error.
func TestPortalRecoverFutureSince(t *testing.T) {
	h := hooklinetest.Start(t, hooklinetest.Options{})
	_, wh := call(t, h, "POST", "/v1/webhooks", map[string]any{"url": "https://acme.example/hooks", "tenant": "acme"})
	id := wh["id"].(string)
	_, link := session(t, h, map[string]any{"tenant": "acme", "capabilities": []string{"retry"}})
	v := newVisitor(t, h)
	v.signIn(link)
	future := time.Now().UTC().Add(time.Hour).Format("2006-01-02T15:04")
	if status, _, body := v.do("GET", "/portal/webhooks/"+id+"/recover?since="+future, nil); status != http.StatusBadRequest || !strings.Contains(body, "must be in the past") {
		t.Errorf("count since the future: %d, want 400 saying why", status)
	}
	if status, _, _ := v.post("/portal/webhooks/"+id+"/recover", url.Values{"since": {future}}); status != http.StatusBadRequest {
		t.Errorf("recover since the future: %d, want 400", status)
	}
}
