package webhook_test

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/webhook"
)

// FuzzSchemeRoundTrip builds a scheme from random literals, placeholder order,
// encoding, prefix and algorithm, signs a random body with random secrets, and
// checks Verify accepts it with either secret and rejects any other body.
func FuzzSchemeRoundTrip(f *testing.F) {
	f.Add("", ".", uint8(0), "v1,", "whsec_x", "msg_1", int64(1614265330), []byte(`{"a":1}`))
	f.Add("{}", "}}{{", uint8(0xff), "sha256=", "secret", "evt_01", int64(0), []byte(""))
	f.Add("a.", "", uint8(0x2a), "", "k", "", int64(-1), []byte{0, 1, 2, 0xff})
	f.Add("é", "{body}", uint8(0x93), "v1a,", "🔑", "id with spaces", int64(1<<40), []byte("x"))
	f.Fuzz(func(t *testing.T, lit1, lit2 string, flags uint8, prefix, secret, id string, unix int64, body []byte) {
		escape := strings.NewReplacer("{", "{{", "}", "}}")
		pieces := []string{"{body}", "{timestamp}", "{id}"}
		if flags&1 != 0 {
			pieces[1] = "{send.unix}"
		}
		if flags&2 != 0 {
			pieces[2] = "{event.id}"
		}
		// Rotate the placeholders and drop some; {body} always stays.
		rot := int(flags>>2) % 3
		pieces = append(pieces[rot:], pieces[:rot]...)
		var payload strings.Builder
		payload.WriteString(escape.Replace(lit1))
		for i, p := range pieces {
			if p != "{body}" && flags&(16<<i) != 0 {
				continue
			}
			payload.WriteString(p)
			if i == 0 {
				payload.WriteString(escape.Replace(lit2))
			}
		}

		s := &webhook.Scheme{
			Header:          "X-Signature",
			Payload:         payload.String(),
			TimestampHeader: "X-Timestamp",
			IDHeader:        "X-Id",
			Separator:       " ",
			// Printable, without spaces: what Validate allows with " ".
			Prefix: strings.Map(func(r rune) rune {
				if r <= ' ' || r > '~' {
					return -1
				}
				return r
			}, prefix),
			Now: func() time.Time { return time.Unix(unix, 0) },
		}
		if flags&128 != 0 {
			s.Encoding = webhook.EncodingBase64
		}
		// Two secrets, as during a rotation; for ed25519 two keys derived from
		// the random secret, signing with whsk_ and verifying with whpk_.
		signWith := []string{secret + "1", secret + "2"}
		verifyWith := signWith
		if flags&64 != 0 {
			s.Algorithm = webhook.AlgorithmEd25519
			signWith, verifyWith = make([]string, 2), make([]string, 2)
			for i := range signWith {
				seed := sha256.Sum256([]byte(secret + strconv.Itoa(i)))
				pub := ed25519.NewKeyFromSeed(seed[:]).Public().(ed25519.PublicKey)
				signWith[i] = webhook.SigningKeyPrefix + base64.StdEncoding.EncodeToString(seed[:])
				verifyWith[i] = webhook.PublicKeyPrefix + base64.StdEncoding.EncodeToString(pub)
			}
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("Validate of %+v: %v", s, err)
		}
		if id == "" || strings.ContainsAny(id, "\r\n") {
			id = "msg"
		}

		ts := time.Unix(unix, 0)
		sig, err := s.Sign(signWith, id, ts, body)
		if err != nil {
			t.Fatalf("Sign: %v", err)
		}
		h := http.Header{}
		h.Set("X-Signature", sig)
		h.Set("X-Timestamp", strconv.FormatInt(unix, 10))
		h.Set("X-Id", id)
		for _, v := range verifyWith {
			if err := s.Verify([]string{v}, body, h); err != nil {
				t.Fatalf("Verify of %q (payload %q) with one secret: %v", sig, s.Payload, err)
			}
		}
		other := append(append([]byte(nil), body...), 'x')
		if err := s.Verify(verifyWith, other, h); !errors.Is(err, webhook.ErrNoMatch) {
			t.Fatalf("Verify of another body: got %v, want ErrNoMatch", err)
		}
	})
}
