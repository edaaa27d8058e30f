package portal_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/hookline/hookline/internal/browsertest"
	"github.com/hookline/hookline/internal/hooklinetest"
)

// call sends a request to Hookline's API with the admin key and decodes
// the JSON object answered.
func call(t testing.TB, h *hooklinetest.Server, method, path string, in any) (int, map[string]any) {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, h.URL+path, body)
	req.Header.Set("Authorization", "Bearer "+h.Admin)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := h.Client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

// session creates a portal session of tenant and returns its id and URL.
func session(t *testing.T, h *hooklinetest.Server, in map[string]any) (string, string) {
	t.Helper()
	status, out := call(t, h, "POST", "/v1/portal-sessions", in)
	if status != http.StatusCreated {
		t.Fatalf("create portal session: %d %v", status, out)
	}
	return out["id"].(string), out["url"].(string)
}

// The portal in a real browser: the link signs the customer in and leaves
// no token in the address bar; the page shows the tenant's webhooks only;
// the session cookie is out of the page's reach; signing out, an ended
// session and a used link are refused. No CSP violation or console error
// on any page (the browser fails the test on one).
func TestPortalInABrowser(t *testing.T) {
	h := hooklinetest.Start(t, hooklinetest.Options{})
	for tenant, u := range map[string]string{"acme": "https://acme.example/hooks", "globex": "https://globex.example/hooks"} {
		if status, out := call(t, h, "POST", "/v1/webhooks", map[string]any{"url": u, "tenant": tenant, "events": []string{"*"}}); status != http.StatusCreated {
			t.Fatalf("create webhook: %d %v", status, out)
		}
	}
	b := browsertest.New(t)
	// refused checks that the page was refused with 401, and that this is the
	// only thing the browser complained of.
	refused := func(what string) {
		t.Helper()
		if b.Status() != http.StatusUnauthorized {
			t.Errorf("%s: %d, want 401", what, b.Status())
		}
		for _, p := range b.TakeProblems() {
			if !strings.Contains(p.Text, "status of 401") {
				t.Errorf("%s: %s", what, p)
			}
		}
	}
	_, link := session(t, h, map[string]any{"tenant": "acme", "locale": "en"})
	if err := b.Navigate(link); err != nil {
		t.Fatal(err)
	}
	if u, _ := url.Parse(b.URL()); u.Path != "/portal/" || u.RawQuery != "" {
		t.Errorf("after the link, the address bar shows %q; want /portal/ without the token", b.URL())
	}
	main, err := b.Text("main")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(main, "https://acme.example/hooks") || strings.Contains(main, "globex") {
		t.Errorf("the portal shows:\n%s\nwant acme's webhook only", main)
	}
	c, err := b.Cookie("hookline_portal")
	if err != nil || !c.HTTPOnly {
		t.Errorf("session cookie %+v, %v: want HttpOnly", c, err)
	}
	var seen string
	if err := b.Eval("document.cookie", &seen); err != nil || strings.Contains(seen, "hookline_portal") {
		t.Errorf("the page's script can read the session cookie: %q (%v)", seen, err)
	}
	if err := b.Screenshot(t.TempDir() + "/webhooks.png"); err != nil {
		t.Error(err)
	}
	// Signing out ends the session; the page says so.
	if err := b.Submit(`form[action="/portal/logout"]`); err != nil {
		t.Fatal(err)
	}
	if got, _ := b.Text("h1"); got != "Signed out" {
		t.Errorf("after signing out: %q", got)
	}
	if err := b.Navigate(h.URL + "/portal/"); err != nil {
		t.Fatal(err)
	}
	refused("the portal after signing out")
	// The link again: used once already.
	if err := b.Navigate(link); err != nil {
		t.Fatal(err)
	}
	refused("the link a second time")
	// A session the product ends is refused at the next page.
	id, link2 := session(t, h, map[string]any{"tenant": "acme"})
	if err := b.Navigate(link2); err != nil || b.Status() != http.StatusOK {
		t.Fatalf("a new session: %d, %v", b.Status(), err)
	}
	if status, _ := call(t, h, "DELETE", "/v1/portal-sessions/"+id, nil); status != http.StatusNoContent {
		t.Fatalf("end the session: %d", status)
	}
	if err := b.Navigate(h.URL + "/portal/"); err != nil {
		t.Fatal(err)
	}
	refused("an ended session")
}
