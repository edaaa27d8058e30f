package hookline

import (
	"errors"
	"sort"
	"strings"
	"testing"
)

func TestMatchEventFilter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		patterns []string
		event    string
		want     bool
	}{
		{"empty list accepts all", nil, "invoice.paid", true},
		{"star accepts all", []string{"*"}, "a.b.c", true},
		{"exact", []string{"invoice.paid"}, "invoice.paid", true},
		{"exact other", []string{"invoice.paid"}, "invoice.created", false},
		{"segment wildcard", []string{"invoice.*"}, "invoice.paid", true},
		{"wildcard is one segment", []string{"invoice.*"}, "invoice.line.added", false},
		{"wildcard needs a segment", []string{"invoice.*"}, "invoice", false},
		{"leading wildcard", []string{"*.paid"}, "invoice.paid", true},
		{"leading wildcard other", []string{"*.paid"}, "invoice.created", false},
		{"prefix is not a match", []string{"invoice"}, "invoice.paid", false},
		{"any of several", []string{"user.created", "invoice.*"}, "invoice.voided", true},
		{"none of several", []string{"user.created", "invoice.*"}, "user.deleted", false},
		{"case sensitive", []string{"Invoice.paid"}, "invoice.paid", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MatchEventFilter(tt.patterns, tt.event); got != tt.want {
				t.Errorf("MatchEventFilter(%q, %q) = %v, want %v", tt.patterns, tt.event, got, tt.want)
			}
		})
	}
}

func TestValidateEventPattern(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"*", "a", "invoice.paid", "invoice.*", "*.paid", "a_b-c.D9"} {
		if err := ValidateEventPattern(p); err != nil {
			t.Errorf("ValidateEventPattern(%q) = %v, want nil", p, err)
		}
	}
	for _, p := range []string{"", "a..b", ".a", "a.", "a b", "a.b/c", "é", strings.Repeat("a", 201)} {
		err := ValidateEventPattern(p)
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Field != "events" {
			t.Errorf("ValidateEventPattern(%q) = %v, want a ValidationError on field events", p, err)
		}
	}
}

func TestValidateEventType(t *testing.T) {
	t.Parallel()
	if err := ValidateEventType("event", "response.created"); err != nil {
		t.Errorf("got %v, want nil", err)
	}
	for _, name := range []string{"", "a.*", "a..b", "has space"} {
		err := ValidateEventType("event", name)
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Field != "event" {
			t.Errorf("ValidateEventType(%q) = %v, want a ValidationError on field event", name, err)
		}
	}
}

func TestValidateTenant(t *testing.T) {
	t.Parallel()
	for _, tenant := range []string{"default", "acme", "org_42", TenantOps, "Société Générale"} {
		if err := ValidateTenant("tenant", tenant); err != nil {
			t.Errorf("ValidateTenant(%q) = %v, want nil", tenant, err)
		}
	}
	for _, tenant := range []string{"", "a\nb", "a\x7fb", strings.Repeat("t", 201)} {
		if err := ValidateTenant("tenant", tenant); err == nil {
			t.Errorf("ValidateTenant(%q) = nil, want an error", tenant)
		}
	}
}

func TestValidateURL(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"https://example.com/hook", "http://127.0.0.1:9000/x?y=1", "https://[::1]:8443/"} {
		if err := ValidateURL("url", u); err != nil {
			t.Errorf("ValidateURL(%q) = %v, want nil", u, err)
		}
	}
	tests := map[string]string{
		"":                            "required",
		"ftp://example.com/":          "http",
		"https://":                    "host",
		"/relative":                   "http",
		"https://user:pw@example.com": "credentials",
		"https://example.com/" + strings.Repeat("a", 2048): "2048",
		"http://a b.com/%zz": "valid",
	}
	for u, want := range tests {
		err := ValidateURL("url", u)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "url: ") {
			t.Errorf("ValidateURL(%.40q) = %v, want an error on url mentioning %q", u, err, want)
		}
	}
}

func TestAPIKeyScopes(t *testing.T) {
	t.Parallel()
	admin := APIKey{Scopes: []string{ScopeAdmin}}
	reader := APIKey{Scopes: []string{ScopeWebhooksRead}, Tenant: "acme"}
	for _, s := range Scopes {
		if !admin.Allows(s) {
			t.Errorf("admin key does not allow %s", s)
		}
	}
	if !reader.Allows(ScopeWebhooksRead) || reader.Allows(ScopeWebhooksWrite) {
		t.Error("reader key: wrong scope decisions")
	}
	if !admin.SeesTenant("anything") || !reader.SeesTenant("acme") || reader.SeesTenant("other") {
		t.Error("tenant visibility: wrong decisions")
	}
}

func TestNewIDSortsAndIsUnique(t *testing.T) {
	t.Parallel()
	const n = 20000
	ids := make([]string, n)
	seen := make(map[string]bool, n)
	for i := range ids {
		id := NewID(PrefixEvent)
		if !strings.HasPrefix(id, PrefixEvent) || len(id) != len(PrefixEvent)+26 {
			t.Fatalf("id %q: wrong shape", id)
		}
		for _, r := range id[len(PrefixEvent):] {
			if !strings.ContainsRune(crockford, r) {
				t.Fatalf("id %q: character %q outside the alphabet", id, r)
			}
		}
		if seen[id] {
			t.Fatalf("duplicate id %q", id)
		}
		seen[id] = true
		ids[i] = id
	}
	if !sort.StringsAreSorted(ids) {
		t.Error("ids made in sequence do not sort in sequence")
	}
}
