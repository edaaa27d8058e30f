package delivery

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on what a receiver can make Hookline read, store and repeat. A
// receiver is anyone on the internet: whatever it sends back is bounded here
// before it reaches an attempt's log or an operational event. The response
// body's excerpt has its own, configured limit (SenderOptions.BodyLimit).
const (
	// maxResponseHeaderBytes bounds the status line and headers of a response
	// the HTTP client reads (net/http accepts 10 MB by default). A receiver
	// that sends more fails the attempt with an error, like a broken connection.
	maxResponseHeaderBytes = 64 << 10

	// maxLoggedHeaders is the most headers of a request or response an
	// attempt's log keeps, the first by name in sorted order (so the same
	// headers are kept each time); the others are left out.
	maxLoggedHeaders = 32
	// maxLoggedHeaderName and maxLoggedHeaderValue bound a logged header's
	// name and (first) value, in bytes; longer ones are cut and end with "…".
	maxLoggedHeaderName  = 128
	maxLoggedHeaderValue = 512
	// maxLoggedHeaderBytes bounds the logged headers' names and values
	// together: once the next header would pass it, it and the rest are left out.
	maxLoggedHeaderBytes = 4 << 10

	// maxErrorBytes bounds an attempt's error text (a transport error may quote
	// what the receiver sent); it is also the delivery's last error and the
	// last_error of a delivery.failed event. Longer text is cut and ends with "…".
	maxErrorBytes = 512
)

// Limits on test sends (Engine.Test), which bypass the worker pool and the
// webhooks' gates: a caller asking for many at once is refused (ErrTestBusy)
// rather than opening a connection each.
const (
	// maxTestSendsPerWebhook is the most test sends in flight to one webhook.
	maxTestSendsPerWebhook = 2
	// maxTestSends is the most test sends in flight in the process.
	maxTestSends = 16
)

// ellipsis ends text that capText cut short.
const ellipsis = "…"

// capText returns s as at most n bytes (n ≥ len(ellipsis)) of valid UTF-8, for
// storing text a receiver chose: invalid bytes and control characters (NUL
// among them, which a PostgreSQL text column refuses) become U+FFFD, tabs and
// line breaks spaces; text longer than n is cut at a character boundary and
// ends with ellipsis. Only about n bytes of s are looked at.
func capText(s string, n int) string {
	if len(s) <= n && plainText(s) {
		return s
	}
	var b strings.Builder
	b.Grow(min(len(s), n))
	// cut is the longest prefix written that leaves room for the ellipsis.
	cut := 0
	for _, r := range s { // an invalid byte comes as utf8.RuneError
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			r = ' '
		case unicode.IsControl(r):
			r = utf8.RuneError
		}
		if b.Len()+utf8.RuneLen(r) > n {
			return b.String()[:cut] + ellipsis
		}
		b.WriteRune(r)
		if b.Len() <= n-len(ellipsis) {
			cut = b.Len()
		}
	}
	return b.String()
}

// plainText reports whether s is valid UTF-8 without control characters: what
// capText keeps as it is.
func plainText(s string) bool {
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c < ' ' || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || unicode.IsControl(r) {
			return false
		}
		i += size
	}
	return true
}
