package postgres_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/store/postgres/pgtest"
)

// TestIdempotencyBodyEncryptedAtRest reads the column behind the store's
// back: an answer's body, which may show an API key once, is not there in
// clear, and another key cannot open it.
func TestIdempotencyBodyEncryptedAtRest(t *testing.T) {
	t.Parallel()
	url := pgtest.MigratedURL(t)
	s := pgtest.OpenURL(t, url, newBox(t))
	ctx := t.Context()
	const secret = "hk_live_Q2xlYXJUZXh0QW5zd2VyTWFya2VyNDI"
	now := time.Now().UTC().Truncate(time.Millisecond)
	rec := &store.IdempotencyRecord{Scope: "acme", Key: "key-1", RequestHash: []byte("hash"), Token: "A",
		CreatedAt: now, LockedUntil: now.Add(time.Minute), ExpiresAt: now.Add(24 * time.Hour)}
	if got, err := s.IdempotencyBegin(ctx, rec, now); got != nil || err != nil {
		t.Fatalf("IdempotencyBegin: got %+v, %v; want nil, nil", got, err)
	}
	rec.Status, rec.Header, rec.Body = 201, []byte(`{"X-Marker":["plain-header-marker"]}`), []byte(`{"key":"`+secret+`"}`)
	if err := s.IdempotencyFinish(ctx, rec); err != nil {
		t.Fatal(err)
	}
	other := *rec
	other.Token, other.RequestHash = "B", []byte("other hash")
	if got, err := s.IdempotencyBegin(ctx, &other, now); err != nil || got == nil || !bytes.Equal(got.Body, rec.Body) {
		t.Fatalf("IdempotencyBegin of the finished key: got %+v, %v; want its body in clear", got, err)
	}

	var body string
	var header []byte
	if err := connect(t, url).QueryRow(ctx, "SELECT body, header FROM idempotency_keys WHERE scope = 'acme' AND key = 'key-1'").
		Scan(&body, &header); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(header, rec.Header) {
		t.Fatalf("header column: got %q, want %q; the query reads the wrong row", header, rec.Header)
	}
	if strings.Contains(body, secret) || !strings.HasPrefix(body, "v1:") {
		t.Errorf("body column: got %q, want a sealed value (v1:…) without the key in clear", body)
	}

	wrong := pgtest.OpenURL(t, url, newBox(t))
	if got, err := wrong.IdempotencyBegin(ctx, &other, now); err == nil || !strings.Contains(err.Error(), "decrypt") {
		t.Errorf("IdempotencyBegin with another secret key: got %+v, %v; want a decryption error", got, err)
	}
}
