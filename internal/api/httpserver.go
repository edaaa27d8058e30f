package api

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

// maxHeaderBytes bounds a request's header block; larger gets 431.
const maxHeaderBytes = 64 << 10

// ServerOptions are the limits of the API's HTTP server.
type ServerOptions struct {
	// ReadTimeout bounds reading a whole request, body included (408 when a
	// body is too slow). Writing is bounded by New, per answer, with
	// config.Config.WriteTimeout.
	ReadTimeout time.Duration
	// Logger gets net/http's own errors, at WARN.
	Logger *slog.Logger
}

// NewHTTPServer returns the server for the API handler h: bounded in how long
// a client may take to send a request (headers in 10 s, the whole request in
// ReadTimeout) and how large its headers may be. Writing is bounded per answer
// by New, so a client that never reads a large answer cannot hold its memory.
func NewHTTPServer(h http.Handler, o ServerOptions) *http.Server {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       o.ReadTimeout,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(o.Logger.Handler(), slog.LevelWarn),
	}
}

// NewListener wraps ln so that the answers net/http writes by itself, before
// any handler runs, to requests it cannot parse (400 malformed, 431 headers too
// large, 501 unsupported transfer encoding, 505 unsupported version) are
// problem+json like every other error of the API.
func NewListener(ln net.Listener) net.Listener { return problemListener{ln} }

type problemListener struct{ net.Listener }

func (l problemListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return problemConn{c}, nil
}

type problemConn struct{ net.Conn }

// protocolErrorHeaders are the headers net/http's own error answers carry and
// nothing else does (every answer of a handler has a Date).
const protocolErrorHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

// Write rewrites net/http's own error answer, which it writes to the
// connection in one call, as a problem document; anything else passes through.
func (c problemConn) Write(b []byte) (int, error) {
	if !bytes.HasPrefix(b, []byte("HTTP/1.1 ")) {
		return c.Conn.Write(b)
	}
	statusLine, text, ok := bytes.Cut(b[len("HTTP/1.1 "):], []byte(protocolErrorHeaders))
	if !ok || bytes.ContainsAny(statusLine, "\r\n") {
		return c.Conn.Write(b)
	}
	code, err := strconv.Atoi(string(statusLine[:min(3, len(statusLine))]))
	if err != nil || code < 400 {
		return c.Conn.Write(b)
	}
	// The body repeats the status line, then ": reason" when there is one.
	detail := strings.TrimPrefix(string(text), strconv.Itoa(code)+" ")
	// No request was read: the answer gets an id of its own, like every other.
	id := hookline.NewID(requestIDPrefix)
	p := newProblem(protocolKind(code), detail)
	p.Status, p.Instance = code, problemInstance(id)
	body, _ := json.Marshal(p)
	answer := "HTTP/1.1 " + string(statusLine) + "\r\nContent-Type: application/problem+json\r\nContent-Length: " +
		strconv.Itoa(len(body)+1) + "\r\nRequest-Id: " + id + "\r\nConnection: close\r\n\r\n" + string(body) + "\n"
	if _, err := c.Conn.Write([]byte(answer)); err != nil {
		return 0, err
	}
	return len(b), nil
}

// protocolKind is the kind of problem of net/http's own error answer code.
func protocolKind(code int) string {
	switch code {
	case http.StatusRequestHeaderFieldsTooLarge:
		return "headers-too-large"
	case http.StatusNotImplemented:
		return "not-implemented"
	case http.StatusHTTPVersionNotSupported:
		return "http-version-not-supported"
	}
	return "bad-request"
}

// canonicalPaths answers a request whose path is not in canonical form
// ("//v1/events", "/v1/./events") with the redirect ServeMux would make, 307 to
// the clean path (method and body kept), but with a problem document instead of
// ServeMux's HTML.
func canonicalPaths(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		clean := cleanPath(r.URL.Path)
		if clean == r.URL.Path || r.Method == http.MethodConnect {
			next.ServeHTTP(w, r)
			return
		}
		u := *r.URL
		u.Path, u.RawPath = clean, ""
		w.Header().Set("Location", u.RequestURI())
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusTemporaryRedirect)
		p := newProblem("moved", "the path is not in canonical form; the same request to "+u.RequestURI()+" is what was meant")
		p.Instance = problemInstance(requestID(r))
		_ = json.NewEncoder(w).Encode(p)
	})
}

// cleanPath is ServeMux's: path.Clean, keeping a trailing slash.
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	if p[0] != '/' {
		p = "/" + p
	}
	np := path.Clean(p)
	if p[len(p)-1] == '/' && np != "/" {
		np += "/"
	}
	return np
}

// writeDeadline bounds the writing of each answer to d from the start of the
// request, so a client that does not read cannot hold a connection and the
// answer's memory. A handler that works longer on purpose (a test send) moves
// it with extendWriteDeadline.
func writeDeadline(d time.Duration, next http.Handler) http.Handler {
	if d <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(d))
		next.ServeHTTP(w, r)
	})
}

// extendWriteDeadline gives the answer the server's whole write timeout from
// now.
func (h *handler) extendWriteDeadline(w http.ResponseWriter) {
	if d := h.cfg.WriteTimeout; d > 0 {
		_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(d))
	}
}
