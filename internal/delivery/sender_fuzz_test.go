package delivery

import (
	"bufio"
	"bytes"
	"io"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzResponseHeaders feeds raw response bytes, as a receiver may send them,
// through what Hookline keeps of a response: the status line and headers are
// read the way the HTTP client reads them (http.ReadResponse, within
// maxResponseHeaderBytes), then logged (HeaderMap), read for Retry-After and,
// when unreadable, turned into an attempt's error text. The same bytes, split
// into lines, are also used as headers no parser checked (a profile's). Nothing
// may panic, the logged headers keep within every cap, the same headers are
// kept each time, and all text is valid UTF-8.
func FuzzResponseHeaders(f *testing.F) {
	for _, seed := range []string{
		"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
		"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 120\r\n\r\n",
		"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 99999999999999999999999\r\n\r\n",
		"HTTP/1.1 503 Service Unavailable\r\nRetry-After: Wed, 21 Oct 2015 07:28:00 GMT\r\n\r\n",
		"HTTP/1.1 429 x\r\nRetry-After: -5\r\nRetry-After: 7\r\n\r\n",
		"HTTP/1.1 500 \xff\xfe\r\nX-Bad: \xff\xfe\xc3(\xe2\x82\r\nContent-Length: 4\r\n\r\n\xffa\xffa",
		"HTTP/1.1 200 OK\r\nX-Folded: a\r\n  b\r\n\r\n",
		"HTTP/1.1 200 OK\r\nX-Nul: a\x00b\r\n\r\n",
		"HTTP/1.1\xff\x00junk\r\n\r\n",
		"HTTP/1.1 200 OK\r\nA-" + strings.Repeat("n", 300) + ": " + strings.Repeat("é", 400) + "\r\n\r\n",
		"HTTP/1.1 204 No Content\r\n" + strings.Repeat("X-H: v\r\nX-I: w\r\n", 40) + "\r\n",
		"HTTP/1.0 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\n\r\n",
	} {
		f.Add([]byte(seed))
	}
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	f.Fuzz(func(t *testing.T, raw []byte) {
		resp, err := http.ReadResponse(bufio.NewReader(io.LimitReader(bytes.NewReader(raw), maxResponseHeaderBytes)), nil)
		if err != nil {
			checkErrorCap(t, "error", capText(describe(err, time.Second).Error(), maxErrorBytes))
		} else {
			defer resp.Body.Close()
			checkLoggedHeaders(t, resp.Header)
			for _, status := range []int{resp.StatusCode, http.StatusTooManyRequests, http.StatusServiceUnavailable} {
				if d := ParseRetryAfter(status, resp.Header, now); d < 0 {
					t.Errorf("ParseRetryAfter(%d): got %s, want at least 0", status, d)
				}
			}
			const limit = 64
			excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, limit))
			if body := toText(excerpt, limit); len(body) > limit || !utf8.ValidString(body) {
				t.Errorf("body excerpt: got %q, want at most %d bytes of valid UTF-8", body, limit)
			}
		}

		h := http.Header{}
		for _, line := range bytes.Split(raw, []byte("\n")) {
			k, v, _ := bytes.Cut(line, []byte(":"))
			h[string(k)] = append(h[string(k)], string(v))
		}
		checkLoggedHeaders(t, h)
		checkErrorCap(t, "text", capText(string(raw), maxErrorBytes))
	})
}

// checkLoggedHeaders fails t unless what an attempt's log keeps of h, as
// response or as request headers, keeps within the caps, the same each time.
func checkLoggedHeaders(t *testing.T, h http.Header) {
	t.Helper()
	m := HeaderMap(h)
	checkHeaderCaps(t, "headers", m)
	if again := HeaderMap(h); !maps.Equal(m, again) {
		t.Errorf("HeaderMap: got %q, then %q; want the same", m, again)
	}
	checkHeaderCaps(t, "request headers", requestHeaderMap(h))
}
