package webhook

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// Sign returns the value of the signature header (s.Header) for one message:
// the payload template filled with id, ts (as unix seconds) and body, signed
// with each secret and written Prefix + encoded signature.
//
// Secrets are the newest first. With a Separator every secret signs and the
// signatures are joined by it, so receivers holding either the old or the new
// secret accept the request during a rotation; without one only secrets[0]
// signs. For hmac-sha256 a secret is read as Key says ("whsec": the "whsec_"
// prefix is optional, as in DecodeSecret); for ed25519 it is a "whsk_" signing
// key. Errors wrap ErrInvalidScheme or ErrInvalidKey.
func (s *Scheme) Sign(secrets []string, id string, ts time.Time, body []byte) (string, error) {
	c, err := s.compile()
	if err != nil {
		return "", err
	}
	if len(secrets) == 0 {
		return "", fmt.Errorf("%w: no secret to sign with", ErrInvalidKey)
	}
	if s.Separator == "" {
		secrets = secrets[:1]
	}
	var out strings.Builder
	var msg []byte // the ed25519 message, built once
	for i, secret := range secrets {
		var sig []byte
		if c.ed25519 {
			priv, err := schemeSigningKey(secret)
			if err != nil {
				return "", err
			}
			if msg == nil {
				msg = c.message(id, ts.Unix(), body)
			}
			sig = ed25519.Sign(priv, msg)
		} else {
			key, err := c.hmacKey(secret)
			if err != nil {
				return "", err
			}
			sig = c.mac(key, id, ts.Unix(), body)
		}
		if i > 0 {
			out.WriteString(s.Separator)
		}
		out.WriteString(s.Prefix)
		if c.base64 {
			out.WriteString(base64.StdEncoding.EncodeToString(sig))
		} else {
			out.WriteString(hex.EncodeToString(sig))
		}
	}
	return out.String(), nil
}

// hmacKey turns a secret into an HMAC key as Scheme.Key says.
func (c *schemeCompiled) hmacKey(secret string) ([]byte, error) {
	if c.whsec {
		key, err := DecodeSecret(secret)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidKey, err)
		}
		return key, nil
	}
	if secret == "" {
		return nil, fmt.Errorf("%w: empty secret", ErrInvalidKey)
	}
	return []byte(secret), nil
}

// message returns the payload bytes, for ed25519, which signs a whole message.
func (c *schemeCompiled) message(id string, unix int64, body []byte) []byte {
	b := bytes.NewBuffer(make([]byte, 0, len(body)+len(id)+64))
	c.payload.writeTo(b, id, unix, body)
	return b.Bytes()
}

// mac is the HMAC-SHA256 of the payload, computed without copying the body.
func (c *schemeCompiled) mac(key []byte, id string, unix int64, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	c.payload.writeTo(m, id, unix, body)
	return m.Sum(nil)
}
