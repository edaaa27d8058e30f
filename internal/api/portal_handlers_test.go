package api_test

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/hookline/hookline/internal/config"
)

// portalClient is a client of the portal that does not follow redirects,
// so that each answer can be looked at; cookies are passed by hand.
func portalClient() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

type page struct {
	status int
	header http.Header
	body   string
}

func getPage(t *testing.T, c *http.Client, method, u, cookie string, form url.Values) page {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: "hookline_portal", Value: cookie})
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return page{status: res.StatusCode, header: res.Header, body: string(b)}
}

// portalSession creates a session with key and returns its id and URL; the
// URL's token joins the secrets no log may hold.
func (fx *fixture) portalSession(t *testing.T, key string, in obj) (id, loginURL string) {
	t.Helper()
	r := fx.do(t, "POST", "/v1/portal-sessions", key, in).must(t, http.StatusCreated)
	u, err := url.Parse(r.str("url"))
	if err != nil || u.Path != "/portal/login" || !strings.HasPrefix(u.Query().Get("token"), "hlp_") {
		t.Fatalf("session url %q", r.str("url"))
	}
	fx.mu.Lock()
	fx.secrets[u.Query().Get("token")] = true
	fx.mu.Unlock()
	return r.str("id"), r.str("url")
}

// login opens a login URL and returns the session cookie it sets.
func login(t *testing.T, c *http.Client, loginURL string) string {
	t.Helper()
	p := getPage(t, c, "GET", loginURL, "", nil)
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/portal/" {
		t.Fatalf("login: %d to %q, want 303 to /portal/", p.status, p.header.Get("Location"))
	}
	for _, raw := range p.header.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(raw)
		if err != nil || c.Name != "hookline_portal" {
			continue
		}
		if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/portal/" || c.Value == "" {
			t.Errorf("session cookie %q: want HttpOnly, SameSite=Lax, Path=/portal/", raw)
		}
		return c.Value
	}
	t.Fatalf("login set no session cookie: %v", p.header)
	return ""
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func TestPortalSessions(t *testing.T) {
	onEachDriver(t, func(t *testing.T, setup setupFunc) {
		fx := setup(t)
		fx.createWebhook(t, fx.admin, obj{"url": "https://acme.example/hooks", "tenant": "acme", "events": []any{"*"}})
		fx.createWebhook(t, fx.admin, obj{"url": "https://globex.example/hooks", "tenant": "globex", "events": []any{"*"}})
		c := portalClient()

		id, loginURL := fx.portalSession(t, fx.admin, obj{"tenant": "acme", "capabilities": []any{"manage_webhooks"}})
		got := fx.do(t, "GET", "/v1/portal-sessions/"+id, fx.admin, nil).must(t, http.StatusOK)
		if got.body["url"] != nil || got.str("tenant") != "acme" || len(got.body["capabilities"].([]any)) != 2 {
			t.Errorf("read session: %s (no url, view and manage_webhooks)", got.raw)
		}
		cookie := login(t, c, loginURL)
		home := getPage(t, c, "GET", fx.url+"/portal/", cookie, nil)
		if home.status != http.StatusOK || !strings.Contains(home.body, "https://acme.example/hooks") || strings.Contains(home.body, "globex") {
			t.Fatalf("portal home: %d, want acme's webhook only:\n%s", home.status, home.body)
		}
		csp := home.header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "script-src 'nonce-", "frame-ancestors 'none'", "form-action 'self'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
			}
		}
		if home.header.Get("Referrer-Policy") != "no-referrer" || home.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("headers: %v", home.header)
		}
		// The login URL works once.
		if p := getPage(t, c, "GET", loginURL, "", nil); p.status != http.StatusUnauthorized {
			t.Errorf("login URL used twice: %d, want 401", p.status)
		}
		// A form posted without its CSRF token is refused, and changes nothing.
		if p := getPage(t, c, "POST", fx.url+"/portal/logout", cookie, url.Values{"csrf": {"forged"}}); p.status != http.StatusForbidden {
			t.Errorf("logout with a forged CSRF token: %d, want 403", p.status)
		}
		if p := getPage(t, c, "GET", fx.url+"/portal/", cookie, nil); p.status != http.StatusOK {
			t.Fatalf("after a refused form: %d, want the session still alive", p.status)
		}
		m := csrfRE.FindStringSubmatch(home.body)
		if m == nil {
			t.Fatal("the page has no CSRF token in its sign-out form")
		}
		if p := getPage(t, c, "POST", fx.url+"/portal/logout", cookie, url.Values{"csrf": {m[1]}}); p.status != http.StatusOK {
			t.Errorf("logout: %d", p.status)
		}
		if p := getPage(t, c, "GET", fx.url+"/portal/", cookie, nil); p.status != http.StatusUnauthorized {
			t.Errorf("after signing out: %d, want 401", p.status)
		}

		// Ended through the API, one or all of a tenant's.
		id2, url2 := fx.portalSession(t, fx.admin, obj{"tenant": "acme"})
		cookie2 := login(t, c, url2)
		fx.do(t, "DELETE", "/v1/portal-sessions/"+id2, fx.admin, nil).must(t, http.StatusNoContent)
		if p := getPage(t, c, "GET", fx.url+"/portal/", cookie2, nil); p.status != http.StatusUnauthorized {
			t.Errorf("a session ended through the API: %d, want 401", p.status)
		}
		_, url3 := fx.portalSession(t, fx.admin, obj{"tenant": "acme"})
		_, url4 := fx.portalSession(t, fx.admin, obj{"tenant": "acme"})
		_, url5 := fx.portalSession(t, fx.admin, obj{"tenant": "globex"})
		c3, c4, c5 := login(t, c, url3), login(t, c, url4), login(t, c, url5)
		if r := fx.do(t, "DELETE", "/v1/portal-sessions?tenant=acme", fx.admin, nil).must(t, http.StatusOK); r.body["ended"] != float64(2) {
			t.Errorf("end acme's sessions: %s, want 2", r.raw)
		}
		for _, ck := range []string{c3, c4} {
			if p := getPage(t, c, "GET", fx.url+"/portal/", ck, nil); p.status != http.StatusUnauthorized {
				t.Errorf("an ended tenant's session: %d", p.status)
			}
		}
		if p := getPage(t, c, "GET", fx.url+"/portal/", c5, nil); p.status != http.StatusOK {
			t.Errorf("another tenant's session after ending acme's: %d", p.status)
		}
	})
}

func TestPortalSessionRequests(t *testing.T) {
	fx := setup(t)
	for field, in := range map[string]obj{
		"capabilities[0]": {"tenant": "acme", "capabilities": []any{"root"}},
		"theme.accent":    {"tenant": "acme", "theme": obj{"accent": "red; background: url(x)"}},
		"theme.logo_url":  {"tenant": "acme", "theme": obj{"logo_url": "http://insecure.example/logo.png"}},
		"theme.mode":      {"tenant": "acme", "theme": obj{"mode": "neon"}},
		"locale":          {"tenant": "acme", "locale": "de"},
		"expires_in":      {"tenant": "acme", "expires_in": "30d"},
		"tenant":          {"capabilities": []any{}},
	} {
		fx.do(t, "POST", "/v1/portal-sessions", fx.admin, in).problem(t, http.StatusUnprocessableEntity, field)
	}
	fx.do(t, "POST", "/v1/portal-sessions", fx.admin, obj{"tenant": "acme", "css": "body{}"}).problem(t, http.StatusBadRequest, "css")

	// A key grants a session no more than it may do itself, for its tenant only.
	_, reader := fx.createKey(t, obj{"name": "acme reader", "scopes": []any{"webhooks:read", "deliveries:read"}, "tenant": "acme"})
	fx.do(t, "POST", "/v1/portal-sessions", reader, obj{"capabilities": []any{"retry"}}).problem(t, http.StatusForbidden, "capabilities[0]")
	fx.do(t, "POST", "/v1/portal-sessions", reader, obj{"tenant": "globex"}).problem(t, http.StatusForbidden, "tenant")
	id, _ := fx.portalSession(t, reader, obj{})
	globexID, _ := fx.portalSession(t, fx.admin, obj{"tenant": "globex"})
	fx.do(t, "GET", "/v1/portal-sessions/"+globexID, reader, nil).must(t, http.StatusNotFound)
	fx.do(t, "GET", "/v1/portal-sessions/"+id, reader, nil).must(t, http.StatusOK)
	// Ending sessions is a write: a read-only key may not end a tenant's.
	fx.do(t, "DELETE", "/v1/portal-sessions/"+id, reader, nil).must(t, http.StatusForbidden)
	_, writer := fx.createKey(t, obj{"name": "acme writer", "scopes": []any{"webhooks:read", "webhooks:write"}, "tenant": "acme"})
	fx.do(t, "DELETE", "/v1/portal-sessions/"+globexID, writer, nil).must(t, http.StatusNotFound)
	fx.do(t, "DELETE", "/v1/portal-sessions?tenant=globex", writer, nil).problem(t, http.StatusForbidden, "tenant")
	fx.do(t, "DELETE", "/v1/portal-sessions/"+id, writer, nil).must(t, http.StatusNoContent)
	// The rest of /portal/: its style sheet, a page that does not exist, a
	// token that is not one, a page without a session.
	c0 := portalClient()
	if p := getPage(t, c0, "GET", fx.url+"/portal/static/portal.css", "", nil); p.status != http.StatusOK || !strings.HasPrefix(p.header.Get("Content-Type"), "text/css") {
		t.Errorf("style sheet: %d %s", p.status, p.header.Get("Content-Type"))
	}
	for path, want := range map[string]int{"/portal/nothing": 404, "/portal/login?token=hlp_forged": 401, "/portal/login": 401, "/portal/": 401} {
		if p := getPage(t, c0, "GET", fx.url+path, "", nil); p.status != want || !strings.Contains(p.header.Get("Content-Type"), "text/html") {
			t.Errorf("GET %s: %d %s, want %d, a page", path, p.status, p.header.Get("Content-Type"), want)
		}
	}
	// Pages in the session's language.
	_, fr := fx.portalSession(t, fx.admin, obj{"tenant": "acme", "locale": "fr", "theme": obj{"accent": "#aa3300", "mode": "dark"}})
	c := portalClient()
	p := getPage(t, c, "GET", fx.url+"/portal/", login(t, c, fr), nil)
	if !strings.Contains(p.body, `lang="fr"`) || !strings.Contains(p.body, "Se déconnecter") || !strings.Contains(p.body, "--accent: #aa3300") || !strings.Contains(p.body, "mode-dark") {
		t.Errorf("a French, themed session's page:\n%s", p.body)
	}
}

// Behind a TLS proxy: links start with --public-url, and the cookie is
// Secure when the proxy says the browser came over https.
func TestPortalBehindAProxy(t *testing.T) {
	fx := setup(t, func(c *config.Config) { c.PublicURL = "https://hooks.example.com" })
	r := fx.do(t, "POST", "/v1/portal-sessions", fx.admin, obj{"tenant": "acme"}).must(t, http.StatusCreated)
	link, err := url.Parse(r.str("url"))
	if err != nil || link.Scheme != "https" || link.Host != "hooks.example.com" {
		t.Fatalf("url %q, want it on --public-url", r.str("url"))
	}
	fx.mu.Lock()
	fx.secrets[link.Query().Get("token")] = true
	fx.mu.Unlock()
	req, _ := http.NewRequest("GET", fx.url+link.RequestURI(), nil)
	req.Header.Set("X-Forwarded-Proto", "https")
	res, err := portalClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var c *http.Cookie
	for _, ck := range res.Cookies() {
		if ck.Name == "hookline_portal" {
			c = ck
		}
	}
	if c == nil || !c.Secure || !c.HttpOnly {
		t.Errorf("cookie behind a TLS proxy: %+v, want Secure and HttpOnly", c)
	}
}
