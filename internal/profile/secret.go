package profile

import (
	"crypto/rand"
	"fmt"
	"math"
	"strings"

	"github.com/hookline/hookline/internal/hookline"
)

// SecretFormat is the format of the secrets a profile generates for its
// webhooks, and with Strict the format a given secret must have: Prefix then
// Length characters of Alphabet (FormVox: whsec_ + 32 letters and digits).
type SecretFormat struct {
	Prefix   string `json:"prefix,omitempty" yaml:"prefix"`
	Alphabet string `json:"alphabet,omitempty" yaml:"alphabet"`
	Length   int    `json:"length,omitempty" yaml:"length"`
	Strict   bool   `json:"strict,omitempty" yaml:"strict"`
}

// secretAlphabets are the alphabets a secret format may name, with how a
// message describes them.
var secretAlphabets = map[string]struct{ chars, describe string }{
	"alphanumeric": {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "letters and digits (A-Z, a-z, 0-9)"},
	"base64":       {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", "base64 characters (A-Z, a-z, 0-9, + and /)"},
	"base64url":    {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", "base64url characters (A-Z, a-z, 0-9, - and _)"},
	"hex":          {"0123456789abcdef", "lower-case hex digits (0-9, a-f)"},
}

// Limits of a secret format. A generated secret carries at least
// minSecretBits of randomness, and is within the 8 to 512 characters any
// given secret may have.
const (
	defaultSecretAlphabet = "alphanumeric"
	defaultSecretLength   = 32
	minSecretBits         = 128
	maxSecretLength       = 512
	maxSecretPrefix       = 64
)

// secretFormat is a compiled SecretFormat.
type secretFormat struct {
	prefix, chars, describe string
	length                  int
	strict                  bool
}

// compileSecret checks a profile's secret format; kind is the profile's
// SecretKind. Nil when the profile sets none.
func compileSecret(d *SecretFormat, kind string) (*secretFormat, error) {
	if d == nil {
		return nil, nil
	}
	switch kind {
	case "whsec":
		return nil, hookline.Invalid("secret", "does not apply with signature.key whsec: its secrets are whsec_ + base64 (Standard Webhooks); set key: raw to choose a format")
	case "ed25519":
		return nil, hookline.Invalid("secret", "does not apply to ed25519 signatures: their secrets are whsk_ signing keys")
	}
	name := d.Alphabet
	if name == "" {
		name = defaultSecretAlphabet
	}
	a, ok := secretAlphabets[name]
	if !ok {
		return nil, hookline.Invalid("secret.alphabet", "must be alphanumeric, base64, base64url or hex, not %q", d.Alphabet)
	}
	if len(d.Prefix) > maxSecretPrefix {
		return nil, hookline.Invalid("secret.prefix", "at most %d characters", maxSecretPrefix)
	}
	for _, c := range d.Prefix {
		if c <= ' ' || c > '~' {
			return nil, hookline.Invalid("secret.prefix", "must be printable ASCII without spaces, such as whsec_")
		}
	}
	length := d.Length
	if length == 0 {
		length = defaultSecretLength
	}
	// The fewest characters of this alphabet that carry minSecretBits.
	least := int(math.Ceil(minSecretBits / math.Log2(float64(len(a.chars)))))
	if most := maxSecretLength - len(d.Prefix); length < least || length > most {
		return nil, hookline.Invalid("secret.length", "must be %d to %d: at least %d bits of randomness with %s, and at most %d characters with the prefix",
			least, most, minSecretBits, name, maxSecretLength)
	}
	return &secretFormat{prefix: d.Prefix, chars: a.chars, describe: a.describe, length: length, strict: d.Strict}, nil
}

// generate returns a new secret of the format: the prefix, then characters
// drawn uniformly from the alphabet with crypto/rand (bytes past the largest
// multiple of the alphabet's size are dropped, so there is no modulo bias).
func (f *secretFormat) generate() (string, error) {
	n := len(f.chars)
	limit := 256 - 256%n
	out := make([]byte, 0, len(f.prefix)+f.length)
	out = append(out, f.prefix...)
	buf := make([]byte, f.length+f.length/2)
	// Each byte is kept with probability limit/256 ≥ 3/4 (alphabets of 16 to
	// 64 characters): 64 rounds not filling the secret do not happen.
	for range 64 {
		if _, err := rand.Read(buf); err != nil {
			return "", fmt.Errorf("profile: generate a secret: %w", err)
		}
		for _, b := range buf {
			if int(b) >= limit {
				continue
			}
			out = append(out, f.chars[int(b)%n])
			if len(out) == cap(out) {
				return string(out), nil
			}
		}
	}
	return "", fmt.Errorf("profile: generate a secret: random source too biased")
}

// validate checks a given secret against a strict format.
func (f *secretFormat) validate(secret string) error {
	rest, ok := strings.CutPrefix(secret, f.prefix)
	valid := ok && len(rest) == f.length
	for i := 0; valid && i < len(rest); i++ {
		valid = strings.IndexByte(f.chars, rest[i]) >= 0
	}
	if !valid {
		return hookline.Invalid("secret", "%s (or leave it out to have one generated)", f.String())
	}
	return nil
}

// String describes the format for messages: must be "whsec_" followed by 32
// letters and digits (A-Z, a-z, 0-9).
func (f *secretFormat) String() string {
	if f.prefix == "" {
		return fmt.Sprintf("must be %d %s", f.length, f.describe)
	}
	return fmt.Sprintf("must be %q followed by %d %s", f.prefix, f.length, f.describe)
}
