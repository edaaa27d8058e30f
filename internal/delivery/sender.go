package delivery

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// SenderOptions configure the HTTP side of deliveries.
type SenderOptions struct {
	// AllowPrivate lets requests reach loopback and private addresses.
	AllowPrivate bool
	// BodyLimit is how many bytes of a response body are kept for the logs, as
	// text: invalid UTF-8 becomes U+FFFD, and the text is cut to BodyLimit bytes.
	BodyLimit int
	// MaxConnsPerHost bounds the idle connections kept open to one receiver
	// host for reuse; 64 when zero. Give it the number of workers: many webhooks
	// may share a host, and a connection closed after use must be opened again.
	MaxConnsPerHost int
}

// Sender makes delivery requests. It never follows redirects, ignores proxy
// environment variables (a proxy would hide the real target from the guard) and
// checks every resolved address with the private-address guard unless allowed.
type Sender struct {
	client    *http.Client
	bodyLimit int
}

// NewSender returns a Sender.
func NewSender(o SenderOptions) *Sender {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	if !o.AllowPrivate {
		dialer.Control = guardControl
	}
	if o.MaxConnsPerHost <= 0 {
		o.MaxConnsPerHost = 64
	}
	tr := &http.Transport{
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           1024,
		MaxIdleConnsPerHost:    o.MaxConnsPerHost,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    10 * time.Second,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: maxResponseHeaderBytes,
	}
	return &Sender{
		client: &http.Client{
			Transport:     tr,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		bodyLimit: o.BodyLimit,
	}
}

// Response is what came back from one request.
type Response struct {
	StatusCode int
	Header     http.Header
	// Body is the first BodyLimit bytes of the response body, as text.
	Body     string
	Duration time.Duration
	Err      error
}

// Send POSTs body to url with header and waits at most timeout.
func (s *Sender) Send(ctx context.Context, url string, header http.Header, body []byte, timeout time.Duration) Response {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return Response{Err: err}
	}
	req.Header = canonicalUserAgent(header)
	resp, err := s.client.Do(req)
	if err != nil {
		return Response{Duration: time.Since(start), Err: describe(err, timeout)}
	}
	defer resp.Body.Close()
	excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, int64(s.bodyLimit)))
	// Drain a little more so the connection can be reused; a receiver that sends
	// megabytes back gets its connection closed instead.
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return Response{
		StatusCode: resp.StatusCode,
		Header:     resp.Header,
		Body:       toText(excerpt, s.bodyLimit),
		Duration:   time.Since(start),
	}
}

// canonicalUserAgent returns header with a User-Agent spelt in another case
// ("user-agent", as a profile may write it) moved to the canonical key. Go's
// Request.Write looks for it there only: otherwise it sends its own
// "User-Agent: Go-http-client/1.1" as well, and receivers see two (Node.js keeps
// the first, PHP joins them). header is not modified.
func canonicalUserAgent(header http.Header) http.Header {
	for k, v := range header {
		if k != "User-Agent" && strings.EqualFold(k, "User-Agent") {
			h := header.Clone()
			delete(h, k)
			h["User-Agent"] = v
			return h
		}
	}
	return header
}

// describe turns transport errors into messages a person can act on.
func describe(err error, timeout time.Duration) error {
	var blocked *BlockedError
	switch {
	case errors.As(err, &blocked):
		return blocked
	case errors.Is(err, context.DeadlineExceeded):
		return errors.New("request timeout after " + timeout.String())
	}
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) {
		if inner := ue.Unwrap(); inner != nil {
			return inner
		}
	}
	return err
}

// toText returns a body excerpt as text of at most limit bytes: invalid UTF-8
// becomes U+FFFD, which may lengthen it, so the text is cut again at the limit,
// at a character boundary.
func toText(b []byte, limit int) string {
	s := string(b)
	if !utf8.Valid(b) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if len(s) <= limit {
		return s
	}
	i := max(limit, 0)
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}

// HeaderMap flattens a header to its first values, for an attempt's log, within
// the caps in limits.go: the first maxLoggedHeaders names in sorted order (the
// same ones each time), names and values made valid UTF-8 and cut to
// maxLoggedHeaderName and maxLoggedHeaderValue bytes, and no more headers once
// maxLoggedHeaderBytes would be passed.
func HeaderMap(h http.Header) map[string]string {
	if len(h) == 0 {
		return nil
	}
	names := make([]string, 0, len(h))
	for k, v := range h {
		if len(v) > 0 {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	m := make(map[string]string, min(len(names), maxLoggedHeaders))
	budget := maxLoggedHeaderBytes
	for _, k := range names {
		if len(m) == maxLoggedHeaders {
			break
		}
		name := capText(k, maxLoggedHeaderName)
		if _, ok := m[name]; ok {
			continue // another long name cut the same way
		}
		v := capText(h[k][0], maxLoggedHeaderValue)
		if budget -= len(name) + len(v); budget < 0 {
			break
		}
		m[name] = v
	}
	return m
}
