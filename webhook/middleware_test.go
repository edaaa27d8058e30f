package webhook_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline/webhook"
)

// receiver is a loopback server guarded by Middleware that records what its
// handler saw.
type receiver struct {
	url    string
	scheme *webhook.Scheme
	mu     sync.Mutex
	bodies []string
}

func (rc *receiver) received() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]string(nil), rc.bodies...)
}

func setupReceiver(t *testing.T, now time.Time, secrets []string) *receiver {
	t.Helper()
	rc := &receiver{scheme: &webhook.Scheme{
		Header: "X-FormVox-Signature", Payload: "{timestamp}.{body}", Prefix: "v1=",
		TimestampHeader: "X-FormVox-Timestamp", MaxBodyBytes: 1024,
		Now: func() time.Time { return now },
	}}
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("next: reading the verified body: %v", err)
		}
		if r.ContentLength != int64(len(b)) {
			t.Errorf("next: ContentLength %d, body %d bytes", r.ContentLength, len(b))
		}
		rc.mu.Lock()
		rc.bodies = append(rc.bodies, string(b))
		rc.mu.Unlock()
		io.WriteString(w, "OK")
	})
	srv := httptest.NewServer(rc.scheme.Middleware(secrets, next))
	t.Cleanup(srv.Close)
	rc.url = srv.URL
	return rc
}

func TestMiddleware(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 27, 10, 30, 0, 0, time.UTC)
	const secret = "whsec_formvox"
	body := `{"event":"response.created","data":{"id":"abc"}}`
	big := `{"pad":"` + strings.Repeat("x", 1024-10) + `"}` // exactly the 1024-byte limit

	tests := []struct {
		name     string
		body     string
		sent     time.Time
		sign     string // body to sign; "" = body
		secret   string
		noSig    bool
		want     int
		wantText string // in the response
	}{
		{name: "good", body: body, sent: now, want: http.StatusOK, wantText: "OK"},
		{name: "body at the limit", body: big, sent: now, want: http.StatusOK},
		{name: "other secret", body: body, sent: now, secret: "whsec_other", want: http.StatusUnauthorized, wantText: "no signature matches"},
		{name: "tampered body", body: body, sign: body + " ", sent: now, want: http.StatusUnauthorized, wantText: "no signature matches"},
		{name: "stale", body: body, sent: now.Add(-6 * time.Minute), want: http.StatusUnauthorized, wantText: "tolerance"},
		{name: "from the future", body: body, sent: now.Add(6 * time.Minute), want: http.StatusUnauthorized, wantText: "tolerance"},
		{name: "no signature", body: body, sent: now, noSig: true, want: http.StatusUnauthorized, wantText: "X-FormVox-Signature"},
		{name: "oversized", body: big + " ", sent: now, want: http.StatusRequestEntityTooLarge, wantText: "1024"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rc := setupReceiver(t, now, []string{"whsec_old", secret})
			signed := tt.sign
			if signed == "" {
				signed = tt.body
			}
			signWith := secret
			if tt.secret != "" {
				signWith = tt.secret
			}
			req, err := http.NewRequest(http.MethodPost, rc.url, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("X-FormVox-Timestamp", strconv.FormatInt(tt.sent.Unix(), 10))
			if !tt.noSig {
				sig, err := rc.scheme.Sign([]string{signWith}, "", tt.sent, []byte(signed))
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("X-FormVox-Signature", sig)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			text, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want || !strings.Contains(string(text), tt.wantText) {
				t.Errorf("POST: got %d %q, want %d containing %q", resp.StatusCode, text, tt.want, tt.wantText)
			}
			if ct := resp.Header.Get("Content-Type"); tt.want != http.StatusOK && !strings.HasPrefix(ct, "text/plain") {
				t.Errorf("Content-Type of a rejection: got %q, want text/plain", ct)
			}
			got := rc.received()
			switch {
			case tt.want == http.StatusOK && (len(got) != 1 || got[0] != tt.body):
				t.Errorf("next received %q, want exactly the sent body", got)
			case tt.want != http.StatusOK && len(got) != 0:
				t.Errorf("next was called with %q after a rejection", got)
			}
		})
	}
}

func TestMiddlewarePanicsOnBadSetup(t *testing.T) {
	t.Parallel()
	next := http.NotFoundHandler()
	tests := []struct {
		name    string
		scheme  *webhook.Scheme
		secrets []string
	}{
		{"invalid scheme", &webhook.Scheme{}, []string{"k"}},
		{"timestamp without its header", &webhook.Scheme{Header: "X", Payload: "{timestamp}.{body}"}, []string{"k"}},
		{"id without its header", &webhook.Scheme{Header: "X", Payload: "{id}.{body}"}, []string{"k"}},
		{"no secrets", &webhook.Scheme{Header: "X"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			defer func() {
				if recover() == nil {
					t.Errorf("Middleware did not panic")
				}
			}()
			tt.scheme.Middleware(tt.secrets, next)
		})
	}
}

// Without a server in between, next still reads exactly the verified bytes
// from the replaced body.
func TestMiddlewareBodyIsVerifiedBytes(t *testing.T) {
	t.Parallel()
	s := &webhook.Scheme{Header: "X-Sig"}
	body := []byte("hello")
	sig, err := s.Sign([]string{"k"}, "", time.Now(), body)
	if err != nil {
		t.Fatal(err)
	}
	var got []byte
	h := s.Middleware([]string{"k"}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = io.ReadAll(r.Body)
	}))
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	req.Header.Set("X-Sig", sig)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || !bytes.Equal(got, body) {
		t.Errorf("got %d and body %q, want 200 and %q", rec.Code, got, body)
	}
}
