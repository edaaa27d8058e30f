package api

import (
	"context"
	"net/http"

	"github.com/hookline/hookline/internal/hookline"
)

// requestIDPrefix begins the request ids the server makes.
const requestIDPrefix = "req_"

// maxRequestID bounds the length of a request id taken from a client.
const maxRequestID = 128

type requestIDContext struct{}

// withRequestID gives every request an id, answered in the Request-Id header
// before anything else runs: the client's own (Request-Id, else X-Request-Id)
// when it is a well-formed one, else a new one. Problems repeat it in
// instance and log lines about the request carry it as request_id, so an
// answer and the server's log of it can be matched.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("Request-Id")
		if !validRequestID(id) {
			id = r.Header.Get("X-Request-Id")
		}
		if !validRequestID(id) {
			id = hookline.NewID(requestIDPrefix)
		}
		w.Header().Set("Request-Id", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDContext{}, id)))
	})
}

// validRequestID accepts 1 to 128 letters, digits and "-._:~": what
// tracing systems use (UUIDs, ULIDs, hex trace ids), safe in a header, a log
// line and a URN.
func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestID {
		return false
	}
	for i := range len(id) {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == ':' || c == '~') {
			return false
		}
	}
	return true
}

// requestID returns the id of r (withRequestID), or "" for a request that did
// not come through it.
func requestID(r *http.Request) string { return requestIDFrom(r.Context()) }

// requestIDFrom is requestID for code that has the request's context only.
func requestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDContext{}).(string)
	return id
}

// problemInstance is a problem's instance for the request id: a URN, as the
// problem types are.
func problemInstance(id string) string {
	if id == "" {
		return ""
	}
	return "urn:hookline:request:" + id
}
