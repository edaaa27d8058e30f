package secrets

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func newKey(t *testing.T) []byte {
	t.Helper()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealOpenRoundTrip(t *testing.T) {
	t.Parallel()
	b, err := New(newKey(t))
	if err != nil {
		t.Fatal(err)
	}
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	sealed, err := b.Seal(secret)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, secret) || strings.Contains(sealed, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") {
		t.Fatalf("sealed value %q contains the secret", sealed)
	}
	if !strings.HasPrefix(sealed, "v1:") {
		t.Errorf("sealed value %q lacks the version prefix", sealed)
	}
	again, _ := b.Seal(secret)
	if again == sealed {
		t.Error("two seals of one secret are identical; the nonce is not random")
	}
	got, err := b.Open(sealed)
	if err != nil {
		t.Fatal(err)
	}
	if got != secret {
		t.Errorf("got %q, want %q", got, secret)
	}
}

func TestOpenRejectsWrongKeyAndTampering(t *testing.T) {
	t.Parallel()
	b1, _ := New(newKey(t))
	b2, _ := New(newKey(t))
	sealed, err := b1.Seal("whsec_abc")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b2.Open(sealed); err == nil || !strings.Contains(err.Error(), "HOOKLINE_SECRET_KEY") {
		t.Errorf("open with wrong key: got %v, want an error naming HOOKLINE_SECRET_KEY", err)
	}
	raw := []byte(sealed)
	raw[len(raw)-2] ^= 1
	for name, v := range map[string]string{
		"tampered":  string(raw),
		"no prefix": strings.TrimPrefix(sealed, "v1:"),
		"not b64":   "v1:!!!",
		"too short": "v1:AAAA",
	} {
		if _, err := b1.Open(v); err == nil {
			t.Errorf("%s: Open succeeded, want an error", name)
		}
	}
}

func TestNewRejectsBadKeyLength(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 16, 31, 33, 64} {
		if _, err := New(make([]byte, n)); err == nil {
			t.Errorf("New with %d-byte key: got nil error", n)
		}
	}
}

func TestParseKey(t *testing.T) {
	t.Parallel()
	k := newKey(t)
	for name, s := range map[string]string{
		"std":          base64.StdEncoding.EncodeToString(k),
		"raw std":      base64.RawStdEncoding.EncodeToString(k),
		"url":          base64.URLEncoding.EncodeToString(k),
		"raw url":      base64.RawURLEncoding.EncodeToString(k),
		"with newline": base64.StdEncoding.EncodeToString(k) + "\n",
	} {
		got, err := ParseKey(s)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !bytes.Equal(got, k) {
			t.Errorf("%s: decoded a different key", name)
		}
	}
	for _, s := range []string{"", "short", base64.StdEncoding.EncodeToString(make([]byte, 16))} {
		if _, err := ParseKey(s); err == nil || !strings.Contains(err.Error(), "32 bytes") {
			t.Errorf("ParseKey(%q): got %v, want an error about 32 bytes", s, err)
		}
	}
}

func TestLoadOrCreateKeyFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hookline.db.secret-key")
	k1, created, err := LoadOrCreateKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !created || len(k1) != 32 {
		t.Fatalf("first call: created=%v len=%d, want true 32", created, len(k1))
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("key file mode: got %o, want 600", perm)
	}
	k2, created, err := LoadOrCreateKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if created || !bytes.Equal(k1, k2) {
		t.Errorf("second call: created=%v same=%v, want false true", created, bytes.Equal(k1, k2))
	}

	bad := filepath.Join(t.TempDir(), "bad")
	if err := os.WriteFile(bad, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreateKeyFile(bad); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("corrupt key file: got %v, want an error naming the file", err)
	}
}

func TestDerive(t *testing.T) {
	t.Parallel()
	key := newKey(t)
	a, _ := New(key)
	b, _ := New(key)
	other, _ := New(newKey(t))
	p := a.Derive("api-key pepper")
	switch {
	case len(p) != 32:
		t.Fatalf("got %d bytes, want 32", len(p))
	case !bytes.Equal(p, b.Derive("api-key pepper")):
		t.Error("two boxes of one key derive different keys for one purpose")
	case bytes.Equal(p, a.Derive("another purpose")):
		t.Error("two purposes derive the same key")
	case bytes.Equal(p, other.Derive("api-key pepper")):
		t.Error("two box keys derive the same key")
	case bytes.Equal(p, key):
		t.Error("the derived key is the box's key itself")
	}
}
