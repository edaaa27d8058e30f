package webhook

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Scheme describes how a webhook request is signed, as data: which algorithm,
// over which bytes, written how and into which header. One Scheme value signs
// (Sign, on the sender) and verifies (Verify and Middleware, on the receiver).
//
// The zero value of every field but Header is a usable default: HMAC-SHA256 of
// the raw body, lower-case hex, no prefix, the secret's bytes as the key. A
// Scheme is safe for concurrent use as long as its fields are not changed.
//
// Every signature a Scheme writes is Prefix followed by the encoded signature;
// during a secret rotation several are joined by Separator. For example the
// Standard Webhooks header "v1,<base64> v1,<base64>" is Prefix "v1,", Encoding
// "base64" and Separator " " (see StandardScheme).
type Scheme struct {
	// Algorithm is "hmac-sha256" (the default when empty) or "ed25519" (Standard
	// Webhooks asymmetric signatures, see NewSigningKey).
	Algorithm string
	// Header is the request header that carries the signatures, for example
	// "webhook-signature" or "X-FormVox-Signature". Required.
	Header string
	// Payload is the template of the signed bytes: literal text and the
	// placeholders {body} (the request body, required), {timestamp} or its alias
	// {send.unix} (the send time in unix seconds) and {id} or its alias
	// {event.id} (the message id). "{{" and "}}" stand for literal braces.
	// Empty means "{body}".
	Payload string
	// Encoding writes the signature bytes: "hex" (lower case, the default when
	// empty) or "base64" (standard alphabet, padded).
	Encoding string
	// Prefix is written before each signature: "sha256=", "v1=", "v1," … or
	// nothing. When verifying, signatures with another prefix are ignored, so a
	// Standard Webhooks header may mix "v1," and "v1a," entries.
	Prefix string
	// Key says how an HMAC secret becomes the key: "raw" (the default when
	// empty) uses the secret string's bytes exactly as given, whatever they look
	// like, as hash_hmac('sha256', $payload, $secret) and
	// crypto.createHmac('sha256', secret) do; "whsec" uses the base64 part of a
	// Standard Webhooks "whsec_…" secret (see DecodeSecret). Must be empty for
	// ed25519, whose keys are always "whsk_…" and "whpk_…".
	Key string
	// Separator joins the signatures of several secrets while a secret is being
	// rotated (" " for Standard Webhooks). Empty means only the newest secret
	// signs, and a received header is taken as one signature.
	Separator string

	// TimestampHeader is the header a receiver reads {timestamp} from, for
	// example "webhook-timestamp". Verify needs it when Payload uses
	// {timestamp}; signing does not (the sender writes that header itself).
	TimestampHeader string
	// IDHeader is the header a receiver reads {id} from, for example
	// "webhook-id". Verify needs it when Payload uses {id}.
	IDHeader string
	// Tolerance is how far the timestamp may be from the receiver's clock, in
	// the past or the future, when Payload uses {timestamp}. DefaultTolerance
	// when zero.
	Tolerance time.Duration
	// Now returns the receiver's current time; time.Now when nil. Tests set it.
	Now func() time.Time
	// MaxBodyBytes is the largest body Middleware reads; DefaultMaxBodyBytes
	// when zero.
	MaxBodyBytes int64
}

// Values of Scheme.Algorithm.
const (
	AlgorithmHMACSHA256 = "hmac-sha256"
	AlgorithmEd25519    = "ed25519"
)

// Values of Scheme.Encoding.
const (
	EncodingHex    = "hex"
	EncodingBase64 = "base64"
)

// Values of Scheme.Key.
const (
	KeyRaw   = "raw"
	KeyWhsec = "whsec"
)

// DefaultMaxBodyBytes is the largest body Middleware reads when
// Scheme.MaxBodyBytes is zero: 10 MiB.
const DefaultMaxBodyBytes = 10 << 20

// Errors of Scheme. They are wrapped with the details (the field, the header),
// so test them with errors.Is.
var (
	// ErrInvalidScheme is returned by Validate, and by Sign and Verify for a
	// scheme that does not validate; the message names the field.
	ErrInvalidScheme = errors.New("webhook: invalid scheme")
	// ErrInvalidKey means a secret or key cannot be used: empty, not the
	// expected "whsec_", "whsk_" or "whpk_" form, or no secret at all.
	ErrInvalidKey = errors.New("webhook: invalid key")
	// ErrMissingHeader means a header Verify needs is absent or empty; the
	// message names it.
	ErrMissingHeader = errors.New("webhook: missing header")
)

// StandardScheme returns the Standard Webhooks symmetric scheme: header
// webhook-signature carrying "v1," and the base64 HMAC-SHA256 of
// "{id}.{timestamp}.{body}", keyed with a "whsec_" secret, space-separated
// during rotation, the id and timestamp read from webhook-id and
// webhook-timestamp.
func StandardScheme() *Scheme {
	return &Scheme{
		Algorithm:       AlgorithmHMACSHA256,
		Header:          HeaderSignature,
		Payload:         "{id}.{timestamp}.{body}",
		Encoding:        EncodingBase64,
		Prefix:          "v1,",
		Key:             KeyWhsec,
		Separator:       " ",
		TimestampHeader: HeaderTimestamp,
		IDHeader:        HeaderID,
	}
}

// StandardAsymmetricScheme returns the Standard Webhooks asymmetric scheme: like
// StandardScheme but ed25519 signatures written "v1a,<base64>", signed with
// "whsk_" keys and verified with "whpk_" public keys.
func StandardAsymmetricScheme() *Scheme {
	s := StandardScheme()
	s.Algorithm = AlgorithmEd25519
	s.Prefix = "v1a,"
	s.Key = ""
	return s
}

// Validate checks the fields that signing uses and returns an error wrapping
// ErrInvalidScheme that names the first bad field. It does not require
// TimestampHeader or IDHeader: a sender writes those headers itself, so only
// Verify, which reads them, reports their absence.
func (s *Scheme) Validate() error {
	_, err := s.compile()
	return err
}

// schemeInvalid wraps ErrInvalidScheme with the name of the field at fault.
func schemeInvalid(field, format string, args ...any) error {
	return fmt.Errorf("%w: %s %s", ErrInvalidScheme, field, fmt.Sprintf(format, args...))
}

// schemeCompiled is a validated Scheme with its payload template parsed.
type schemeCompiled struct {
	ed25519 bool
	base64  bool
	whsec   bool
	payload *schemePayload
}

func (s *Scheme) compile() (*schemeCompiled, error) {
	c := &schemeCompiled{}
	switch s.Algorithm {
	case "", AlgorithmHMACSHA256:
	case AlgorithmEd25519:
		c.ed25519 = true
	default:
		return nil, schemeInvalid("algorithm", "%q: want hmac-sha256 or ed25519", s.Algorithm)
	}
	if s.Header == "" {
		return nil, schemeInvalid("header", "is required")
	}
	if !schemeIsToken(s.Header) {
		return nil, schemeInvalid("header", "%q is not a valid header name", s.Header)
	}
	for _, f := range []struct{ field, name string }{{"timestamp header", s.TimestampHeader}, {"id header", s.IDHeader}} {
		if f.name != "" && !schemeIsToken(f.name) {
			return nil, schemeInvalid(f.field, "%q is not a valid header name", f.name)
		}
	}
	switch s.Encoding {
	case "", EncodingHex:
	case EncodingBase64:
		c.base64 = true
	default:
		return nil, schemeInvalid("encoding", "%q: want hex or base64", s.Encoding)
	}
	switch {
	case c.ed25519 && s.Key != "":
		return nil, schemeInvalid("key", "%q: must be empty for ed25519 (keys are whsk_ and whpk_)", s.Key)
	case s.Key == "" || s.Key == KeyRaw:
	case s.Key == KeyWhsec:
		c.whsec = true
	default:
		return nil, schemeInvalid("key", "%q: want raw or whsec", s.Key)
	}
	p, err := schemeParsePayload(s.Payload)
	if err != nil {
		return nil, schemeInvalid("payload", "%q: %v", s.Payload, err)
	}
	c.payload = p
	if err := schemeCheckText(s.Prefix); err != nil {
		return nil, schemeInvalid("prefix", "%q: %v", s.Prefix, err)
	}
	if strings.TrimSpace(s.Prefix) != s.Prefix {
		return nil, schemeInvalid("prefix", "%q: must not start or end with a space", s.Prefix)
	}
	if err := schemeCheckText(s.Separator); err != nil {
		return nil, schemeInvalid("separator", "%q: %v", s.Separator, err)
	}
	if s.Separator != "" {
		// Verify splits the header on Separator, which must therefore never
		// occur inside a signature or its prefix.
		alphabet := "0123456789abcdefABCDEF"
		if c.base64 {
			alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
		}
		if strings.ContainsAny(s.Separator, alphabet) {
			return nil, schemeInvalid("separator", "%q: must not contain characters of the %s encoding", s.Separator, s.encodingName())
		}
		if strings.Contains(s.Prefix, s.Separator) {
			return nil, schemeInvalid("separator", "%q: occurs in the prefix %q", s.Separator, s.Prefix)
		}
	}
	if s.Tolerance < 0 {
		return nil, schemeInvalid("tolerance", "%v: must not be negative", s.Tolerance)
	}
	if s.MaxBodyBytes < 0 {
		return nil, schemeInvalid("max body bytes", "%d: must not be negative", s.MaxBodyBytes)
	}
	return c, nil
}

func (s *Scheme) encodingName() string {
	if s.Encoding == "" {
		return EncodingHex
	}
	return s.Encoding
}

// schemeCheckText accepts a prefix or separator: printable ASCII and spaces,
// nothing that could break the header line.
func schemeCheckText(v string) error {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' || c > '~' {
			return fmt.Errorf("must be printable ASCII, found byte %#x", c)
		}
	}
	return nil
}

// schemeIsToken reports whether name is an RFC 9110 token, a valid header name.
func schemeIsToken(name string) bool {
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return name != ""
}
