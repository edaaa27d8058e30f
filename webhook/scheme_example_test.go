package webhook_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"

	"github.com/hookline/hookline/webhook"
)

// A Scheme is a signature format written as data. This one is "sha256=" and the
// hex HMAC-SHA256 of the raw body, keyed with the secret string as is — what
// many products send in a header of their own.
func ExampleScheme_Sign() {
	s := &webhook.Scheme{Header: "X-Webhook-Signature", Prefix: "sha256="}
	sig, err := s.Sign([]string{"my secret"}, "", time.Now(), []byte(`{"event":"import.completed"}`))
	if err != nil {
		panic(err)
	}
	fmt.Println(s.Header+":", sig)
	// Output: X-Webhook-Signature: sha256=96387e8f59558ace88e908600e12b10393eefc1094d182eb4df87a6d601ac5b8
}

// A receiver guards its handler with Middleware: requests with a bad or missing
// signature, or a timestamp more than five minutes off, never reach it.
func ExampleScheme_Middleware() {
	s := &webhook.Scheme{
		Header:          "X-FormVox-Signature",
		Payload:         "{timestamp}.{body}", // the signed bytes: "1769509800.{...}"
		Prefix:          "v1=",
		TimestampHeader: "X-FormVox-Timestamp",
		Now:             func() time.Time { return time.Unix(1769509800, 0) }, // time.Now when nil
	}
	secrets := []string{"whsec_your_secret_here"} // raw key: the whole text is the HMAC key
	handler := s.Middleware(secrets, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body) // the verified bytes
		fmt.Printf("handled %s\n", body)
	}))

	send := func(body string, sent time.Time) {
		sig, _ := s.Sign(secrets, "", sent, []byte(body))
		req := httptest.NewRequest(http.MethodPost, "/webhook", strings.NewReader(body))
		req.Header.Set("X-FormVox-Signature", sig)
		req.Header.Set("X-FormVox-Timestamp", strconv.FormatInt(sent.Unix(), 10))
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		fmt.Println(strings.TrimSpace(fmt.Sprint(rec.Code, " ", rec.Body.String())))
	}
	now := s.Now()
	send(`{"event":"response.created"}`, now)
	send(`{"event":"response.created"}`, now.Add(-time.Hour))
	// Output:
	// handled {"event":"response.created"}
	// 200
	// 401 webhook: timestamp outside the tolerance: X-FormVox-Timestamp 1769506200 is 1h0m0s old, tolerance 5m0s
}

// While a secret rotates, the sender signs with both, newest first; a receiver
// holding either accepts the request.
func ExampleStandardScheme() {
	s := webhook.StandardScheme()
	oldSecret, newSecret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_bXlzZWNyZXRrZXkxMjM0NQ=="
	sent := time.Unix(1614265330, 0)
	body := []byte(`{"test": 2432232314}`)
	sig, _ := s.Sign([]string{newSecret, oldSecret}, "msg_p5jXN8AQM9LWM0D4loKWxJek", sent, body)
	fmt.Println(sig)

	h := http.Header{}
	h.Set("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek")
	h.Set("webhook-timestamp", "1614265330")
	h.Set("webhook-signature", sig)
	s.Now = func() time.Time { return sent.Add(time.Minute) }
	fmt.Println(s.Verify([]string{oldSecret}, body, h))
	fmt.Println(errors.Is(s.Verify([]string{"whsec_c29tZW9uZSBlbHNlJ3Mga2V5"}, body, h), webhook.ErrNoMatch))
	// Output:
	// v1,c336zgrq4S+snAjAUi5f1K8216AZKxCyF2u/PXdq894= v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
	// <nil>
	// true
}

// With the asymmetric scheme the sender keeps the whsk_ signing key and gives
// receivers its whpk_ public key, which can verify but not sign.
func ExampleStandardAsymmetricScheme() {
	signingKey := "whsk_QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVowMTIzNDU="
	publicKey, err := webhook.PublicKey(signingKey)
	if err != nil {
		panic(err)
	}
	fmt.Println(publicKey)

	s := webhook.StandardAsymmetricScheme()
	sent := time.Unix(0, 0)
	sig, _ := s.Sign([]string{signingKey}, "i", sent, []byte("Hello, world!"))
	fmt.Println(sig)

	h := http.Header{}
	h.Set("webhook-id", "i")
	h.Set("webhook-timestamp", "0")
	h.Set("webhook-signature", "v1,IywpE5NXy+JdAScgR7j5Pt59GjmazD7iJuVsQoRZFyw= "+sig) // v1 entries are skipped
	s.Now = func() time.Time { return sent }
	fmt.Println(s.Verify([]string{publicKey}, []byte("Hello, world!"), h))
	// Output:
	// whpk_wuzPrKxPfWpJSsXgyg/MEoMGvjs5SjDO4ad6X4ZYqqg=
	// v1a,CV1O+PvrwXM42OMUX+tmm6bA3cS0tgLp0qo3YKuu0MGmBrsUhA0MHXF11HsEUJtPfTKs80WE7WUKVt9TueLDCQ==
	// <nil>
}

// Validate names the field at fault.
func ExampleScheme_Validate() {
	s := &webhook.Scheme{Header: "X-Signature", Payload: "{timestamp}.{data}"}
	fmt.Println(s.Validate())
	// Output: webhook: invalid scheme: payload "{timestamp}.{data}": unknown placeholder {data} (want {body}, {timestamp}, {send.unix}, {id} or {event.id})
}
