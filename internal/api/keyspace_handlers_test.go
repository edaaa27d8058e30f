package api_test

import (
	"hash/crc32"
	"net/http"
	"strings"
	"testing"
	"time"
)

// formulr is the Formulr page's key space: its five permissions and 1000
// requests an hour.
var formulr = obj{
	"name": "formulr", "prefix": "frm", "description": "Formulr's REST API",
	"permissions": []any{"campaigns:read", "campaigns:write", obj{"name": "responses:read", "description": "Lecture des réponses"},
		"responses:write", "files:read"},
	"rate_limit": obj{"limit": 1000, "window": "1h"},
}

// verify asks what key is worth for the permissions given, with a key
// holding keys:verify.
func (fx *fixture) verify(t *testing.T, verifier string, in obj) response {
	t.Helper()
	return fx.do(t, "POST", "/v1/keys/verify", verifier, in).must(t, http.StatusOK)
}

func TestKeyspaces(t *testing.T) {
	onEachDriver(t, func(t *testing.T, setup setupFunc) {
		fx := setup(t)
		r := fx.do(t, "POST", "/v1/keyspaces", fx.admin, formulr).must(t, http.StatusCreated)
		if r.str("prefix") != "frm" || r.str("source") != "api" || len(r.body["permissions"].([]any)) != 5 {
			t.Fatalf("created: %s", r.raw)
		}
		if rl := r.body["rate_limit"].(map[string]any); rl["window"] != "1h0m0s" && rl["window"] != "1h" || rl["per"] != "key" {
			t.Errorf("rate_limit: %v, want 1000 per 1h, per key", rl)
		}
		// The same prefix, or name, again: 409.
		dup := obj{"name": "other", "prefix": "frm", "permissions": []any{"a"}}
		fx.do(t, "POST", "/v1/keyspaces", fx.admin, dup).must(t, http.StatusConflict)
		fx.do(t, "POST", "/v1/keyspaces", fx.admin, obj{"name": "formulr", "prefix": "fr2", "permissions": []any{"a"}}).must(t, http.StatusConflict)
		// Bad input names its field.
		for field, in := range map[string]obj{
			"prefix":              {"name": "x", "prefix": "X-1", "permissions": []any{"a"}},
			"permissions":         {"name": "x", "prefix": "xx"},
			"permissions[1].name": {"name": "x", "prefix": "xx", "permissions": []any{"a", "a"}},
			"rate_limit.window":   {"name": "x", "prefix": "xx", "permissions": []any{"a"}, "rate_limit": obj{"limit": 5, "window": "1ms"}},
			"rate_limit.per":      {"name": "x", "prefix": "xx", "permissions": []any{"a"}, "rate_limit": obj{"limit": 5, "window": "1h", "per": "ip"}},
		} {
			fx.do(t, "POST", "/v1/keyspaces", fx.admin, in).problem(t, http.StatusUnprocessableEntity, field)
		}
		fx.do(t, "POST", "/v1/keyspaces", fx.admin, obj{"name": "x", "prefix": "xx", "permissions": []any{"a"}, "colour": "red"}).problem(t, http.StatusBadRequest, "colour")

		// Only an admin key without a tenant changes key spaces; keys:read reads them.
		_, reader := fx.createKey(t, obj{"name": "reader", "scopes": []any{"keys:read"}})
		fx.do(t, "POST", "/v1/keyspaces", reader, obj{"name": "y", "prefix": "yy", "permissions": []any{"a"}}).must(t, http.StatusForbidden)
		fx.do(t, "DELETE", "/v1/keyspaces/formulr", reader, nil).must(t, http.StatusForbidden)
		if got := fx.do(t, "GET", "/v1/keyspaces", reader, nil).must(t, http.StatusOK).items(); len(got) != 1 || got[0]["name"] != "formulr" {
			t.Errorf("list: %v", got)
		}
		// Patch: the catalogue grows, the limit goes; the prefix stays.
		r = fx.do(t, "PATCH", "/v1/keyspaces/formulr", fx.admin, obj{"permissions": []any{"campaigns:read", "files:read", "files:write"}, "rate_limit": nil}).must(t, http.StatusOK)
		if len(r.body["permissions"].([]any)) != 3 || r.body["rate_limit"] != nil || r.str("prefix") != "frm" {
			t.Errorf("patched: %s", r.raw)
		}
		fx.do(t, "PATCH", "/v1/keyspaces/formulr", fx.admin, obj{"prefix": "fr3"}).problem(t, http.StatusUnprocessableEntity, "prefix")
		// null removes a field, as it does rate_limit; a field not sent stays.
		fx.do(t, "PATCH", "/v1/keyspaces/formulr", fx.admin, obj{"key_expiry": "30d"}).must(t, http.StatusOK)
		r = fx.do(t, "PATCH", "/v1/keyspaces/formulr", fx.admin, obj{"description": nil}).must(t, http.StatusOK)
		if r.body["description"] != nil || r.str("key_expiry") != "30d" {
			t.Errorf("description: null: %s; want no description, the expiry kept", r.raw)
		}
		if r = fx.do(t, "PATCH", "/v1/keyspaces/formulr", fx.admin, obj{"key_expiry": nil}).must(t, http.StatusOK); r.body["key_expiry"] != nil {
			t.Errorf("key_expiry: null: %s; want none", r.raw)
		}
		fx.do(t, "DELETE", "/v1/keyspaces/formulr", fx.admin, nil).must(t, http.StatusNoContent)
		fx.do(t, "GET", "/v1/keyspaces/formulr", fx.admin, nil).must(t, http.StatusNotFound)
	})
}

func TestKeysIssueAndVerify(t *testing.T) {
	onEachDriver(t, func(t *testing.T, setup setupFunc) {
		fx := setup(t)
		fx.do(t, "POST", "/v1/keyspaces", fx.admin, formulr).must(t, http.StatusCreated)
		fx.do(t, "POST", "/v1/keyspaces", fx.admin, obj{"name": "formvox", "prefix": "fvx",
			"permissions": []any{"read_form", "read_responses", "write_responses", "delete_responses"}}).must(t, http.StatusCreated)
		_, verifier := fx.createKey(t, obj{"name": "formulr api servers", "scopes": []any{"keys:verify"}})

		// Created once, with the key; an unknown permission is 422 naming it.
		fx.do(t, "POST", "/v1/keyspaces/formulr/keys", fx.admin, obj{"tenant": "acme", "name": "CRM", "permissions": []any{"campaigns:read", "campaigns:delete"}}).
			problem(t, http.StatusUnprocessableEntity, "permissions[1]")
		r := fx.do(t, "POST", "/v1/keyspaces/formulr/keys", fx.admin, obj{"tenant": "acme", "name": "CRM Integration", "permissions": []any{"campaigns:*", "responses:read"}}).must(t, http.StatusCreated)
		key, id := r.str("key"), r.str("id")
		if !strings.HasPrefix(key, "frm_") || len(key) != 36 || r.str("start") != key[:8] {
			t.Fatalf("created key %q (start %q)", key, r.str("start"))
		}
		if got := r.body["permissions"].([]any); len(got) != 3 || got[0] != "campaigns:read" || got[1] != "campaigns:write" || got[2] != "responses:read" {
			t.Errorf("campaigns:* and responses:read expanded to %v", got)
		}
		if r.header.Get("Cache-Control") != "no-store" {
			t.Error("the answer that shows the key may be cached")
		}
		for _, path := range []string{"/v1/keyspaces/formulr/keys/" + id, "/v1/keyspaces/formulr/keys"} {
			if g := fx.do(t, "GET", path, fx.admin, nil).must(t, http.StatusOK); strings.Contains(string(g.raw), key) || strings.Contains(string(g.raw), `"key"`) {
				t.Errorf("GET %s shows the key again: %s", path, g.raw)
			}
		}

		// Every code.
		code := func(in obj) string {
			t.Helper()
			return fx.verify(t, verifier, in).str("code")
		}
		if v := fx.verify(t, verifier, obj{"key": key, "permissions": []any{"campaigns:write"}}); v.body["valid"] != true || v.str("code") != "VALID" ||
			v.str("tenant") != "acme" || v.str("key_id") != id || v.str("keyspace") != "formulr" {
			t.Errorf("valid key: %s", v.raw)
		} else if rl := v.body["rate_limit"].(map[string]any); rl["limit"] != float64(1000) || rl["remaining"] != float64(999) {
			t.Errorf("rate_limit after one request: %v, want 999 of 1000 left", rl)
		}
		forged := key[:len(key)-1] + "a"
		if strings.HasSuffix(key, "a") {
			forged = key[:len(key)-1] + "b"
		}
		for name, c := range map[string]struct {
			in   obj
			want string
		}{
			"garbage":                  {obj{"key": "frm_not-a-key"}, "NOT_FOUND"},
			"one character off":        {obj{"key": forged}, "NOT_FOUND"},
			"a well-formed stranger":   {obj{"key": "frm_" + strings.Repeat("A", 26) + checksum62("frm_"+strings.Repeat("A", 26))}, "NOT_FOUND"},
			"asked of another space":   {obj{"key": key, "keyspace": "formvox"}, "NOT_FOUND"},
			"a permission it lacks":    {obj{"key": key, "permissions": []any{"files:read"}}, "FORBIDDEN"},
			"a permission nobody has":  {obj{"key": key, "permissions": []any{"admin"}}, "FORBIDDEN"},
			"its own key space, named": {obj{"key": key, "keyspace": "formulr"}, "VALID"},
		} {
			if got := code(c.in); got != c.want {
				t.Errorf("%s: got %s, want %s", name, got, c.want)
			}
		}
		// Resources: a key for one form works for that form only.
		r = fx.do(t, "POST", "/v1/keyspaces/formvox/keys", fx.admin, obj{"tenant": "acme", "name": "form 123", "permissions": []any{"read_*"}, "resources": []any{"form:123"}}).must(t, http.StatusCreated)
		fvx := r.str("key")
		if got := code(obj{"key": fvx, "permissions": []any{"read_form"}, "resource": "form:123"}); got != "VALID" {
			t.Errorf("its form: %s", got)
		}
		if got := code(obj{"key": fvx, "permissions": []any{"read_form"}, "resource": "form:124"}); got != "FORBIDDEN" {
			t.Errorf("another form: %s", got)
		}
		if got := code(obj{"key": fvx, "permissions": []any{"write_responses"}, "resource": "form:123"}); got != "FORBIDDEN" {
			t.Errorf("read_* does not give write_responses: %s", got)
		}
		// Expired, revoked.
		soon := time.Now().Add(1500 * time.Millisecond).UTC().Format(time.RFC3339Nano)
		short := fx.do(t, "POST", "/v1/keyspaces/formvox/keys", fx.admin, obj{"tenant": "acme", "name": "short", "permissions": []any{"*"}, "expires_at": soon}).must(t, http.StatusCreated).str("key")
		if got := code(obj{"key": short}); got != "VALID" {
			t.Fatalf("before its expiry: %s", got)
		}
		time.Sleep(1600 * time.Millisecond)
		if got := code(obj{"key": short}); got != "EXPIRED" {
			t.Errorf("after its expiry: %s", got)
		}
		rv := fx.do(t, "POST", "/v1/keyspaces/formulr/keys/"+id+"/revoke", fx.admin, nil).must(t, http.StatusOK)
		if rv.body["revoked_at"] == nil {
			t.Errorf("revoked: %s", rv.raw)
		}
		if got := code(obj{"key": key}); got != "REVOKED" {
			t.Errorf("after revoking: %s", got)
		}
		// Rate limited: 2 an hour.
		lim := fx.do(t, "POST", "/v1/keyspaces/formvox/keys", fx.admin, obj{"tenant": "acme", "name": "limited", "permissions": []any{"*"},
			"rate_limit": obj{"limit": 2, "window": "1h"}}).must(t, http.StatusCreated).str("key")
		code(obj{"key": lim})
		code(obj{"key": lim})
		v := fx.verify(t, verifier, obj{"key": lim})
		if v.str("code") != "RATE_LIMITED" || v.body["valid"] != false {
			t.Fatalf("third request of 2 an hour: %s", v.raw)
		}
		if rl := v.body["rate_limit"].(map[string]any); rl["remaining"] != float64(0) || rl["retry_after"].(float64) < 1000 {
			t.Errorf("rate_limit when refused: %v, want none left, retry after about 30 min", rl)
		}
		// Verification needs keys:verify; a well-formed request without a key is 400.
		fx.do(t, "POST", "/v1/keys/verify", fx.admin, obj{}).problem(t, http.StatusBadRequest, "key")
		_, reader := fx.createKey(t, obj{"name": "reader", "scopes": []any{"keys:read"}})
		fx.do(t, "POST", "/v1/keys/verify", reader, obj{"key": fvx}).must(t, http.StatusForbidden)
	})
}

// checksum62 is the key format's checksum, computed here the way a scanner
// would, to build a key that is well formed but was never issued.
func checksum62(s string) string {
	v := crc32.ChecksumIEEE([]byte(s))
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	out := make([]byte, 6)
	for i := 5; i >= 0; i-- {
		out[i] = alphabet[v%62]
		v /= 62
	}
	return string(out)
}

// A key limited to a tenant manages only that tenant's keys, and cannot learn
// that another's exist.
func TestKeysOfATenantKey(t *testing.T) {
	fx := setup(t)
	fx.do(t, "POST", "/v1/keyspaces", fx.admin, formulr).must(t, http.StatusCreated)
	other := fx.do(t, "POST", "/v1/keyspaces/formulr/keys", fx.admin, obj{"tenant": "globex", "name": "theirs", "permissions": []any{"*"}}).must(t, http.StatusCreated).str("id")
	_, acme := fx.createKey(t, obj{"name": "acme portal", "scopes": []any{"keys:read", "keys:write"}, "tenant": "acme"})
	fx.do(t, "POST", "/v1/keyspaces/formulr/keys", acme, obj{"tenant": "globex", "name": "x", "permissions": []any{"*"}}).problem(t, http.StatusForbidden, "tenant")
	mine := fx.do(t, "POST", "/v1/keyspaces/formulr/keys", acme, obj{"name": "mine", "permissions": []any{"files:read"}}).must(t, http.StatusCreated)
	if mine.str("tenant") != "acme" {
		t.Errorf("a tenant key's key: tenant %q", mine.str("tenant"))
	}
	if ids := fx.do(t, "GET", "/v1/keyspaces/formulr/keys?tenant=globex", acme, nil).must(t, http.StatusOK).ids(); len(ids) != 1 || ids[0] != mine.str("id") {
		t.Errorf("a tenant key lists %v, want only its tenant's", ids)
	}
	// A verifier limited to a tenant learns nothing of another tenant's keys,
	// and spends none of their allowance.
	theirs := fx.do(t, "POST", "/v1/keyspaces/formulr/keys", fx.admin, obj{"tenant": "globex", "name": "limited", "permissions": []any{"*"},
		"rate_limit": obj{"limit": 5, "window": "1h"}}).must(t, http.StatusCreated).str("key")
	_, acmeVerifier := fx.createKey(t, obj{"name": "acme verifier", "scopes": []any{"keys:verify"}, "tenant": "acme"})
	if v := fx.verify(t, acmeVerifier, obj{"key": theirs}); v.str("code") != "NOT_FOUND" || v.body["tenant"] != nil || v.body["rate_limit"] != nil {
		t.Errorf("another tenant's key, verified by a tenant's verifier: %s", v.raw)
	}
	_, verifier := fx.createKey(t, obj{"name": "verifier", "scopes": []any{"keys:verify"}})
	if rl := fx.verify(t, verifier, obj{"key": theirs}).body["rate_limit"].(map[string]any); rl["remaining"] != float64(4) {
		t.Errorf("after the refused verification, globex's key has %v left, want 4 (the first request counted)", rl["remaining"])
	}
	for _, p := range []string{"GET /v1/keyspaces/formulr/keys/" + other, "POST /v1/keyspaces/formulr/keys/" + other + "/revoke", "POST /v1/keyspaces/formulr/keys/" + other + "/roll"} {
		method, path, _ := strings.Cut(p, " ")
		fx.do(t, method, path, acme, nil).must(t, http.StatusNotFound)
	}
}

// Rolling a key: the new one works at once, the old one for the grace period.
func TestKeyRoll(t *testing.T) {
	onEachDriver(t, func(t *testing.T, setup setupFunc) {
		fx := setup(t)
		fx.do(t, "POST", "/v1/keyspaces", fx.admin, formulr).must(t, http.StatusCreated)
		_, verifier := fx.createKey(t, obj{"name": "servers", "scopes": []any{"keys:verify"}})
		r := fx.do(t, "POST", "/v1/keyspaces/formulr/keys", fx.admin, obj{"tenant": "acme", "name": "CRM", "permissions": []any{"files:read"}, "resources": []any{"form:1"}}).must(t, http.StatusCreated)
		oldKey, id := r.str("key"), r.str("id")
		rolled := fx.do(t, "POST", "/v1/keyspaces/formulr/keys/"+id+"/roll", fx.admin, obj{"grace_period": "1h"}).must(t, http.StatusCreated)
		nk, _ := rolled.body["key"].(map[string]any)
		if nk == nil || rolled.body["previous"] == nil {
			t.Fatalf("roll: %s", rolled.raw)
		}
		newKey := nk["key"].(string)
		fx.remember(nk)
		if newKey == oldKey || nk["name"] != "CRM" || nk["resources"].([]any)[0] != "form:1" {
			t.Errorf("rolled key: %v", nk)
		}
		for _, k := range []string{oldKey, newKey} {
			if got := fx.verify(t, verifier, obj{"key": k, "resource": "form:1"}).str("code"); got != "VALID" {
				t.Errorf("in the grace period: %s", got)
			}
		}
		// Rolled again with no grace: the previous one ends at once.
		again := fx.do(t, "POST", "/v1/keyspaces/formulr/keys/"+nk["id"].(string)+"/roll", fx.admin, obj{"grace_period": "0s"}).must(t, http.StatusCreated)
		fx.remember(again.body["key"].(map[string]any))
		if got := fx.verify(t, verifier, obj{"key": newKey}).str("code"); got != "EXPIRED" {
			t.Errorf("rolled with no grace: %s, want EXPIRED", got)
		}
		fx.do(t, "POST", "/v1/keyspaces/formulr/keys/"+nk["id"].(string)+"/roll", fx.admin, nil).must(t, http.StatusConflict)
	})
}
