package webhook

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// Middleware returns a handler that verifies each request with s and secrets
// (see Verify) before passing it to next.
//
// It reads the whole body, up to MaxBodyBytes (DefaultMaxBodyBytes when zero).
// A request without the signature header is answered 401 before its body is
// read; a larger body 413 Request Entity Too Large; a body that cannot be read
// 400; a request that fails verification — bad or missing signature,
// timestamp outside the tolerance, missing id or timestamp header — 401 with
// the reason as plain text. Otherwise next receives the request with r.Body
// replaced by the verified bytes, so it can read them again.
//
// Middleware panics if s is invalid for verification (see Validate; a payload
// with {timestamp} or {id} also needs TimestampHeader or IDHeader) or secrets
// is empty, as http.ServeMux panics on a bad pattern: that is a programming
// error to catch at start-up, not a request to reject.
func (s *Scheme) Middleware(secrets []string, next http.Handler) http.Handler {
	_, err := s.compileVerify()
	if err == nil && len(secrets) == 0 {
		err = fmt.Errorf("%w: no secret to verify with", ErrInvalidKey)
	}
	if err != nil {
		panic("webhook: Middleware: " + err.Error())
	}
	limit := s.MaxBodyBytes
	if limit == 0 {
		limit = DefaultMaxBodyBytes
	}
	secrets = append([]string(nil), secrets...) // the caller may reuse its slice
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(s.Header) == "" {
			http.Error(w, fmt.Sprintf("%v %s", ErrMissingHeader, s.Header), http.StatusUnauthorized)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
		if err != nil {
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				http.Error(w, "webhook: body larger than "+strconv.FormatInt(limit, 10)+" bytes", http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "webhook: cannot read the body", http.StatusBadRequest)
			return
		}
		if err := s.Verify(secrets, body, r.Header); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		r2 := r.Clone(r.Context())
		r2.Body = io.NopCloser(bytes.NewReader(body))
		r2.ContentLength = int64(len(body))
		next.ServeHTTP(w, r2)
	})
}
