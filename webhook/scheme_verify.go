package webhook

import (
	"crypto/ed25519"
	"crypto/hmac"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Verify checks a received request, its body and headers, against secrets: it
// passes (returns nil) when any secret matches any signature in the header, so
// a receiver may list the old and the new secret while one rotates.
//
// The signature header is split on Separator (surrounding spaces are trimmed);
// entries that do not start with Prefix, or do not decode, are ignored. When the
// payload uses {timestamp}, the value of TimestampHeader must be unix seconds
// within Tolerance of Now, past or future; when it uses {id}, the value of
// IDHeader goes into the payload. Signatures are compared in constant time; at
// most 16 signatures with the right prefix are tried.
//
// For hmac-sha256 the secrets are read as Key says; for ed25519 they are
// "whpk_" public keys (a "whsk_" signing key is accepted too).
//
// Errors wrap ErrMissingHeader (naming the header), ErrInvalidTimestamp,
// ErrTimestampTooOld, ErrNoMatch, ErrInvalidKey, or ErrInvalidScheme — also
// when the payload needs a TimestampHeader or IDHeader the scheme does not set.
func (s *Scheme) Verify(secrets []string, body []byte, h http.Header) error {
	c, err := s.compileVerify()
	if err != nil {
		return err
	}
	if len(secrets) == 0 {
		return fmt.Errorf("%w: no secret to verify with", ErrInvalidKey)
	}

	header := h.Get(s.Header)
	if header == "" {
		return fmt.Errorf("%w %s", ErrMissingHeader, s.Header)
	}
	var id string
	if c.payload.usesID {
		if id = h.Get(s.IDHeader); id == "" {
			return fmt.Errorf("%w %s", ErrMissingHeader, s.IDHeader)
		}
	}
	var unix int64
	if c.payload.usesTimestamp {
		if unix, err = s.checkTimestamp(h); err != nil {
			return err
		}
	}

	sigs := s.schemeSignatures(header, c.base64)
	if c.ed25519 {
		var msg []byte
		for _, secret := range secrets {
			pub, err := schemeVerifyKey(secret)
			if err != nil {
				return err
			}
			if msg == nil {
				msg = c.message(id, unix, body)
			}
			for _, sig := range sigs {
				if len(sig) == ed25519.SignatureSize && ed25519.Verify(pub, msg, sig) {
					return nil
				}
			}
		}
		return ErrNoMatch
	}
	for _, secret := range secrets {
		key, err := c.hmacKey(secret)
		if err != nil {
			return err
		}
		want := c.mac(key, id, unix, body)
		for _, sig := range sigs {
			if hmac.Equal(sig, want) {
				return nil
			}
		}
	}
	return ErrNoMatch
}

// compileVerify is compile plus what only a receiver needs: the headers the
// payload's {timestamp} and {id} are read from.
func (s *Scheme) compileVerify() (*schemeCompiled, error) {
	c, err := s.compile()
	if err != nil {
		return nil, err
	}
	if c.payload.usesTimestamp && s.TimestampHeader == "" {
		return nil, schemeInvalid("timestamp header", "is required to verify a payload with {timestamp}")
	}
	if c.payload.usesID && s.IDHeader == "" {
		return nil, schemeInvalid("id header", "is required to verify a payload with {id}")
	}
	return c, nil
}

// checkTimestamp reads TimestampHeader and checks it against the tolerance.
func (s *Scheme) checkTimestamp(h http.Header) (int64, error) {
	text := h.Get(s.TimestampHeader)
	if text == "" {
		return 0, fmt.Errorf("%w %s", ErrMissingHeader, s.TimestampHeader)
	}
	unix, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %s is %q", ErrInvalidTimestamp, s.TimestampHeader, text)
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	tol := s.Tolerance
	if tol == 0 {
		tol = DefaultTolerance
	}
	switch d := now().Sub(time.Unix(unix, 0)); {
	case d > tol:
		return 0, fmt.Errorf("%w: %s %s is %v old, tolerance %v", ErrTimestampTooOld, s.TimestampHeader, text, d.Truncate(time.Second), tol)
	case d < -tol:
		return 0, fmt.Errorf("%w: %s %s is %v in the future, tolerance %v", ErrTimestampTooOld, s.TimestampHeader, text, -d.Truncate(time.Second), tol)
	}
	return unix, nil
}

// schemeMaxSignatures caps the signatures Verify tries, so a header stuffed
// with entries cannot make it run thousands of ed25519 verifications.
const schemeMaxSignatures = 16

// schemeSignatures returns the decoded signatures of a header value that carry
// the scheme's prefix, at most schemeMaxSignatures; the others are skipped,
// not fatal.
func (s *Scheme) schemeSignatures(header string, b64 bool) [][]byte {
	entries := []string{header}
	if s.Separator != "" {
		entries = strings.Split(header, s.Separator)
	}
	var sigs [][]byte
	for _, e := range entries {
		e, ok := strings.CutPrefix(strings.TrimSpace(e), s.Prefix)
		if !ok || e == "" {
			continue
		}
		var sig []byte
		var err error
		if b64 {
			sig, err = base64.StdEncoding.DecodeString(e)
		} else {
			sig, err = hex.DecodeString(e)
		}
		if err == nil {
			sigs = append(sigs, sig)
		}
		if len(sigs) == schemeMaxSignatures {
			break
		}
	}
	return sigs
}
