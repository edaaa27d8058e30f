package postgres_test

import (
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/store/postgres/pgtest"
)

// TestSecretEncryptedAtRest reads the columns behind the store's back: neither
// the secret nor the previous one is there in clear.
func TestSecretEncryptedAtRest(t *testing.T) {
	t.Parallel()
	url := pgtest.MigratedURL(t)
	box := newBox(t)
	s := pgtest.OpenURL(t, url, box)
	const secret, previous = "whsec_Q2xlYXJUZXh0U2VjcmV0TWFya2VyNDI=", "whsec_UHJldmlvdXNTZWNyZXRNYXJrZXI="
	w := newWebhook("acme", previous)
	if err := s.WebhookCreate(t.Context(), store.WebhookCreateParams{Webhook: w}); err != nil {
		t.Fatal(err)
	}
	upd := *w
	until := time.Now().Add(time.Hour).UTC().Truncate(time.Millisecond)
	upd.Secret, upd.PreviousSecret, upd.PreviousSecretUntil = secret, previous, &until
	if err := s.WebhookUpdate(t.Context(), &upd); err != nil {
		t.Fatal(err)
	}
	got, err := s.WebhookGet(t.Context(), w.ID)
	if err != nil || got.Secret != secret || got.PreviousSecret != previous || !got.PreviousSecretUntil.Equal(until) {
		t.Fatalf("WebhookGet: got %+v, %v; want both secrets back in clear", got, err)
	}

	var stored, storedPrevious, url2 string
	err = connect(t, url).QueryRow(t.Context(), "SELECT secret, previous_secret, url FROM webhooks WHERE id = $1", w.ID).
		Scan(&stored, &storedPrevious, &url2)
	if err != nil {
		t.Fatal(err)
	}
	if url2 != w.URL {
		t.Fatalf("url column: got %q, want %q; the query reads the wrong row", url2, w.URL)
	}
	for _, c := range []struct{ column, value, clear string }{
		{"secret", stored, secret}, {"previous_secret", storedPrevious, previous},
	} {
		if strings.Contains(c.value, c.clear) || strings.Contains(c.value, strings.TrimPrefix(c.clear, "whsec_")) {
			t.Errorf("%s column holds the secret in clear: %q", c.column, c.value)
		}
		if !strings.HasPrefix(c.value, "v1:") {
			t.Errorf("%s column: got %q, want a sealed value (v1:…)", c.column, c.value)
		}
	}

	// Another key cannot open it, and says so.
	other := pgtest.OpenURL(t, url, newBox(t))
	if _, err := other.WebhookGet(t.Context(), w.ID); err == nil || !strings.Contains(err.Error(), "decrypt") {
		t.Errorf("WebhookGet with another key: got %v, want a decryption error", err)
	}
}
