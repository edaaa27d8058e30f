package webhook_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/hookline/hookline/webhook"
)

// hmacHex is hex(HMAC-SHA256(key, msg)), what every seed page computes.
func hmacHex(key, msg string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

// The receivers' verification code of the seed pages, re-implemented line by
// line, to check that a Scheme written as data signs what they expect.

// formulrVerify is Formulr's Node.js verifyWebhook: createHmac('sha256',
// secret).update(payload).digest('hex'), timingSafeEqual with the header.
func formulrVerify(payload, signature, secret string, _ int64) bool {
	computed := hmacHex(secret, payload)
	// timingSafeEqual throws on different lengths; a thrown error rejects.
	return len(signature) == len(computed) && subtle.ConstantTimeCompare([]byte(signature), []byte(computed)) == 1
}

// formVoxVerify is FormVox's PHP verifyWebhook: reject when abs(time() -
// $timestamp) > 300, then hash_equals('v1=' . hash_hmac('sha256', $timestamp .
// '.' . $payload, $secret), $signature).
func formVoxVerify(now int64) func(payload, signature, secret string, timestamp int64) bool {
	return func(payload, signature, secret string, timestamp int64) bool {
		if d := now - timestamp; d > 300 || d < -300 {
			return false
		}
		signedPayload := strconv.FormatInt(timestamp, 10) + "." + payload
		expected := "v1=" + hmacHex(secret, signedPayload)
		return hmac.Equal([]byte(expected), []byte(signature))
	}
}

// productsManagerVerify is Products Manager's Python verify_webhook:
// 'sha256=' + hmac.new(secret.encode(), payload.encode(), sha256).hexdigest(),
// compare_digest with the header.
func productsManagerVerify(payload, signature, secret string, _ int64) bool {
	expected := "sha256=" + hmacHex(secret, payload)
	return hmac.Equal([]byte(signature), []byte(expected))
}

// urlrVerify is URLR's PHP verifySignature: hash_equals(hash_hmac('sha256',
// $body, $secretKey), $signature).
func urlrVerify(payload, signature, secret string, _ int64) bool {
	return hmac.Equal([]byte(hmacHex(secret, payload)), []byte(signature))
}

func TestSchemeSeeds(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 27, 10, 30, 0, 0, time.UTC)
	tests := []struct {
		name   string
		scheme webhook.Scheme
		secret string
		body   string
		// verify is the page's code: payload, signature header, secret, timestamp.
		verify func(payload, signature, secret string, timestamp int64) bool
		// expected is the header value the page's code computes.
		expected string
	}{
		{
			name:     "Formulr",
			scheme:   webhook.Scheme{Header: "x-formulr-signature"},
			secret:   "formulr secret ✓",
			body:     `{"event":"response.created","timestamp":"2024-12-14T10:30:00Z","data":{"campaign":{"uuid":"xxx"}}}`,
			verify:   formulrVerify,
			expected: hmacHex("formulr secret ✓", `{"event":"response.created","timestamp":"2024-12-14T10:30:00Z","data":{"campaign":{"uuid":"xxx"}}}`),
		},
		{
			name: "FormVox",
			scheme: webhook.Scheme{
				Algorithm: "hmac-sha256", Header: "X-FormVox-Signature", Payload: "{send.unix}.{body}",
				Encoding: "hex", Prefix: "v1=", Key: "raw", TimestampHeader: "X-FormVox-Timestamp",
			},
			// FormVox secrets look like Standard Webhooks ones, but the whole
			// text, prefix included, is the HMAC key.
			secret:   "whsec_abcdefghijklmnopqrstuvwxyz012345",
			body:     `{"event":"response.created","timestamp":"2026-01-27T10:30:00+00:00","form":{"title":"Survey"},"data":{"id":"abc123-def456"}}`,
			verify:   formVoxVerify(now.Unix()),
			expected: "v1=" + hmacHex("whsec_abcdefghijklmnopqrstuvwxyz012345", strconv.FormatInt(now.Unix(), 10)+`.{"event":"response.created","timestamp":"2026-01-27T10:30:00+00:00","form":{"title":"Survey"},"data":{"id":"abc123-def456"}}`),
		},
		{
			name:     "Products Manager",
			scheme:   webhook.Scheme{Header: "X-Webhook-Signature", Prefix: "sha256=", Key: "raw"},
			secret:   "votre_secret_pour_signature",
			body:     `{"event":"webhook.test","timestamp":"2025-10-05T17:00:00Z","webhook_id":"wh_abc123","data":{"message":"This is a test webhook from Products Manager"}}`,
			verify:   productsManagerVerify,
			expected: "sha256=" + hmacHex("votre_secret_pour_signature", `{"event":"webhook.test","timestamp":"2025-10-05T17:00:00Z","webhook_id":"wh_abc123","data":{"message":"This is a test webhook from Products Manager"}}`),
		},
		{
			name:     "URLR",
			scheme:   webhook.Scheme{Header: "x-signature", Payload: "{body}", Encoding: "hex"},
			secret:   "urlr-secret-key",
			body:     `{"event":"link_clicked","link":{"id":"9759d03f","url":"https:\/\/urlr.me\/yBPhx"},"timestamp":1697398126}`,
			verify:   urlrVerify,
			expected: hmacHex("urlr-secret-key", `{"event":"link_clicked","link":{"id":"9759d03f","url":"https:\/\/urlr.me\/yBPhx"},"timestamp":1697398126}`),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := tt.scheme
			s.Now = func() time.Time { return now.Add(30 * time.Second) }
			if err := s.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			sig, err := s.Sign([]string{tt.secret}, "evt_1", now, []byte(tt.body))
			if err != nil {
				t.Fatalf("Sign: %v", err)
			}
			if sig != tt.expected {
				t.Errorf("Sign: got %s, want %s", sig, tt.expected)
			}
			if !tt.verify(tt.body, sig, tt.secret, now.Unix()) {
				t.Errorf("the page's verification rejects our signature %s", sig)
			}
			if tt.verify(tt.body+" ", sig, tt.secret, now.Unix()) {
				t.Errorf("the page's verification accepts our signature of another body")
			}

			// A receiver using this package accepts what the product sent.
			h := http.Header{}
			h.Set(s.Header, tt.expected)
			if s.TimestampHeader != "" {
				h.Set(s.TimestampHeader, strconv.FormatInt(now.Unix(), 10))
			}
			if err := s.Verify([]string{tt.secret}, []byte(tt.body), h); err != nil {
				t.Errorf("Verify of the page's signature: %v", err)
			}
			if err := s.Verify([]string{tt.secret}, []byte(tt.body[1:]), h); !errors.Is(err, webhook.ErrNoMatch) {
				t.Errorf("Verify of a tampered body: got %v, want ErrNoMatch", err)
			}
			if err := s.Verify([]string{tt.secret + "x"}, []byte(tt.body), h); !errors.Is(err, webhook.ErrNoMatch) {
				t.Errorf("Verify with another secret: got %v, want ErrNoMatch", err)
			}
		})
	}
}

func TestStandardSchemeAgainstReferenceLibrary(t *testing.T) {
	t.Parallel()
	s := webhook.StandardScheme()
	if err := s.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}

	// The reference libraries' test vector.
	sig, err := s.Sign([]string{vectorSecret}, vectorID, time.Unix(vectorUnix, 0), []byte(vectorBody))
	if err != nil || sig != vectorSig {
		t.Errorf("Sign of the reference vector: got %q, %v; want %s", sig, err, vectorSig)
	}

	for _, body := range []string{`{"id":"evt_1","data":{"é":"/\u00e9"}}`, ``, `[1,2,3]`} {
		secret := webhook.NewSecret()
		ref, err := standardwebhooks.NewWebhook(secret)
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		sig, err := s.Sign([]string{secret}, "msg_1", now, []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		refSig, err := ref.Sign("msg_1", now, []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if sig != refSig {
			t.Errorf("Sign over %q: got %s, reference library signs %s", body, sig, refSig)
		}
		h := headers("msg_1", now, sig)
		if err := ref.Verify([]byte(body), h); err != nil {
			t.Errorf("reference Verify of our signature over %q: %v", body, err)
		}
		if err := ref.Verify([]byte(body+"x"), h); !errors.Is(err, standardwebhooks.ErrNoMatchingSignature) {
			t.Errorf("reference Verify of a tampered body: got %v, want ErrNoMatchingSignature", err)
		}
		if err := s.Verify([]string{secret}, []byte(body), headers("msg_1", now, refSig)); err != nil {
			t.Errorf("Verify of the reference library's signature over %q: %v", body, err)
		}
	}
}

func TestSchemeRotation(t *testing.T) {
	t.Parallel()
	oldW, newW, otherW := webhook.NewSecret(), webhook.NewSecret(), webhook.NewSecret()
	tests := []struct {
		name              string
		scheme            *webhook.Scheme
		old, newer, other string
	}{
		{"standard", webhook.StandardScheme(), oldW, newW, otherW},
		{"hex with prefix, comma", &webhook.Scheme{Header: "X-Sig", Prefix: "sha256=", Separator: ","}, "old secret", "new secret", "other secret"},
		{"timestamped, ;", &webhook.Scheme{Header: "X-Sig", Payload: "{timestamp}.{body}", Prefix: "v1=", Separator: "; ", TimestampHeader: "X-Ts"}, "old", "new", "other"},
	}
	body := []byte(`{"a":1}`)
	now := time.Now()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := tt.scheme
			both, err := s.Sign([]string{tt.newer, tt.old}, "msg_1", now, body)
			if err != nil {
				t.Fatal(err)
			}
			newOnly, _ := s.Sign([]string{tt.newer}, "msg_1", now, body)
			oldOnly, _ := s.Sign([]string{tt.old}, "msg_1", now, body)
			if want := newOnly + s.Separator + oldOnly; both != want {
				t.Errorf("Sign with two secrets: got %q, want %q", both, want)
			}
			h := headers("msg_1", now, both)
			h.Set(s.Header, both)
			h.Set("X-Ts", strconv.FormatInt(now.Unix(), 10))
			for name, secrets := range map[string][]string{
				"old":           {tt.old},
				"new":           {tt.newer},
				"other and old": {tt.other, tt.old},
			} {
				if err := s.Verify(secrets, body, h); err != nil {
					t.Errorf("Verify with the %s secret: %v", name, err)
				}
			}
			if err := s.Verify([]string{tt.other}, body, h); !errors.Is(err, webhook.ErrNoMatch) {
				t.Errorf("Verify with a third secret: got %v, want ErrNoMatch", err)
			}

			// Without a separator only the newest secret signs.
			one := *s
			one.Separator = ""
			got, err := one.Sign([]string{tt.newer, tt.old}, "msg_1", now, body)
			if err != nil || got != newOnly {
				t.Errorf("Sign without separator: got %q, %v; want %q", got, err, newOnly)
			}
		})
	}
}

func TestSchemeVerifyTolerance(t *testing.T) {
	t.Parallel()
	now := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	body := []byte(`{"a":1}`)
	tests := []struct {
		name      string
		sent      time.Time
		tolerance time.Duration
		want      error
	}{
		{"now", now, 0, nil},
		{"exactly 5m old", now.Add(-5 * time.Minute), 0, nil},
		{"5m01s old", now.Add(-5*time.Minute - time.Second), 0, webhook.ErrTimestampTooOld},
		{"a day old", now.Add(-24 * time.Hour), 0, webhook.ErrTimestampTooOld},
		{"exactly 5m in the future", now.Add(5 * time.Minute), 0, nil},
		{"5m01s in the future", now.Add(5*time.Minute + time.Second), 0, webhook.ErrTimestampTooOld},
		{"11s old, 10s tolerance", now.Add(-11 * time.Second), 10 * time.Second, webhook.ErrTimestampTooOld},
		{"11s ahead, 10s tolerance", now.Add(11 * time.Second), 10 * time.Second, webhook.ErrTimestampTooOld},
		{"1h old, 2h tolerance", now.Add(-time.Hour), 2 * time.Hour, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := &webhook.Scheme{
				Header: "X-Sig", Payload: "{timestamp}.{body}", Prefix: "v1=", TimestampHeader: "X-Ts",
				Tolerance: tt.tolerance, Now: func() time.Time { return now },
			}
			sig, err := s.Sign([]string{"k"}, "", tt.sent, body)
			if err != nil {
				t.Fatal(err)
			}
			h := http.Header{"X-Sig": {sig}, "X-Ts": {strconv.FormatInt(tt.sent.Unix(), 10)}}
			if err := s.Verify([]string{"k"}, body, h); !errors.Is(err, tt.want) {
				t.Errorf("Verify: got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestSchemeVerifyRejects(t *testing.T) {
	t.Parallel()
	now := time.Now()
	body := []byte(`{"a":1}`)
	s := webhook.StandardScheme()
	secret := webhook.NewSecret()
	sig, err := s.Sign([]string{secret}, "msg_1", now, body)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		scheme  func(s *webhook.Scheme)
		secrets []string
		header  func(h http.Header)
		want    error
		naming  string // a word the message must contain
	}{
		{name: "untouched", want: nil},
		{name: "missing signature", header: func(h http.Header) { h.Del("webhook-signature") }, want: webhook.ErrMissingHeader, naming: "webhook-signature"},
		{name: "missing id", header: func(h http.Header) { h.Del("webhook-id") }, want: webhook.ErrMissingHeader, naming: "webhook-id"},
		{name: "missing timestamp", header: func(h http.Header) { h.Del("webhook-timestamp") }, want: webhook.ErrMissingHeader, naming: "webhook-timestamp"},
		{name: "timestamp not a number", header: func(h http.Header) { h.Set("webhook-timestamp", "soon") }, want: webhook.ErrInvalidTimestamp, naming: "webhook-timestamp"},
		{name: "timestamp in milliseconds", header: func(h http.Header) {
			h.Set("webhook-timestamp", strconv.FormatInt(now.UnixMilli(), 10))
		}, want: webhook.ErrTimestampTooOld, naming: "webhook-timestamp"},
		{name: "other id", header: func(h http.Header) { h.Set("webhook-id", "msg_2") }, want: webhook.ErrNoMatch},
		{name: "prefix only", header: func(h http.Header) { h.Set("webhook-signature", "v1,") }, want: webhook.ErrNoMatch},
		{name: "unprefixed", header: func(h http.Header) { h.Set("webhook-signature", strings.TrimPrefix(sig, "v1,")) }, want: webhook.ErrNoMatch},
		{name: "other version first", header: func(h http.Header) {
			h.Set("webhook-signature", "v2,"+strings.TrimPrefix(sig, "v1,")+"  garbage v1,%%% "+sig)
		}, want: nil},
		{name: "no secrets", secrets: []string{}, want: webhook.ErrInvalidKey},
		{name: "secret not base64", secrets: []string{"whsec_!!!"}, want: webhook.ErrInvalidKey},
		{name: "no timestamp header configured", scheme: func(s *webhook.Scheme) { s.TimestampHeader = "" }, want: webhook.ErrInvalidScheme, naming: "timestamp header"},
		{name: "no id header configured", scheme: func(s *webhook.Scheme) { s.IDHeader = "" }, want: webhook.ErrInvalidScheme, naming: "id header"},
		{name: "invalid scheme", scheme: func(s *webhook.Scheme) { s.Encoding = "base32" }, want: webhook.ErrInvalidScheme, naming: "encoding"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := webhook.StandardScheme()
			if tt.scheme != nil {
				tt.scheme(s)
			}
			secrets := []string{secret}
			if tt.secrets != nil {
				secrets = tt.secrets
			}
			h := headers("msg_1", now, sig)
			if tt.header != nil {
				tt.header(h)
			}
			err := s.Verify(secrets, body, h)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify: got %v, want %v", err, tt.want)
			}
			if tt.naming != "" && !strings.Contains(err.Error(), tt.naming) {
				t.Errorf("Verify: got %q, want a message naming %s", err, tt.naming)
			}
		})
	}
}

func TestSchemeSignErrors(t *testing.T) {
	t.Parallel()
	now := time.Now()
	tests := []struct {
		name    string
		scheme  *webhook.Scheme
		secrets []string
		want    error
	}{
		{"no secrets", &webhook.Scheme{Header: "X-Sig"}, nil, webhook.ErrInvalidKey},
		{"empty raw secret", &webhook.Scheme{Header: "X-Sig"}, []string{""}, webhook.ErrInvalidKey},
		{"whsec not base64", webhook.StandardScheme(), []string{"whsec_not base64"}, webhook.ErrInvalidKey},
		{"whsec too short", webhook.StandardScheme(), []string{"whsec_AAAA"}, webhook.ErrInvalidKey},
		{"bad second secret", webhook.StandardScheme(), []string{webhook.NewSecret(), "whsec_!"}, webhook.ErrInvalidKey},
		{"ed25519 with a public key", webhook.StandardAsymmetricScheme(), []string{"whpk_" + strings.Repeat("A", 43) + "="}, webhook.ErrInvalidKey},
		{"invalid scheme", &webhook.Scheme{}, []string{"k"}, webhook.ErrInvalidScheme},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if sig, err := tt.scheme.Sign(tt.secrets, "msg_1", now, []byte("{}")); !errors.Is(err, tt.want) {
				t.Errorf("Sign: got %q, %v; want %v", sig, err, tt.want)
			}
		})
	}
}

func TestSchemeValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		scheme webhook.Scheme
		naming string // "" when valid; else a word of the message
	}{
		{"defaults", webhook.Scheme{Header: "x-signature"}, ""},
		{"standard", *webhook.StandardScheme(), ""},
		{"standard asymmetric", *webhook.StandardAsymmetricScheme(), ""},
		{"literal braces", webhook.Scheme{Header: "X", Payload: "{{{body}}}.{{x}}"}, ""},
		{"aliases", webhook.Scheme{Header: "X", Payload: "{event.id}:{send.unix}:{body}"}, ""},
		{"body twice", webhook.Scheme{Header: "X", Payload: "{body}{body}"}, ""},
		{"timestamp without header is fine to sign", webhook.Scheme{Header: "X", Payload: "{timestamp}.{body}"}, ""},
		{"space separator, base64", webhook.Scheme{Header: "X", Encoding: "base64", Separator: " "}, ""},
		{"comma separator, hex", webhook.Scheme{Header: "X", Separator: ",", Prefix: "sha256="}, ""},

		{"unknown algorithm", webhook.Scheme{Header: "X", Algorithm: "hmac-sha1"}, "algorithm"},
		{"algorithm in capitals", webhook.Scheme{Header: "X", Algorithm: "Ed25519"}, "algorithm"},
		{"no header", webhook.Scheme{}, "header"},
		{"header with a space", webhook.Scheme{Header: "X Sig"}, "header"},
		{"header with a colon", webhook.Scheme{Header: "X-Sig:"}, "header"},
		{"bad timestamp header", webhook.Scheme{Header: "X", TimestampHeader: "a b"}, "timestamp header"},
		{"bad id header", webhook.Scheme{Header: "X", IDHeader: "é"}, "id header"},
		{"unknown encoding", webhook.Scheme{Header: "X", Encoding: "base64url"}, "encoding"},
		{"unknown key mode", webhook.Scheme{Header: "X", Key: "base64"}, "key"},
		{"key mode with ed25519", webhook.Scheme{Header: "X", Algorithm: "ed25519", Key: "whsec"}, "key"},
		{"unknown placeholder", webhook.Scheme{Header: "X", Payload: "{event.type}.{body}"}, "{event.type}"},
		{"empty placeholder", webhook.Scheme{Header: "X", Payload: "{}{body}"}, "placeholder"},
		{"unclosed brace", webhook.Scheme{Header: "X", Payload: "{body}.{timestamp"}, "not closed"},
		{"lone closing brace", webhook.Scheme{Header: "X", Payload: "{body}}"}, "lone }"},
		{"no body", webhook.Scheme{Header: "X", Payload: "{id}.{timestamp}"}, "{body}"},
		{"escaped body is no body", webhook.Scheme{Header: "X", Payload: "{{body}}"}, "{body}"},
		{"prefix with a newline", webhook.Scheme{Header: "X", Prefix: "v1=\n"}, "prefix"},
		{"prefix ending in a space", webhook.Scheme{Header: "X", Prefix: "v1 "}, "prefix"},
		{"separator in the hex alphabet", webhook.Scheme{Header: "X", Separator: "a"}, "separator"},
		{"separator in the base64 alphabet", webhook.Scheme{Header: "X", Encoding: "base64", Separator: "="}, "separator"},
		{"separator in the prefix", webhook.Scheme{Header: "X", Prefix: "v1,", Separator: ","}, "separator"},
		{"separator with a tab", webhook.Scheme{Header: "X", Separator: "\t"}, "separator"},
		{"negative tolerance", webhook.Scheme{Header: "X", Tolerance: -time.Second}, "tolerance"},
		{"negative body limit", webhook.Scheme{Header: "X", MaxBodyBytes: -1}, "max body bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.scheme.Validate()
			if tt.naming == "" {
				if err != nil {
					t.Errorf("Validate: got %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, webhook.ErrInvalidScheme) {
				t.Fatalf("Validate: got %v, want ErrInvalidScheme", err)
			}
			if !strings.Contains(err.Error(), tt.naming) {
				t.Errorf("Validate: got %q, want a message naming %s", err, tt.naming)
			}
		})
	}
}

func TestSchemePayloadBraces(t *testing.T) {
	t.Parallel()
	// "{{" and "}}" sign as single braces.
	s := &webhook.Scheme{Header: "X", Payload: "{{v}}:{body}"}
	sig, err := s.Sign([]string{"k"}, "", time.Now(), []byte("B"))
	if err != nil {
		t.Fatal(err)
	}
	if want := hmacHex("k", "{v}:B"); sig != want {
		t.Errorf("Sign: got %s, want %s (HMAC of %q)", sig, want, "{v}:B")
	}
}
