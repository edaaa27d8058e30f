package webhook_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/webhook"
)

// The asymmetric test vector of the signet library (MercuryTechnologies/signet,
// SignerTest.hs): the seed "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345" signs the message
// "i.0.Hello, world!" — id "i", timestamp 0, body "Hello, world!".
const (
	edSeed      = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
	edKey32     = "whsk_QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVowMTIzNDU="
	edVectorSig = "v1a,CV1O+PvrwXM42OMUX+tmm6bA3cS0tgLp0qo3YKuu0MGmBrsUhA0MHXF11HsEUJtPfTKs80WE7WUKVt9TueLDCQ=="
)

func newSigningKey(t *testing.T) string {
	t.Helper()
	k, err := webhook.NewSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func publicKey(t *testing.T, signingKey string) string {
	t.Helper()
	pk, err := webhook.PublicKey(signingKey)
	if err != nil {
		t.Fatalf("PublicKey(%q): %v", signingKey, err)
	}
	return pk
}

func TestEd25519KnownVector(t *testing.T) {
	t.Parallel()
	priv := ed25519.NewKeyFromSeed([]byte(edSeed))
	edKey64 := webhook.SigningKeyPrefix + base64.StdEncoding.EncodeToString(priv)
	wantPub := webhook.PublicKeyPrefix + base64.StdEncoding.EncodeToString(priv.Public().(ed25519.PublicKey))
	s := webhook.StandardAsymmetricScheme()
	s.Now = func() time.Time { return time.Unix(60, 0) }

	for name, key := range map[string]string{"32-byte seed": edKey32, "64-byte private key": edKey64} {
		sig, err := s.Sign([]string{key}, "i", time.Unix(0, 0), []byte("Hello, world!"))
		if err != nil || sig != edVectorSig {
			t.Errorf("Sign with the %s: got %q, %v; want %s", name, sig, err, edVectorSig)
		}
		if got := publicKey(t, key); got != wantPub {
			t.Errorf("PublicKey of the %s: got %s, want %s", name, got, wantPub)
		}
		for _, verifyKey := range []string{wantPub, key} {
			if err := s.Verify([]string{verifyKey}, []byte("Hello, world!"), headers("i", time.Unix(0, 0), edVectorSig)); err != nil {
				t.Errorf("Verify of the vector with %s: %v", verifyKey[:5], err)
			}
		}
	}
}

func TestEd25519SignVerify(t *testing.T) {
	t.Parallel()
	key, otherKey := newSigningKey(t), newSigningKey(t)
	pub, otherPub := publicKey(t, key), publicKey(t, otherKey)
	body := []byte(`{"type":"user.created","data":{"id":1}}`)
	now := time.Now()
	s := webhook.StandardAsymmetricScheme()
	sig, err := s.Sign([]string{key}, "msg_1", now, body)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(sig, "v1a,") || strings.Contains(sig, " ") {
		t.Errorf("Sign: got %q, want one v1a, signature", sig)
	}
	hmacSig, err := webhook.StandardScheme().Sign([]string{webhook.NewSecret()}, "msg_1", now, body)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		secrets []string
		body    string
		id      string
		sig     string
		want    error
	}{
		{"public key", []string{pub}, string(body), "msg_1", sig, nil},
		{"signing key", []string{key}, string(body), "msg_1", sig, nil},
		{"other key, then the right one", []string{otherPub, pub}, string(body), "msg_1", sig, nil},
		{"wrong key", []string{otherPub}, string(body), "msg_1", sig, webhook.ErrNoMatch},
		{"tampered body", []string{pub}, string(body) + " ", "msg_1", sig, webhook.ErrNoMatch},
		{"other id", []string{pub}, string(body), "msg_2", sig, webhook.ErrNoMatch},
		{"mixed v1 and v1a", []string{pub}, string(body), "msg_1", hmacSig + " " + sig, nil},
		{"v1 only", []string{pub}, string(body), "msg_1", hmacSig, webhook.ErrNoMatch},
		{"truncated", []string{pub}, string(body), "msg_1", sig[:len(sig)-4], webhook.ErrNoMatch},
		{"secret is a whsec", []string{webhook.NewSecret()}, string(body), "msg_1", sig, webhook.ErrInvalidKey},
		{"public key too short", []string{"whpk_AAAA"}, string(body), "msg_1", sig, webhook.ErrInvalidKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := s.Verify(tt.secrets, []byte(tt.body), headers(tt.id, now, tt.sig))
			if !errors.Is(err, tt.want) {
				t.Errorf("Verify: got %v, want %v", err, tt.want)
			}
		})
	}

	// The symmetric scheme reads the same mixed header with its own secret.
	secret := webhook.NewSecret()
	hmacSig, _ = webhook.StandardScheme().Sign([]string{secret}, "msg_1", now, body)
	if err := webhook.StandardScheme().Verify([]string{secret}, body, headers("msg_1", now, sig+" "+hmacSig)); err != nil {
		t.Errorf("StandardScheme Verify of a mixed header: %v", err)
	}
}

func TestEd25519Rotation(t *testing.T) {
	t.Parallel()
	oldKey, newKey := newSigningKey(t), newSigningKey(t)
	s := webhook.StandardAsymmetricScheme()
	now := time.Now()
	body := []byte(`{}`)
	sig, err := s.Sign([]string{newKey, oldKey}, "msg_1", now, body)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(strings.Fields(sig)); n != 2 {
		t.Fatalf("Sign with two keys: got %d signatures in %q, want 2", n, sig)
	}
	for _, k := range []string{oldKey, newKey} {
		if err := s.Verify([]string{publicKey(t, k)}, body, headers("msg_1", now, sig)); err != nil {
			t.Errorf("Verify with one of the keys: %v", err)
		}
	}
}

func TestSigningKeys(t *testing.T) {
	t.Parallel()
	a, b := newSigningKey(t), newSigningKey(t)
	if a == b || !strings.HasPrefix(a, "whsk_") {
		t.Errorf("NewSigningKey: got %q and %q, want two different whsk_ keys", a, b)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(a, "whsk_"))
	if err != nil || len(raw) != ed25519.PrivateKeySize {
		t.Errorf("NewSigningKey: got %d bytes, %v; want %d", len(raw), err, ed25519.PrivateKeySize)
	}
	pub := publicKey(t, a)
	rawPub, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(pub, "whpk_"))
	if !strings.HasPrefix(pub, "whpk_") || err != nil || !ed25519.PublicKey(rawPub).Equal(ed25519.PrivateKey(raw).Public()) {
		t.Errorf("PublicKey: got %q, want whpk_ and the base64 of the key's public half", pub)
	}

	corrupt := ed25519.NewKeyFromSeed([]byte(edSeed))
	corrupt[40] ^= 1
	bad := []struct{ name, key string }{
		{"empty", ""},
		{"public key", pub},
		{"whsec secret", webhook.NewSecret()},
		{"no prefix", strings.TrimPrefix(a, "whsk_")},
		{"not base64", "whsk_!!!"},
		{"16 bytes", "whsk_" + base64.StdEncoding.EncodeToString(make([]byte, 16))},
		{"public half does not match", "whsk_" + base64.StdEncoding.EncodeToString(corrupt)},
	}
	for _, tt := range bad {
		if pk, err := webhook.PublicKey(tt.key); !errors.Is(err, webhook.ErrInvalidKey) {
			t.Errorf("PublicKey(%s): got %q, %v; want ErrInvalidKey", tt.name, pk, err)
		}
	}
}
