// Package webhook signs and verifies webhook requests. It depends on the standard
// library only, so a receiver can import it without pulling in the server.
//
// A Scheme describes a signature as data — algorithm (HMAC-SHA256 or ed25519),
// the template of the signed bytes, encoding, prefix, header, key format — so
// one type covers Standard Webhooks and the formats of existing products
// ("X-Hub-Signature: sha256=<hex>"-style headers, "{timestamp}.{body}"
// payloads, raw string secrets). Scheme.Sign writes the header, Scheme.Verify
// checks a request, and Scheme.Middleware guards an http.Handler.
//
// StandardScheme and StandardAsymmetricScheme are the Standard Webhooks
// (https://www.standardwebhooks.com) schemes: headers webhook-id,
// webhook-timestamp and webhook-signature, the signature being "v1," followed by
// the base64 HMAC-SHA256 of "{id}.{timestamp}.{body}" keyed with the
// base64-decoded part of a "whsec_" secret, or "v1a," followed by an ed25519
// signature. Standard is a small verifier for the symmetric one.
package webhook

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Standard Webhooks header names.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// SecretPrefix starts every Standard Webhooks symmetric secret.
const SecretPrefix = "whsec_"

// DefaultTolerance is how old (or how far in the future) a timestamp may be.
const DefaultTolerance = 5 * time.Minute

// Errors returned by Verify.
var (
	ErrMissingHeaders   = errors.New("webhook: missing webhook-id, webhook-timestamp or webhook-signature header")
	ErrInvalidTimestamp = errors.New("webhook: timestamp is not unix seconds")
	ErrTimestampTooOld  = errors.New("webhook: timestamp outside the tolerance")
	ErrNoMatch          = errors.New("webhook: no signature matches")
)

// NewSecret returns a new random secret "whsec_" + base64 of 24 bytes.
func NewSecret() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return SecretPrefix + base64.StdEncoding.EncodeToString(b)
}

// DecodeSecret returns the HMAC key of a Standard Webhooks secret: the base64 part
// after "whsec_" (the prefix is optional).
func DecodeSecret(secret string) ([]byte, error) {
	raw := strings.TrimPrefix(secret, SecretPrefix)
	key, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return nil, fmt.Errorf("webhook: secret is not whsec_ followed by base64: %w", err)
	}
	if len(key) < 16 || len(key) > 64 {
		return nil, fmt.Errorf("webhook: secret key must be 16 to 64 bytes, got %d", len(key))
	}
	return key, nil
}

// Standard signs and verifies with one Standard Webhooks secret. It is
// StandardScheme with a single secret; use a Scheme directly to verify with
// several secrets during a rotation.
type Standard struct {
	secret string
	// Tolerance bounds the age of a timestamp in Verify; DefaultTolerance if zero.
	Tolerance time.Duration
	// Now returns the current time; time.Now if nil.
	Now func() time.Time
}

// NewStandard returns a Standard for a "whsec_" secret.
func NewStandard(secret string) (*Standard, error) {
	if _, err := DecodeSecret(secret); err != nil {
		return nil, err
	}
	return &Standard{secret: secret}, nil
}

func (s *Standard) scheme() *Scheme {
	sc := StandardScheme()
	sc.Tolerance, sc.Now = s.Tolerance, s.Now
	return sc
}

// Sign returns the webhook-signature value ("v1,<base64>") for a message.
func (s *Standard) Sign(id string, ts time.Time, body []byte) string {
	// The secret was checked by NewStandard and the scheme is fixed, so Sign
	// cannot fail.
	sig, _ := s.scheme().Sign([]string{s.secret}, id, ts, body)
	return sig
}

// Verify checks the headers of a request against its body: the timestamp must be
// within the tolerance and one of the space-separated "v1,<base64>" signatures must
// match (several appear while a secret is being rotated). A missing header is
// reported as ErrMissingHeaders.
func (s *Standard) Verify(body []byte, h http.Header) error {
	err := s.scheme().Verify([]string{s.secret}, body, h)
	if errors.Is(err, ErrMissingHeader) {
		return ErrMissingHeaders
	}
	return err
}
