package sqlite

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/store"
)

// TestIdempotencyBodyEncryptedAtRest reads the column and the database files
// behind the store's back: an answer's body, which may show an API key once,
// is not there in clear, and another key cannot open it.
func TestIdempotencyBodyEncryptedAtRest(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hookline.db")
	s := open(t, path, newKey(t))
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
	if err := s.r.QueryRowContext(ctx, "SELECT body, header FROM idempotency_keys WHERE scope = 'acme' AND key = 'key-1'").
		Scan(&body, &header); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(header, rec.Header) {
		t.Fatalf("header column: got %q, want %q; the query reads the wrong row", header, rec.Header)
	}
	if strings.Contains(body, secret) || !strings.HasPrefix(body, "v1:") {
		t.Errorf("body column: got %q, want a sealed value (v1:…) without the key in clear", body)
	}
	check := func(when string) {
		t.Helper()
		var all []byte
		for _, f := range []string{path, path + "-wal"} {
			b, err := os.ReadFile(f)
			if err != nil && !errors.Is(err, os.ErrNotExist) {
				t.Fatal(err)
			}
			all = append(all, b...)
		}
		if bytes.Contains(all, []byte(secret)) {
			t.Errorf("%s: the database files hold the answer's body in clear", when)
		}
		if !bytes.Contains(all, []byte("plain-header-marker")) {
			t.Fatalf("%s: the answer's header is not in the database files; the search reads the wrong files", when)
		}
	}
	check("while open")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	check("after close")

	wrong := open(t, path, newKey(t))
	if got, err := wrong.IdempotencyBegin(ctx, &other, now); err == nil || !strings.Contains(err.Error(), "decrypt") {
		t.Errorf("IdempotencyBegin with another secret key: got %+v, %v; want a decryption error", got, err)
	}
}
