package webhooks_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookline/hookline/internal/delivery"
	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/profile"
	"github.com/hookline/hookline/internal/store/sqlite/sqlitetest"
	"github.com/hookline/hookline/internal/webhooks"
)

// setup returns a Service on a fresh SQLite store whose server allows 3
// webhooks per tenant, with profiles loaded from files: "small" (2 webhooks
// per tenant), "same" (3, as the server) and "raw" (raw secrets, the
// server's limit).
func setup(t *testing.T) *webhooks.Service {
	t.Helper()
	s := sqlitetest.Open(t)
	reg, err := profile.NewRegistry(s, profile.Defaults{MaxWebhooksPerTenant: 3})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files := map[string]string{
		"small.yaml": "policy:\n  max_webhooks_per_tenant: 2\n",
		"same.yaml":  "policy:\n  max_webhooks_per_tenant: 3\n",
		"raw.yaml":   "signature:\n  header: X-Signature\n  key: raw\n",
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := reg.LoadFiles(dir); err != nil {
		t.Fatal(err)
	}
	engine := delivery.New(delivery.Options{Store: s, Profiles: reg})
	return webhooks.New(webhooks.Options{Store: s, Engine: engine, MaxPerTenant: 3})
}

func ptr[T any](v T) *T { return &v }

// The webhook one too many is refused with a sentence that says whose limit
// it is, not a storage error.
func TestCreateOverLimit(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		profile string
		limit   int
		want    string
	}{
		{"server's limit", "", 3, `tenant "acme" already has 3 webhooks, the most it may have (the server's limit, --max-webhooks-per-tenant); delete one to add another`},
		{"profile's limit", "small", 2, `tenant "acme" already has 2 webhooks, the most it may have (the limit of the "small" profile); delete one to add another`},
		{"profile's limit, the server's too", "same", 3, `tenant "acme" already has 3 webhooks, the most it may have (the limit of the "same" profile); delete one to add another`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			svc := setup(t)
			ctx := context.Background()
			in := &webhooks.Input{URL: ptr("https://example.com/hooks"), Profile: ptr(tc.profile)}
			for i := range tc.limit {
				if _, err := svc.Create(ctx, "acme", in); err != nil {
					t.Fatalf("webhook %d: %v", i+1, err)
				}
			}
			_, err := svc.Create(ctx, "acme", in)
			if !errors.Is(err, hookline.ErrLimitReached) {
				t.Fatalf("webhook %d: got %v, want ErrLimitReached", tc.limit+1, err)
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("webhook %d: got error %q, want %q", tc.limit+1, got, tc.want)
			}
		})
	}
}

// A profile the server lacks is refused with what it has and how profiles are
// loaded.
func TestCreateUnknownProfile(t *testing.T) {
	t.Parallel()
	svc := setup(t)
	_, err := svc.Create(context.Background(), "acme", &webhooks.Input{URL: ptr("https://example.com/hooks"), Profile: ptr("formvox")})
	var ve *hookline.ValidationError
	if !errors.As(err, &ve) || ve.Field != "profile" {
		t.Fatalf("got %v, want a validation error of profile", err)
	}
	for _, want := range []string{`unknown profile "formvox"`, `the built-in "standard" and, from files, "raw", "same", "small"`,
		"--profiles DIR", "HOOKLINE_PROFILES", "POST /v1/profiles", "GET /v1/profiles"} {
		if !strings.Contains(ve.Message, want) {
			t.Errorf("got message %q, want it to say %q", ve.Message, want)
		}
	}
}

// A secret the profile refuses is refused naming the profile, why the webhook
// has it and how to choose another.
func TestSecretRefusedNamesProfile(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		profile *string
		secret  string
		want    []string
	}{
		{"default profile", nil, "formvox-secret-0123456789!", []string{
			"must be whsec_ followed by base64", `That is what the "standard" profile needs, which the webhook has because the request names no "profile"`,
			"Leave the secret out", `set "profile"`, "GET /v1/profiles"}},
		{"chosen profile", ptr("raw"), "short", []string{
			"must be 8 to 512 characters", `That is what the webhook's profile, "raw", needs`, `set "profile"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			svc := setup(t)
			_, err := svc.Create(context.Background(), "acme", &webhooks.Input{URL: ptr("https://example.com/hooks"), Profile: tc.profile, Secret: ptr(tc.secret)})
			var ve *hookline.ValidationError
			if !errors.As(err, &ve) || ve.Field != "secret" {
				t.Fatalf("got %v, want a validation error of secret", err)
			}
			for _, want := range tc.want {
				if !strings.Contains(ve.Message, want) {
					t.Errorf("got message %q, want it to say %q", ve.Message, want)
				}
			}
		})
	}
}
