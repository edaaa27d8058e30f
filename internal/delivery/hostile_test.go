package delivery

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

// newRawReceiver starts a loopback TCP endpoint that reads each request and
// answers it with response, byte for byte: what no well-behaved HTTP server
// would send. It returns the endpoint's URL.
func newRawReceiver(t *testing.T, response []byte) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				req, err := http.ReadRequest(bufio.NewReader(c))
				if err != nil {
					return
				}
				io.Copy(io.Discard, req.Body)
				c.Write(response) // the client may hang up before the end: that is the point
			}()
		}
	}()
	return "http://" + ln.Addr().String() + "/hook"
}

// hostileResponses are raw answers that try to make Hookline store or repeat
// more than its limits allow.
func hostileResponses() []struct {
	name     string
	response []byte
	check    func(t *testing.T, a hookline.Attempt)
} {
	var bigHeaders bytes.Buffer
	bigHeaders.WriteString("HTTP/1.1 500 Internal Server Error\r\n")
	for i := range 4 {
		fmt.Fprintf(&bigHeaders, "X-Big-%d: %s\r\n", i, strings.Repeat("a", 1<<20))
	}
	bigHeaders.WriteString("Content-Length: 0\r\n\r\n")

	var garbage bytes.Buffer
	garbage.WriteString("HTTP/1.1 ")
	for garbage.Len() < 3<<20 {
		garbage.WriteString("\x00\xff-junk-é-\xc3(") // no space: the whole line is quoted in the error
	}
	garbage.WriteString("\r\n\r\n")

	// Under maxResponseHeaderBytes, the client reads it: the error that quotes
	// it is what is capped.
	var shortGarbage bytes.Buffer
	shortGarbage.WriteString("HTTP/1.1\xff")
	for shortGarbage.Len() < 60<<10 {
		shortGarbage.WriteString("\x00\xff-junk-é-\xc3(")
	}
	shortGarbage.WriteString("\r\n\r\n")

	var many bytes.Buffer
	many.WriteString("HTTP/1.1 500 Internal Server Error\r\n")
	fmt.Fprintf(&many, "A-Long-Value: %s\r\n", strings.Repeat("v", 20_000))
	fmt.Fprintf(&many, "A-%s: x\r\n", strings.Repeat("n", 300))
	for i := range 300 {
		fmt.Fprintf(&many, "X-Hdr-%03d: %s\r\n", i, strings.Repeat("h", 100))
	}
	many.WriteString("Content-Length: 0\r\n\r\n")

	body := strings.Repeat("\xffa", 2000) + "\x00"
	var invalid bytes.Buffer
	invalid.WriteString("HTTP/1.1 500 \xff\xfe\r\n")
	invalid.WriteString("X-Bad: \xff\xfe\xc3(\xe2\x82\r\n")
	fmt.Fprintf(&invalid, "X-Bad-Long: %s\r\n", strings.Repeat("\xff", 600))
	fmt.Fprintf(&invalid, "Content-Length: %d\r\n\r\n%s", len(body), body)

	return []struct {
		name     string
		response []byte
		check    func(t *testing.T, a hookline.Attempt)
	}{
		{"megabytes of headers", bigHeaders.Bytes(), func(t *testing.T, a hookline.Attempt) {
			if a.StatusCode != 0 || a.Error == "" {
				t.Errorf("attempt: got status %d, error %q; want 0 and an error (headers over the limit)", a.StatusCode, a.Error)
			}
		}},
		{"megabytes of status line", garbage.Bytes(), func(t *testing.T, a hookline.Attempt) {
			if a.StatusCode != 0 || a.Error == "" {
				t.Errorf("attempt: got status %d, error %q; want 0 and an error", a.StatusCode, a.Error)
			}
		}},
		{"60 KB of status line", shortGarbage.Bytes(), func(t *testing.T, a hookline.Attempt) {
			if a.StatusCode != 0 || !strings.HasSuffix(a.Error, "…") {
				t.Errorf("attempt: got status %d, error %q; want 0 and an error cut short", a.StatusCode, a.Error)
			}
		}},
		{"hundreds of headers, long names and values", many.Bytes(), func(t *testing.T, a hookline.Attempt) {
			v := a.ResponseHeaders["A-Long-Value"]
			if !strings.HasPrefix(v, "vvvv") || !strings.HasSuffix(v, "…") {
				t.Errorf("A-Long-Value: got %d bytes ending %q, want it kept, cut and marked with …", len(v), v[max(len(v)-8, 0):])
			}
			if n := len(a.ResponseHeaders); n != maxLoggedHeaders {
				t.Errorf("response headers kept: got %d, want %d", n, maxLoggedHeaders)
			}
		}},
		{"invalid UTF-8 in headers and body", invalid.Bytes(), func(t *testing.T, a hookline.Attempt) {
			if a.StatusCode != 500 || a.ResponseHeaders["X-Bad"] == "" || a.ResponseBody == "" {
				t.Errorf("attempt: got status %d, X-Bad %q, body %q; want 500 with both kept", a.StatusCode, a.ResponseHeaders["X-Bad"], a.ResponseBody)
			}
		}},
	}
}

// checkHeaderCaps fails t unless a logged header map keeps within every cap.
func checkHeaderCaps(t *testing.T, what string, m map[string]string) {
	t.Helper()
	if len(m) > maxLoggedHeaders {
		t.Errorf("%s: got %d headers, want at most %d", what, len(m), maxLoggedHeaders)
	}
	total := 0
	for k, v := range m {
		total += len(k) + len(v)
		if len(k) > maxLoggedHeaderName || !utf8.ValidString(k) {
			t.Errorf("%s: got a name of %d bytes (valid UTF-8: %v), want at most %d, valid", what, len(k), utf8.ValidString(k), maxLoggedHeaderName)
		}
		if len(v) > maxLoggedHeaderValue || !utf8.ValidString(v) {
			t.Errorf("%s %.40q: got a value of %d bytes (valid UTF-8: %v), want at most %d, valid", what, k, len(v), utf8.ValidString(v), maxLoggedHeaderValue)
		}
	}
	if total > maxLoggedHeaderBytes {
		t.Errorf("%s: got %d bytes in all, want at most %d", what, total, maxLoggedHeaderBytes)
	}
}

// checkErrorCap fails t unless an error text keeps within its cap.
func checkErrorCap(t *testing.T, what, s string) {
	t.Helper()
	if len(s) > maxErrorBytes || !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
		t.Errorf("%s: got %d bytes (valid UTF-8: %v), want at most %d, valid, without NUL", what, len(s), utf8.ValidString(s), maxErrorBytes)
	}
}

// checkAttemptCaps fails t unless everything a receiver could put into an
// attempt keeps within its cap; bodyLimit is the sender's.
func checkAttemptCaps(t *testing.T, a hookline.Attempt, bodyLimit int) {
	t.Helper()
	checkHeaderCaps(t, "request headers", a.RequestHeaders)
	checkHeaderCaps(t, "response headers", a.ResponseHeaders)
	checkErrorCap(t, "error", a.Error)
	if len(a.ResponseBody) > bodyLimit || !utf8.ValidString(a.ResponseBody) {
		t.Errorf("response body: got %d bytes (valid UTF-8: %v), want at most %d, valid", len(a.ResponseBody), utf8.ValidString(a.ResponseBody), bodyLimit)
	}
}

// A receiver that answers with megabytes of headers or status line, hundreds of
// headers or invalid UTF-8 gets no more than the caps stored, in the attempts
// and in the delivery.failed event, and the engine goes on delivering.
func TestHostileReceiverIsCapped(t *testing.T) {
	onEachDriver(t, func(t *testing.T, setup setupFunc) {
		for _, tt := range hostileResponses() {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				f := setup(t)
				const bodyLimit = 1024
				e := f.start(t, func(o *Options) { o.Sender = NewSender(SenderOptions{AllowPrivate: true, BodyLimit: bodyLimit}) })
				wh := f.webhook(t, newRawReceiver(t, tt.response))
				good := newReceiver(t)
				f.webhook(t, good.URL, func(w *hookline.Webhook) { w.Tenant = "beta" })

				_, d := publishOne(t, e, "a.b", `{}`)
				dd := f.waitDelivery(t, d.ID, hookline.DeliveryFailed)
				checkErrorCap(t, "delivery's last error", dd.LastError)
				as := f.attempts(t, d.ID)
				if len(as) != 3 {
					t.Fatalf("got %d attempts, want 3", len(as))
				}
				for _, a := range as {
					checkAttemptCaps(t, a, bodyLimit)
					tt.check(t, a)
					// The same headers are kept each time.
					if got, want := slices.Sorted(maps.Keys(a.ResponseHeaders)), slices.Sorted(maps.Keys(as[0].ResponseHeaders)); !slices.Equal(got, want) {
						t.Errorf("attempt %d kept headers %.200q, attempt 1 %.200q; want the same", a.Number, got, want)
					}
				}

				data, raw := f.firstFailedEvent(t)
				checkErrorCap(t, "delivery.failed last_error", data.LastError)
				if n := len(raw); n > 2*maxErrorBytes {
					t.Errorf("delivery.failed data: got %d bytes, want at most %d", n, 2*maxErrorBytes)
				}

				// A test send returns what it stored, within the caps too.
				a, err := e.Test(context.Background(), wh, TestEvent{})
				if err != nil {
					t.Fatalf("test send: %v", err)
				}
				checkAttemptCaps(t, *a, bodyLimit)
				tt.check(t, *a)
				logs, err := f.store.AttemptList(context.Background(), store.AttemptListParams{WebhookID: wh.ID})
				if err != nil {
					t.Fatal(err)
				}
				for _, a := range logs {
					checkAttemptCaps(t, a, bodyLimit)
				}

				// The engine keeps working.
				res := publish(t, e, PublishParams{Tenant: "beta", Type: "a.b", Data: json.RawMessage(`{}`)})
				f.waitDelivery(t, res[0].Deliveries[0].ID, hookline.DeliverySucceeded)
			})
		}
	})
}
