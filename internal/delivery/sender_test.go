package delivery

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"
)

func newTestSender(limit int) *Sender {
	return NewSender(SenderOptions{AllowPrivate: true, BodyLimit: limit})
}

func TestSendRequestAndResponse(t *testing.T) {
	t.Parallel()
	type seen struct{ method, body, sig string }
	got := make(chan seen, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.Method, string(b), r.Header.Get("webhook-signature")}
		w.Header().Set("X-Request-Id", "req_1")
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"ok":true}`)
	}))
	t.Cleanup(srv.Close)

	h := http.Header{"Content-Type": {"application/json"}, "webhook-signature": {"v1,abc"}}
	resp := newTestSender(1024).Send(context.Background(), srv.URL, h, []byte(`{"a":1}`), 2*time.Second)
	if resp.Err != nil {
		t.Fatal(resp.Err)
	}
	if r := <-got; r.method != http.MethodPost || r.body != `{"a":1}` || r.sig != "v1,abc" {
		t.Errorf("request: got %s %q signature %q, want POST {\"a\":1} v1,abc", r.method, r.body, r.sig)
	}
	if resp.StatusCode != 202 || resp.Body != `{"ok":true}` || resp.Header.Get("X-Request-Id") != "req_1" {
		t.Errorf("response: got %d %q %v", resp.StatusCode, resp.Body, resp.Header)
	}
	if resp.Duration <= 0 {
		t.Errorf("duration: got %s, want > 0", resp.Duration)
	}
}

func TestSendBodyLimit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		limit int
		body  string
		want  string
	}{
		{"cut at the limit", 8, "0123456789abcdef", "01234567"},
		{"shorter than the limit", 64, "short", "short"},
		{"exactly the limit", 5, "exact", "exact"},
		{"large body", 10, strings.Repeat("x", 1<<20), "xxxxxxxxxx"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, tt.body)
			}))
			t.Cleanup(srv.Close)
			resp := newTestSender(tt.limit).Send(context.Background(), srv.URL, http.Header{}, nil, 2*time.Second)
			if resp.Err != nil || resp.Body != tt.want {
				t.Errorf("got %q, %v; want %q, nil", resp.Body, resp.Err, tt.want)
			}
		})
	}
}

func TestSendInvalidUTF8BodyIsText(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte{'o', 'k', 0xff, 0xfe, '!'})
	}))
	t.Cleanup(srv.Close)
	resp := newTestSender(64).Send(context.Background(), srv.URL, http.Header{}, nil, 2*time.Second)
	if !utf8.ValidString(resp.Body) || resp.Body != "ok\uFFFD!" {
		t.Errorf("body: got %q, want %q", resp.Body, "ok\uFFFD!")
	}
}

func TestSendTimeout(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}))
	t.Cleanup(srv.Close)
	start := time.Now()
	resp := newTestSender(64).Send(context.Background(), srv.URL, http.Header{}, nil, 100*time.Millisecond)
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("Send took %s with a 100ms timeout", took)
	}
	if resp.Err == nil || resp.Err.Error() != "request timeout after 100ms" || resp.StatusCode != 0 {
		t.Errorf("got %d, %v; want 0, request timeout after 100ms", resp.StatusCode, resp.Err)
	}
}

func TestSendDoesNotFollowRedirects(t *testing.T) {
	t.Parallel()
	var target atomic.Int32
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	mux.HandleFunc("/hook", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, srv.URL+"/target", http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("/target", func(w http.ResponseWriter, r *http.Request) { target.Add(1) })

	resp := newTestSender(64).Send(context.Background(), srv.URL+"/hook", http.Header{}, []byte(`{}`), 2*time.Second)
	if resp.Err != nil || resp.StatusCode != http.StatusTemporaryRedirect {
		t.Errorf("got %d, %v; want 307, nil", resp.StatusCode, resp.Err)
	}
	if loc := resp.Header.Get("Location"); loc != srv.URL+"/target" {
		t.Errorf("Location: got %q, want %q", loc, srv.URL+"/target")
	}
	if n := target.Load(); n != 0 {
		t.Errorf("redirect target hit %d times, want 0", n)
	}
}

func TestSendConnectionRefused(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now

	resp := newTestSender(64).Send(context.Background(), "http://"+addr+"/hook", http.Header{}, nil, 2*time.Second)
	if resp.Err == nil {
		t.Fatalf("got status %d, want an error", resp.StatusCode)
	}
	msg := resp.Err.Error()
	if !strings.Contains(msg, "connection refused") {
		t.Errorf("error: got %q, want it to say connection refused", msg)
	}
	if strings.Contains(msg, "Post ") {
		t.Errorf("error %q repeats the request line; want the cause only", msg)
	}
	if Judge(resp.StatusCode, resp.Err) != Retry {
		t.Error("a refused connection is not retried")
	}
}

func TestSendBadURL(t *testing.T) {
	t.Parallel()
	resp := newTestSender(64).Send(context.Background(), "http://127.0.0.1:notaport/", http.Header{}, nil, time.Second)
	if resp.Err == nil {
		t.Errorf("got status %d, want an error", resp.StatusCode)
	}
}

func TestHeaderMap(t *testing.T) {
	t.Parallel()
	if m := HeaderMap(nil); m != nil {
		t.Errorf("HeaderMap(nil): got %v, want nil", m)
	}
	m := HeaderMap(http.Header{"A": {"1", "2"}, "B": {"x"}, "C": {}})
	if len(m) != 2 || m["A"] != "1" || m["B"] != "x" {
		t.Errorf("HeaderMap: got %v, want A=1 B=x", m)
	}
	big := http.Header{}
	for i := range 80 {
		big.Set("X-H"+strings.Repeat("a", i), "v")
	}
	if m := HeaderMap(big); len(m) != maxLoggedHeaders {
		t.Errorf("HeaderMap of 80 headers: got %d, want %d", len(m), maxLoggedHeaders)
	}
}

func TestHeaderMapCaps(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("n", 300)
	tests := []struct {
		name   string
		header http.Header
		want   map[string]string
	}{
		{"first names in sorted order", http.Header{"C": {"3"}, "A": {"1"}, "B": {"2"}}, map[string]string{"A": "1", "B": "2", "C": "3"}},
		{"long value cut and marked", http.Header{"A": {strings.Repeat("v", 1000)}},
			map[string]string{"A": strings.Repeat("v", maxLoggedHeaderValue-len(ellipsis)) + ellipsis}},
		{"long name cut and marked", http.Header{long: {"x"}},
			map[string]string{long[:maxLoggedHeaderName-len(ellipsis)] + ellipsis: "x"}},
		{"long names cut alike keep the first", http.Header{long + "1": {"1"}, long + "2": {"2"}},
			map[string]string{long[:maxLoggedHeaderName-len(ellipsis)] + ellipsis: "1"}},
		{"invalid UTF-8 and control characters replaced", http.Header{"A": {"ok\xff\x00\tend"}}, map[string]string{"A": "ok\uFFFD\uFFFD end"}},
		{"a cut keeps whole characters", http.Header{"A": {strings.Repeat("é", 400)}},
			map[string]string{"A": strings.Repeat("é", (maxLoggedHeaderValue-len(ellipsis))/2) + ellipsis}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := HeaderMap(tt.header); !maps.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}

	t.Run("budget", func(t *testing.T) {
		t.Parallel()
		h := http.Header{}
		for i := range 20 {
			h.Set(fmt.Sprintf("X-%02d", i), strings.Repeat("v", 1000))
		}
		m := HeaderMap(h)
		// Each is 4 + 512 bytes: 7 fit in 4 KiB; the rest are left out.
		if len(m) != 7 || m["X-06"] == "" || m["X-07"] != "" {
			t.Errorf("got %d headers (X-06 %t, X-07 %t), want X-00 to X-06", len(m), m["X-06"] != "", m["X-07"] != "")
		}
	})
}

func TestToText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		in    string
		limit int
		want  string
	}{
		{"valid", "hello", 8, "hello"},
		{"invalid bytes replaced", "a\xffb", 8, "a\uFFFDb"},
		{"replacements cut at the limit", strings.Repeat("\xffa", 8), 8, "\uFFFDa\uFFFDa"},
		{"character cut by the read dropped", "0123456\xc3", 8, "0123456"},
		{"NUL kept", "a\x00b", 8, "a\x00b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := toText([]byte(tt.in), tt.limit); got != tt.want {
				t.Errorf("toText(%q, %d): got %q, want %q", tt.in, tt.limit, got, tt.want)
			}
		})
	}
}

func TestCapText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		n    int
		want string
	}{
		{"short kept", "request timeout after 30s", 64, "request timeout after 30s"},
		{"exactly n kept", "0123456789", 10, "0123456789"},
		{"long cut with ellipsis", "0123456789a", 10, "0123456…"},
		{"NUL and controls replaced", "a\x00b\x1bc\u0085d", 64, "a\uFFFDb\uFFFDc\uFFFDd"},
		{"line breaks become spaces", "a\r\nb", 64, "a  b"},
		{"invalid bytes replaced", "\xff\xfe", 64, "\uFFFD\uFFFD"},
		{"replacement lengthens past n", strings.Repeat("\xff", 5), 10, "\uFFFD\uFFFD…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := capText(tt.in, tt.n)
			if got != tt.want || len(got) > tt.n || !utf8.ValidString(got) {
				t.Errorf("capText(%q, %d): got %q (%d bytes), want %q", tt.in, tt.n, got, len(got), tt.want)
			}
		})
	}
}

// A User-Agent written in another case (profiles may write "user-agent: URLR")
// is sent once, instead of next to Go's default one.
func TestSendUserAgentAnyCase(t *testing.T) {
	t.Parallel()
	got := make(chan []string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Values("User-Agent")
	}))
	t.Cleanup(srv.Close)

	h := http.Header{"user-agent": {"URLR"}, "x-signature": {"abc"}}
	resp := newTestSender(1024).Send(context.Background(), srv.URL, h, []byte(`{}`), 2*time.Second)
	if resp.Err != nil {
		t.Fatal(resp.Err)
	}
	if ua := <-got; len(ua) != 1 || ua[0] != "URLR" {
		t.Errorf("User-Agent headers: got %q, want only URLR", ua)
	}
	if _, ok := h["user-agent"]; !ok || len(h) != 2 {
		t.Errorf("the caller's header was changed: %v", h)
	}
}
