package webhook

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
)

// Prefixes of Standard Webhooks asymmetric (ed25519) keys.
const (
	// SigningKeyPrefix starts a signing (private) key: "whsk_" and the base64
	// of the ed25519 private key.
	SigningKeyPrefix = "whsk_"
	// PublicKeyPrefix starts a public key: "whpk_" and the base64 of the
	// 32-byte ed25519 public key.
	PublicKeyPrefix = "whpk_"
)

// NewSigningKey returns a new random ed25519 signing key for
// StandardAsymmetricScheme: "whsk_" and the base64 of the 64-byte private key
// (seed followed by public key, the form Go's crypto/ed25519, libsodium and
// the Svix server use). Give receivers PublicKey(key), never the key itself.
func NewSigningKey() (string, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", fmt.Errorf("webhook: new signing key: %w", err)
	}
	return SigningKeyPrefix + base64.StdEncoding.EncodeToString(priv), nil
}

// PublicKey returns the "whpk_" public key of a "whsk_" signing key: what a
// receiver verifies with. It rejects anything but a whsk_ key.
func PublicKey(signingKey string) (string, error) {
	priv, err := schemeSigningKey(signingKey)
	if err != nil {
		return "", err
	}
	return PublicKeyPrefix + base64.StdEncoding.EncodeToString(priv.Public().(ed25519.PublicKey)), nil
}

// schemeSigningKey decodes a "whsk_" key. The Standard Webhooks specification
// says only "base64 encoded, prefixed with whsk_"; implementations differ on
// what is encoded (the Svix server writes the 64-byte seed+public key, the
// Mercury signet library the 32-byte seed), so both are accepted.
func schemeSigningKey(key string) (ed25519.PrivateKey, error) {
	raw, ok := strings.CutPrefix(key, SigningKeyPrefix)
	if !ok {
		return nil, fmt.Errorf("%w: ed25519 signing key must start with %s", ErrInvalidKey, SigningKeyPrefix)
	}
	b, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %s key is not base64: %v", ErrInvalidKey, SigningKeyPrefix, err)
	}
	switch len(b) {
	case ed25519.SeedSize:
		return ed25519.NewKeyFromSeed(b), nil
	case ed25519.PrivateKeySize:
		priv := ed25519.NewKeyFromSeed(b[:ed25519.SeedSize])
		// A private key whose second half is not its public key is corrupt,
		// and would make signatures nobody can verify.
		if !bytes.Equal(priv[ed25519.SeedSize:], b[ed25519.SeedSize:]) {
			return nil, fmt.Errorf("%w: %s key's public half does not match its seed", ErrInvalidKey, SigningKeyPrefix)
		}
		return priv, nil
	}
	return nil, fmt.Errorf("%w: %s key must be 32 or 64 bytes, got %d", ErrInvalidKey, SigningKeyPrefix, len(b))
}

// schemeVerifyKey decodes a key a receiver verifies with: a "whpk_" public key,
// or a "whsk_" signing key whose public key is derived.
func schemeVerifyKey(key string) (ed25519.PublicKey, error) {
	raw, ok := strings.CutPrefix(key, PublicKeyPrefix)
	if !ok {
		if !strings.HasPrefix(key, SigningKeyPrefix) {
			return nil, fmt.Errorf("%w: ed25519 key must start with %s (or %s)", ErrInvalidKey, PublicKeyPrefix, SigningKeyPrefix)
		}
		priv, err := schemeSigningKey(key)
		if err != nil {
			return nil, err
		}
		return priv.Public().(ed25519.PublicKey), nil
	}
	b, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %s key is not base64: %v", ErrInvalidKey, PublicKeyPrefix, err)
	}
	if len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: %s key must be 32 bytes, got %d", ErrInvalidKey, PublicKeyPrefix, len(b))
	}
	return ed25519.PublicKey(b), nil
}
