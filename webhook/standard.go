// Package webhook signs and verifies webhook requests. It depends on the standard
// library only, so a receiver can import it without pulling in the server.
//
// This file implements the Standard Webhooks scheme (https://www.standardwebhooks.com):
// headers webhook-id, webhook-timestamp and webhook-signature, the signature being
// "v1," followed by the base64 HMAC-SHA256 of "{id}.{timestamp}.{body}", keyed with
// the base64-decoded part of a "whsec_" secret.
package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
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

// Standard signs and verifies with one Standard Webhooks secret.
type Standard struct {
	key []byte
	// Tolerance bounds the age of a timestamp in Verify; DefaultTolerance if zero.
	Tolerance time.Duration
	// Now returns the current time; time.Now if nil.
	Now func() time.Time
}

// NewStandard returns a Standard for a "whsec_" secret.
func NewStandard(secret string) (*Standard, error) {
	key, err := DecodeSecret(secret)
	if err != nil {
		return nil, err
	}
	return &Standard{key: key}, nil
}

// Sign returns the webhook-signature value ("v1,<base64>") for a message.
func (s *Standard) Sign(id string, ts time.Time, body []byte) string {
	return "v1," + base64.StdEncoding.EncodeToString(s.mac(id, ts.Unix(), body))
}

func (s *Standard) mac(id string, unix int64, body []byte) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write(strconv.AppendInt(nil, unix, 10))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks the headers of a request against its body: the timestamp must be
// within the tolerance and one of the space-separated "v1,<base64>" signatures must
// match (several appear while a secret is being rotated).
func (s *Standard) Verify(body []byte, h http.Header) error {
	id, tsText, sigs := h.Get(HeaderID), h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	if id == "" || tsText == "" || sigs == "" {
		return ErrMissingHeaders
	}
	unix, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return ErrInvalidTimestamp
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	tol := s.Tolerance
	if tol == 0 {
		tol = DefaultTolerance
	}
	if d := now().Sub(time.Unix(unix, 0)); d > tol || d < -tol {
		return ErrTimestampTooOld
	}
	want := s.mac(id, unix, body)
	for _, sig := range strings.Fields(sigs) {
		version, b64, ok := strings.Cut(sig, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(b64)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return ErrNoMatch
}
