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

// A receiver checks each delivery against the secret shown when the webhook was
// created, then acts on the body it has verified.
func ExampleStandard() {
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	verifier, err := webhook.NewStandard(secret)
	if err != nil {
		panic(err)
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "unreadable body", http.StatusBadRequest)
			return
		}
		if err := verifier.Verify(body, r.Header); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		fmt.Printf("verified %s: %s\n", r.Header.Get(webhook.HeaderID), body)
	})

	// What Hookline sends: the same secret signs id, timestamp and body.
	signer, _ := webhook.NewStandard(secret)
	body := `{"id":"evt_1","event":"form.submitted","timestamp":"2024-05-06T07:08:09Z","data":{"a":1}}`
	now := time.Now()
	sig := signer.Sign("evt_1", now, []byte(body))
	send := func(received string) int {
		req := httptest.NewRequest(http.MethodPost, "/hooks", strings.NewReader(received))
		req.Header.Set(webhook.HeaderID, "evt_1")
		req.Header.Set(webhook.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
		req.Header.Set(webhook.HeaderSignature, sig)
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		return rec.Code
	}
	fmt.Println(send(body))
	fmt.Println(send(strings.Replace(body, `"a":1`, `"a":2`, 1))) // tampered in transit
	// Output:
	// verified evt_1: {"id":"evt_1","event":"form.submitted","timestamp":"2024-05-06T07:08:09Z","data":{"a":1}}
	// 200
	// 401
}

// Sign gives the webhook-signature header value: "v1," and the base64 HMAC-SHA256
// of "{id}.{timestamp}.{body}".
func ExampleStandard_Sign() {
	s, err := webhook.NewStandard("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		panic(err)
	}
	fmt.Println(s.Sign("msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`)))
	// Output: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
}

// Verify rejects timestamps outside the tolerance, so a captured request cannot
// be replayed later; Now and Tolerance can be set, here to check an old request.
func ExampleStandard_Verify() {
	s, _ := webhook.NewStandard("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	body := []byte(`{"test": 2432232314}`)
	h := http.Header{}
	h.Set(webhook.HeaderID, "msg_p5jXN8AQM9LWM0D4loKWxJek")
	h.Set(webhook.HeaderTimestamp, "1614265330")
	h.Set(webhook.HeaderSignature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")

	fmt.Println(errors.Is(s.Verify(body, h), webhook.ErrTimestampTooOld))
	s.Now = func() time.Time { return time.Unix(1614265330, 0).Add(time.Minute) }
	fmt.Println(s.Verify(body, h))
	// Output:
	// true
	// <nil>
}

// NewSecret makes the secret of a new webhook.
func ExampleNewSecret() {
	secret := webhook.NewSecret()
	key, err := webhook.DecodeSecret(secret)
	fmt.Println(strings.HasPrefix(secret, "whsec_"), len(key), err)
	// Output: true 24 <nil>
}
