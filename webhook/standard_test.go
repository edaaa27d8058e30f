package webhook_test

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/hookline/hookline/webhook"
)

// The test vector of the Standard Webhooks reference libraries.
const (
	vectorSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vectorID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vectorUnix   = 1614265330
	vectorBody   = `{"test": 2432232314}`
	vectorSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func newStandard(t *testing.T, secret string) *webhook.Standard {
	t.Helper()
	s, err := webhook.NewStandard(secret)
	if err != nil {
		t.Fatalf("NewStandard(%q): %v", secret, err)
	}
	return s
}

func headers(id string, ts time.Time, sig string) http.Header {
	h := http.Header{}
	h.Set(webhook.HeaderID, id)
	h.Set(webhook.HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(webhook.HeaderSignature, sig)
	return h
}

func TestSignKnownVector(t *testing.T) {
	t.Parallel()
	s := newStandard(t, vectorSecret)
	ts := time.Unix(vectorUnix, 0)
	if got := s.Sign(vectorID, ts, []byte(vectorBody)); got != vectorSig {
		t.Errorf("Sign: got %s, want %s", got, vectorSig)
	}
	s.Now = func() time.Time { return ts.Add(time.Minute) }
	if err := s.Verify([]byte(vectorBody), headers(vectorID, ts, vectorSig)); err != nil {
		t.Errorf("Verify of the reference vector: %v", err)
	}
}

func TestSignVerifiedByReferenceLibrary(t *testing.T) {
	t.Parallel()
	secret := webhook.NewSecret()
	s := newStandard(t, secret)
	ref, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{`{"id":"evt_1","data":{"é":"/\u00e9"}}`, ``, `[1,2,3]`} {
		now := time.Now()
		h := headers("evt_01abc", now, s.Sign("evt_01abc", now, []byte(body)))
		if err := ref.Verify([]byte(body), h); err != nil {
			t.Errorf("reference Verify of our signature over %q: %v", body, err)
		}
		if err := ref.Verify([]byte(body+" "), h); !errors.Is(err, standardwebhooks.ErrNoMatchingSignature) {
			t.Errorf("reference Verify of a tampered body: got %v, want ErrNoMatchingSignature", err)
		}
	}
}

func TestVerifyAcceptsReferenceSignature(t *testing.T) {
	t.Parallel()
	secret := webhook.NewSecret()
	ref, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"event":"form.submitted","data":{"a":1}}`)
	now := time.Now()
	sig, err := ref.Sign("msg_1", now, body)
	if err != nil {
		t.Fatal(err)
	}
	if got := newStandard(t, secret).Sign("msg_1", now, body); got != sig {
		t.Errorf("Sign: got %s, reference library signs %s", got, sig)
	}
	if err := newStandard(t, secret).Verify(body, headers("msg_1", now, sig)); err != nil {
		t.Errorf("Verify of the reference library's signature: %v", err)
	}
}

func TestVerifyRotation(t *testing.T) {
	t.Parallel()
	oldSecret, newSecret := webhook.NewSecret(), webhook.NewSecret()
	oldS, newS := newStandard(t, oldSecret), newStandard(t, newSecret)
	body := []byte(`{"a":1}`)
	now := time.Now()
	// While a secret rotates, both sign, space-separated in one header.
	both := oldS.Sign("msg_1", now, body) + " " + newS.Sign("msg_1", now, body)
	h := headers("msg_1", now, both)

	for name, secret := range map[string]string{"old": oldSecret, "new": newSecret} {
		if err := newStandard(t, secret).Verify(body, h); err != nil {
			t.Errorf("Verify with the %s secret: %v", name, err)
		}
		ref, err := standardwebhooks.NewWebhook(secret)
		if err != nil {
			t.Fatal(err)
		}
		if err := ref.Verify(body, h); err != nil {
			t.Errorf("reference Verify with the %s secret: %v", name, err)
		}
	}
	if err := newStandard(t, webhook.NewSecret()).Verify(body, h); !errors.Is(err, webhook.ErrNoMatch) {
		t.Errorf("Verify with a third secret: got %v, want ErrNoMatch", err)
	}

	// Unknown versions and malformed entries are skipped, not fatal.
	good := newS.Sign("msg_1", now, body)
	mixed := "v2,AAAA v1a," + strings.TrimPrefix(good, "v1,") + " garbage v1,!!! " + good
	if err := newS.Verify(body, headers("msg_1", now, mixed)); err != nil {
		t.Errorf("Verify of %q: %v", mixed, err)
	}
	v2only := "v2," + strings.TrimPrefix(good, "v1,")
	if err := newS.Verify(body, headers("msg_1", now, v2only)); !errors.Is(err, webhook.ErrNoMatch) {
		t.Errorf("Verify of a v2-only header: got %v, want ErrNoMatch", err)
	}
}

func TestVerifyTimestampTolerance(t *testing.T) {
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
		{"4m59s old", now.Add(-4*time.Minute - 59*time.Second), 0, nil},
		{"exactly 5m old", now.Add(-5 * time.Minute), 0, nil},
		{"5m01s old", now.Add(-5*time.Minute - time.Second), 0, webhook.ErrTimestampTooOld},
		{"a day old", now.Add(-24 * time.Hour), 0, webhook.ErrTimestampTooOld},
		{"4m in the future", now.Add(4 * time.Minute), 0, nil},
		{"5m01s in the future", now.Add(5*time.Minute + time.Second), 0, webhook.ErrTimestampTooOld},
		{"11s old, 10s tolerance", now.Add(-11 * time.Second), 10 * time.Second, webhook.ErrTimestampTooOld},
		{"9s old, 10s tolerance", now.Add(-9 * time.Second), 10 * time.Second, nil},
		{"1h old, 2h tolerance", now.Add(-time.Hour), 2 * time.Hour, nil},
	}
	secret := webhook.NewSecret()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newStandard(t, secret)
			s.Now = func() time.Time { return now }
			s.Tolerance = tt.tolerance
			err := s.Verify(body, headers("msg_1", tt.sent, s.Sign("msg_1", tt.sent, body)))
			if !errors.Is(err, tt.want) {
				t.Errorf("Verify: got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerifyRejects(t *testing.T) {
	t.Parallel()
	secret := webhook.NewSecret()
	s := newStandard(t, secret)
	body := []byte(`{"a":1}`)
	now := time.Now()
	sig := s.Sign("msg_1", now, body)
	otherSig := newStandard(t, webhook.NewSecret()).Sign("msg_1", now, body)

	tests := []struct {
		name   string
		body   string
		header func(h http.Header)
		want   error
	}{
		{"tampered body", `{"a":2}`, nil, webhook.ErrNoMatch},
		{"body with a space added", `{"a": 1}`, nil, webhook.ErrNoMatch},
		{"other id", `{"a":1}`, func(h http.Header) { h.Set(webhook.HeaderID, "msg_2") }, webhook.ErrNoMatch},
		{"other timestamp", `{"a":1}`, func(h http.Header) {
			h.Set(webhook.HeaderTimestamp, strconv.FormatInt(now.Unix()-1, 10))
		}, webhook.ErrNoMatch},
		{"signature of another secret", `{"a":1}`, func(h http.Header) {
			h.Set(webhook.HeaderSignature, otherSig)
		}, webhook.ErrNoMatch},
		{"signature without version", `{"a":1}`, func(h http.Header) {
			h.Set(webhook.HeaderSignature, strings.TrimPrefix(sig, "v1,"))
		}, webhook.ErrNoMatch},
		{"truncated signature", `{"a":1}`, func(h http.Header) { h.Set(webhook.HeaderSignature, sig[:len(sig)-4]) }, webhook.ErrNoMatch},
		{"signature not base64", `{"a":1}`, func(h http.Header) { h.Set(webhook.HeaderSignature, "v1,%%%") }, webhook.ErrNoMatch},
		{"missing id", `{"a":1}`, func(h http.Header) { h.Del(webhook.HeaderID) }, webhook.ErrMissingHeaders},
		{"missing timestamp", `{"a":1}`, func(h http.Header) { h.Del(webhook.HeaderTimestamp) }, webhook.ErrMissingHeaders},
		{"missing signature", `{"a":1}`, func(h http.Header) { h.Del(webhook.HeaderSignature) }, webhook.ErrMissingHeaders},
		{"timestamp not a number", `{"a":1}`, func(h http.Header) { h.Set(webhook.HeaderTimestamp, "yesterday") }, webhook.ErrInvalidTimestamp},
		{"timestamp in milliseconds", `{"a":1}`, func(h http.Header) {
			h.Set(webhook.HeaderTimestamp, strconv.FormatInt(now.UnixMilli(), 10))
		}, webhook.ErrTimestampTooOld},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := headers("msg_1", now, sig)
			if tt.header != nil {
				tt.header(h)
			}
			if err := s.Verify([]byte(tt.body), h); !errors.Is(err, tt.want) {
				t.Errorf("Verify: got %v, want %v", err, tt.want)
			}
		})
	}
	if err := s.Verify(body, headers("msg_1", now, sig)); err != nil {
		t.Errorf("Verify of the untouched request: %v", err)
	}
}

func TestSecrets(t *testing.T) {
	t.Parallel()
	a, b := webhook.NewSecret(), webhook.NewSecret()
	if !strings.HasPrefix(a, webhook.SecretPrefix) || a == b {
		t.Errorf("NewSecret: got %q and %q, want two different whsec_ secrets", a, b)
	}
	key, err := webhook.DecodeSecret(a)
	if err != nil || len(key) != 24 {
		t.Errorf("DecodeSecret(NewSecret()): got %d bytes, %v; want 24, nil", len(key), err)
	}

	raw := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123"))
	if _, err := webhook.NewStandard(raw); err != nil {
		t.Errorf("secret without the whsec_ prefix: %v", err)
	}
	bad := []struct{ name, secret string }{
		{"wrong prefix", "whsec-" + raw},
		{"other vendor's prefix", "sk_live_" + raw},
		{"not base64", "whsec_not base64!"},
		{"empty", ""},
		{"prefix only", "whsec_"},
		{"key too short", "whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 8))},
		{"key too long", "whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 65))},
	}
	for _, tt := range bad {
		if s, err := webhook.NewStandard(tt.secret); err == nil {
			t.Errorf("NewStandard(%s %q): got %v, want an error", tt.name, tt.secret, s)
		}
	}
}
