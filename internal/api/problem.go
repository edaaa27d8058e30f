package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/delivery"
	"github.com/hookline/hookline/internal/hookline"
)

// problem is an RFC 9457 problem document. Its instance names the
// occurrence: urn:hookline:request:<the answer's Request-Id> (withRequestID).
type problem struct {
	Type     string       `json:"type"`
	Title    string       `json:"title"`
	Status   int          `json:"status"`
	Detail   string       `json:"detail,omitempty"`
	Instance string       `json:"instance,omitempty"`
	Errors   []fieldError `json:"errors,omitempty"`
	// RetryAfter accompanies 429 and 503, in seconds.
	RetryAfter int `json:"retry_after,omitempty"`
}

type fieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// httpError is an error that already knows its status and message.
type httpError struct {
	status     int
	kind       string
	detail     string
	field      string // the request field at fault, if any
	message    string // what is wrong with that field
	retryAfter time.Duration
}

func (e *httpError) Error() string { return e.detail }

func errStatus(status int, kind, detail string) error {
	return &httpError{status: status, kind: kind, detail: detail}
}

// errField is a problem with one request field at fault, of the general kind
// of its status (fieldKinds).
func errField(status int, field, detail string) error {
	return &httpError{status: status, kind: fieldKinds[status], detail: field + ": " + detail, field: field, message: detail}
}

// problemKind is what every problem of one kind has in common: the status it
// is answered with and its title, which never varies (RFC 9457 §3.1.3).
type problemKind struct {
	status int
	title  string
}

// problemKinds is every kind of problem the server answers: its type is
// urn:hookline:problem:<kind>. openapi.json lists the same kinds, each with
// its status and title (the Problem schema's oneOf), and docs/api.md the
// same; a test holds them to this table. A new kind is a line here and an
// entry there.
var problemKinds = map[string]problemKind{
	"moved":                      {http.StatusTemporaryRedirect, "Path Not Canonical"},
	"bad-request":                {http.StatusBadRequest, "Bad Request"},
	"unauthorized":               {http.StatusUnauthorized, "Unauthorized"},
	"forbidden":                  {http.StatusForbidden, "Forbidden"},
	"not-found":                  {http.StatusNotFound, "Not Found"},
	"method-not-allowed":         {http.StatusMethodNotAllowed, "Method Not Allowed"},
	"request-timeout":            {http.StatusRequestTimeout, "Request Timeout"},
	"conflict":                   {http.StatusConflict, "Conflict"},
	"idempotency-key-in-use":     {http.StatusConflict, "Idempotency Key In Use"},
	"read-only":                  {http.StatusConflict, "Read-Only Object"},
	"in-use":                     {http.StatusConflict, "Object In Use"},
	"webhook-disabled":           {http.StatusConflict, "Webhook Disabled"},
	"too-large":                  {http.StatusRequestEntityTooLarge, "Content Too Large"},
	"unsupported-media-type":     {http.StatusUnsupportedMediaType, "Unsupported Media Type"},
	"validation":                 {http.StatusUnprocessableEntity, "Validation Failed"},
	"idempotency-key-reused":     {http.StatusUnprocessableEntity, "Idempotency Key Reused"},
	"limit":                      {http.StatusUnprocessableEntity, "Limit Reached"},
	"rate-limited":               {http.StatusTooManyRequests, "Too Many Requests"},
	"headers-too-large":          {http.StatusRequestHeaderFieldsTooLarge, "Request Headers Too Large"},
	"client-closed":              {statusClientClosed, "Client Closed Request"},
	"internal":                   {http.StatusInternalServerError, "Internal Server Error"},
	"not-implemented":            {http.StatusNotImplemented, "Not Implemented"},
	"unavailable":                {http.StatusServiceUnavailable, "Service Unavailable"},
	"http-version-not-supported": {http.StatusHTTPVersionNotSupported, "HTTP Version Not Supported"},
}

// fieldKinds is the general kind of each status a problem naming a field
// (errField) may have.
var fieldKinds = map[int]string{
	http.StatusBadRequest:            "bad-request",
	http.StatusForbidden:             "forbidden",
	http.StatusNotFound:              "not-found",
	http.StatusConflict:              "conflict",
	http.StatusRequestEntityTooLarge: "too-large",
	http.StatusUnprocessableEntity:   "validation",
}

// newProblem is a problem of kind, with its status and title.
func newProblem(kind, detail string) problem {
	k := problemKinds[kind]
	return problem{Type: "urn:hookline:problem:" + kind, Title: k.title, Status: k.status, Detail: detail}
}

var (
	errUnauthorized = errStatus(http.StatusUnauthorized, "unauthorized", "missing or invalid API key: send Authorization: Bearer <key>")
	errNotFound     = errStatus(http.StatusNotFound, "not-found", "no such object")
)

// Messages of the log lines h.error writes. The handler's logger throttles
// each (logthrottle): in an outage every request fails alike.
const (
	msgUnavailable = "storage unavailable; answering 503"
	msgFailed      = "request failed"
)

// statusClientClosed is what a request whose client went away is answered and
// counted as, nginx's 499: nobody reads it.
const statusClientClosed = 499

// error is the one place an error becomes a response: known errors get their
// status and a message a person can act on; anything else is a 500 whose cause
// is logged, never shown.
func (h *handler) error(w http.ResponseWriter, r *http.Request, err error) {
	p := problemOf(err)
	id := requestID(r)
	switch {
	case p.Status < 500:
		// The client's doing (a bad body, a body that could not be read, a
		// missing scope): worth seeing when debugging a client, not an error.
		h.log.Debug("request refused", "method", r.Method, "path", r.URL.Path, "status", p.Status, "detail", p.Detail, "request_id", id)
	case r.Context().Err() != nil || errors.Is(err, context.Canceled):
		// The client gave up (its timeout, a closed connection) and what
		// failed after that failed for it: not the server's error.
		p = newProblem("client-closed", "the client went away before the answer")
		h.log.Debug("client went away", "method", r.Method, "path", r.URL.Path, "err", err, "request_id", id)
	case errors.Is(err, hookline.ErrUnavailable):
		h.log.Error(msgUnavailable, "method", r.Method, "path", r.URL.Path, "err", err, "request_id", id)
	default:
		h.log.Error(msgFailed, "method", r.Method, "path", r.URL.Path, "status", p.Status, "err", err, "request_id", id)
	}
	p.Instance = problemInstance(id)
	if p.Status == http.StatusUnauthorized {
		// RFC 9110 §15.5.2: a 401 must carry a challenge.
		w.Header().Set("WWW-Authenticate", `Bearer realm="hookline"`)
	}
	if p.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(p.RetryAfter))
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// problemOf maps an error to its problem document: h.error answers it, and a
// batch publish reports it for each event it refuses. An unknown error is a
// 500 that shows nothing of its cause; the caller logs it.
func problemOf(err error) problem {
	kind, p := "internal", problem{Status: http.StatusInternalServerError, Detail: "internal error; see the server log"}
	var he *httpError
	var ve *hookline.ValidationError
	var mbe *http.MaxBytesError
	var ptl *delivery.PayloadTooLargeError
	switch {
	case errors.As(err, &he):
		kind, p.Status, p.Detail = he.kind, he.status, he.detail
		if he.field != "" {
			p.Errors = []fieldError{{Field: he.field, Message: he.message}}
		}
		if he.retryAfter > 0 {
			p.RetryAfter = int((he.retryAfter + time.Second - 1) / time.Second)
		}
	case errors.As(err, &ve):
		kind, p.Status, p.Detail = "validation", http.StatusUnprocessableEntity, ve.Error()
		p.Errors = []fieldError{{Field: ve.Field, Message: ve.Message}}
	case errors.As(err, &mbe):
		kind, p.Status = "too-large", http.StatusRequestEntityTooLarge
		p.Detail = "request body larger than " + strconv.FormatInt(mbe.Limit, 10) + " bytes"
	case errors.As(err, &ptl):
		kind, p.Status, p.Detail = "too-large", http.StatusRequestEntityTooLarge, "data: "+ptl.Error()
		p.Errors = []fieldError{{Field: "data", Message: ptl.Error()}}
	case errors.Is(err, hookline.ErrNotFound):
		kind, p.Status, p.Detail = "not-found", http.StatusNotFound, "no such object"
	case errors.Is(err, hookline.ErrConflict):
		kind, p.Status, p.Detail = "conflict", http.StatusConflict, "an object with that identifier already exists"
	case errors.Is(err, hookline.ErrLimitReached):
		kind, p.Status, p.Detail = "limit", http.StatusUnprocessableEntity, err.Error()
	case errors.Is(err, delivery.ErrTestBusy):
		kind, p.Status = "rate-limited", http.StatusTooManyRequests
		p.Detail = "too many test sends are in flight (at most 2 to one webhook, 16 in all); retry when they have finished"
		p.RetryAfter = 2
	case errors.Is(err, hookline.ErrUnavailable):
		kind, p.Status, p.Detail = "unavailable", http.StatusServiceUnavailable, "storage is unavailable; retry shortly"
		p.RetryAfter = 1
	}
	p.Type, p.Title = "urn:hookline:problem:"+kind, problemKinds[kind].title
	if p.Title == "" {
		p.Title = http.StatusText(p.Status) // a kind missing from problemKinds: TestProblemKindsInCode names it
	}
	return p
}

// writeJSON writes v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeCreated answers 201 with v, the object created, and Location, the path
// where it lives: /v1/ and the segments given, each escaped.
func writeCreated(w http.ResponseWriter, v any, segments ...string) {
	for i, s := range segments {
		segments[i] = url.PathEscape(s)
	}
	w.Header().Set("Location", "/v1/"+strings.Join(segments, "/"))
	writeJSON(w, http.StatusCreated, v)
}
