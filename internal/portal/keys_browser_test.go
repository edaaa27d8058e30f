package portal_test

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/browsertest"
	"github.com/hookline/hookline/internal/hooklinetest"
)

// A tenant's keys of the product's API in the portal: created with the
// permissions picked, shown once with a copy button and never again, listed
// with their expiry, revoked, and another tenant's keys neither shown nor
// revocable.
func TestPortalKeysInABrowser(t *testing.T) {
	h := hooklinetest.Start(t, hooklinetest.Options{})
	if status, out := call(t, h, "POST", "/v1/keyspaces", map[string]any{
		"name": "formvox", "prefix": "fvx", "description": "The FormVox API",
		"permissions": []any{map[string]any{"name": "forms:read", "description": "Read forms"}, "forms:write"},
	}); status != http.StatusCreated {
		t.Fatalf("create key space: %d %v", status, out)
	}
	_, otherKey := call(t, h, "POST", "/v1/keyspaces/formvox/keys", map[string]any{"tenant": "globex", "name": "globex key", "permissions": []string{"forms:read"}})
	otherID := otherKey["id"].(string)

	b := browsertest.New(t)
	_, link := session(t, h, map[string]any{"tenant": "acme", "locale": "en", "capabilities": []string{"manage_keys"}})
	must(t, b.Navigate(link))
	must(t, b.ClickAndWait(`a[href="/portal/keys"]`))
	if got := text(t, b, "main"); strings.Contains(got, "globex") || !strings.Contains(got, "No keys yet.") {
		t.Errorf("acme's keys page:\n%s", got)
	}
	must(t, b.Click("details summary"))
	must(t, b.Fill("#name-formvox", "Zapier"))
	must(t, b.Click(`input[name="permission"][value="forms:read"]`))
	must(t, b.Fill("#expiry-formvox", "30d"))
	must(t, b.Submit("#name-formvox"))
	if b.Status() != http.StatusCreated {
		t.Fatalf("create a key: %d", b.Status())
	}
	key := text(t, b, "#issued-key")
	if !strings.HasPrefix(key, "fvx_") {
		t.Fatalf("the key shown: %q", key)
	}
	must(t, b.WaitVisible(`button[data-copy="#issued-key"]`)) // the script shows the copy button
	screenshot(t, b, "portal-keys")
	verify := func() map[string]any {
		_, out := call(t, h, "POST", "/v1/keys/verify", map[string]any{"key": key, "keyspace": "formvox", "permissions": []string{"forms:read"}})
		return out
	}
	if v := verify(); v["valid"] != true || v["tenant"] != "acme" {
		t.Errorf("the key shown does not verify as acme's: %v", v)
	}
	row := text(t, b, "table.list tbody tr")
	if !strings.Contains(row, "Zapier") || !strings.Contains(row, "forms:read") || strings.Contains(row, "forms:write") || !strings.Contains(row, time.Now().UTC().Add(30*24*time.Hour).Format("2006-01-02")) {
		t.Errorf("the key's row: %q", row)
	}
	// Never again: not on the next visit, nor anywhere in its page.
	must(t, b.Navigate(h.URL+"/portal/keys"))
	var html string
	must(t, b.Eval("document.documentElement.outerHTML", &html))
	if strings.Contains(html, key) || strings.Contains(html, key[4:]) {
		t.Error("the key is shown again")
	}
	// Revoking another tenant's key is not found.
	var status int
	must(t, b.Eval(`(async () => {
		const csrf = document.querySelector('input[name="csrf"]').value;
		const r = await fetch("/portal/keys/formvox/`+otherID+`/revoke", {method: "POST", body: new URLSearchParams({csrf})});
		return r.status;
	})()`, &status))
	if status != http.StatusNotFound {
		t.Errorf("revoking globex's key: %d, want 404", status)
	}
	takeStatusProblems(t, b, 404)
	if _, k := call(t, h, "GET", "/v1/keyspaces/formvox/keys/"+otherID, nil); k["revoked_at"] != nil {
		t.Error("acme's session revoked globex's key")
	}
	must(t, b.Submit(`form[action$="/revoke"]`))
	if got := text(t, b, ".flash"); !strings.Contains(got, "revoked") {
		t.Errorf("after revoking, flash %q", got)
	}
	if v := verify(); v["valid"] != false {
		t.Errorf("a revoked key verifies: %v", v)
	}
}

// A session past its expiry is refused at the next page, though its cookie
// is still in the browser.
func TestPortalExpiredSessionInABrowser(t *testing.T) {
	var skew atomic.Int64
	h := hooklinetest.Start(t, hooklinetest.Options{Now: func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }})
	b := browsertest.New(t)
	_, link := session(t, h, map[string]any{"tenant": "acme", "expires_in": "1m", "locale": "en"})
	must(t, b.Navigate(link))
	if b.Status() != http.StatusOK {
		t.Fatalf("log in: %d", b.Status())
	}
	skew.Store(int64(61 * time.Second))
	must(t, b.Navigate(h.URL+"/portal/deliveries"))
	if b.Status() != http.StatusUnauthorized || text(t, b, "h1") != "Session over" {
		t.Errorf("an expired session: %d %q", b.Status(), text(t, b, "h1"))
	}
	takeStatusProblems(t, b, 401)
}
