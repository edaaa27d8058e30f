package apikeys

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Problem types of the answers Middleware gives instead of calling the
// handler (the "type" member of the RFC 9457 problem).
const (
	ProblemMissingKey  = "urn:hookline:apikeys:missing-key"  // 401: no key in the request
	ProblemInvalidKey  = "urn:hookline:apikeys:invalid-key"  // 401: malformed, or not a key of this key space (NOT_FOUND)
	ProblemRevoked     = "urn:hookline:apikeys:revoked"      // 401: REVOKED
	ProblemExpired     = "urn:hookline:apikeys:expired"      // 401: EXPIRED
	ProblemForbidden   = "urn:hookline:apikeys:forbidden"    // 403: FORBIDDEN
	ProblemRateLimited = "urn:hookline:apikeys:rate-limited" // 429: RATE_LIMITED
	ProblemUnavailable = "urn:hookline:apikeys:unavailable"  // 503: Hookline did not answer
)

// MaxKeyBytes bounds what Middleware takes for a key: a longer value is
// answered 401 without asking Hookline (its keys are far shorter).
const MaxKeyBytes = 256

// UnavailableRetryAfter is the Retry-After of a 503 when Hookline did not
// say when to come back.
const UnavailableRetryAfter = 5 * time.Second

// Middleware guards the routes of a product's API with the keys Hookline
// issues for it: Require wraps a handler so that it runs only for a request
// whose key is valid, of Keyspace, and holds the permissions the route needs.
//
// Each request is verified by Hookline (one round trip, nothing cached here:
// Hookline counts the key's rate limit, and a key revoked there must be
// refused as soon as Hookline refuses it). What the
// handler does not get is answered as an RFC 9457 problem
// (application/problem+json: type, title, status, detail):
//
//   - 401 Unauthorized, with WWW-Authenticate, when the key is missing,
//     malformed, or Hookline says NOT_FOUND, REVOKED or EXPIRED;
//   - 403 Forbidden when it says FORBIDDEN: a permission is missing, or the
//     key is limited to other resources;
//   - 429 Too Many Requests, with Retry-After, when it says RATE_LIMITED;
//   - 503 Service Unavailable, with Retry-After, when Hookline could not
//     answer (unreachable, timed out, or refusing the Client's own key).
//     Middleware fails closed: the handler is never called without a
//     verification.
//
// WWW-Authenticate is `Bearer realm="<Realm>"` (RFC 6750, with
// error="invalid_token" for a key that is not valid, and on a 403
// error="insufficient_scope" with the missing permissions as scope); with a
// custom Header it is `APIKey realm="<Realm>", header="<Header>"`.
//
// Every answer to a verified key with a rate limit, the handler's and the
// 429 alike, carries the key's allowance in the fields of
// draft-ietf-httpapi-ratelimit-headers (-11, May 2026; one policy named
// "default") and in the common X- fields:
//
//	RateLimit-Policy: "default";q=1000;w=3600   q: the limit; w: its window in seconds
//	RateLimit: "default";r=999;t=3600           r: requests left; t: seconds until the allowance is whole again
//	X-RateLimit-Limit: 1000
//	X-RateLimit-Remaining: 999
//	X-RateLimit-Reset: 3600                     seconds until the allowance is whole again (not a timestamp)
//
// The handler finds the Verification with FromContext. Neither the answers
// nor the errors given to OnError ever contain the key; the handler should
// log Verification.KeyID, never the header that carried the key.
//
// Set the fields, then call Require for each route: Require reads them once,
// so changing them later does not change the routes already wrapped.
type Middleware struct {
	// Client asks Hookline. Required.
	Client *Client
	// Keyspace is the name of the product API's key space; a key of any
	// other is answered 401. Required.
	Keyspace string
	// Header is where requests carry the key: "" (or "Authorization") for
	// "Authorization: Bearer <key>", otherwise the name of a header whose
	// value is the key, such as "X-FormVox-API-Key".
	Header string
	// Realm names the protected API in WWW-Authenticate; Keyspace when empty.
	Realm string
	// OnError, when set, is told why a request was answered 503: Hookline
	// could not be reached, or refused the Client (whose key may be wrong
	// or lack keys:verify). It is not called when the request's client went
	// away first. The error never contains the key.
	OnError func(r *http.Request, err error)
}

// Require returns a wrapper that calls the handler only for a request whose
// key holds every one of permissions (none: any valid key of the key space).
//
// Require panics if Client or Keyspace is not set, or Header or a
// permission is not a valid name, as http.ServeMux panics on a bad pattern:
// that is a programming error to catch at start-up, not a request to refuse.
func (m *Middleware) Require(permissions ...string) func(http.Handler) http.Handler {
	return m.RequireResource(nil, permissions...)
}

// RequireResource is Require for a route that acts on one resource: resource
// returns it from the request (such as "form:" + r.PathValue("id"); see
// PathResource), and a key limited to resources must list it. resource may
// be nil, and may return "" for a request that acts on no resource in
// particular; a key limited to resources is then not refused for that, so
// such a handler must itself filter what it serves with
// Verification.CanAccess.
func (m *Middleware) RequireResource(resource func(*http.Request) string, permissions ...string) func(http.Handler) http.Handler {
	g := m.guard(permissions)
	g.resource = resource
	return func(next http.Handler) http.Handler {
		if next == nil {
			panic("apikeys: Require: nil handler")
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			g.serve(w, r, next)
		})
	}
}

// PathResource returns a resource function for RequireResource: prefix
// followed by the request's path value wildcard, as http.ServeMux matched it
// ("form:" and "id" make form:123 of a request to "GET /v1/forms/{id}").
// It needs the guarded handler to be the one the pattern is registered with.
func PathResource(prefix, wildcard string) func(*http.Request) string {
	return func(r *http.Request) string { return prefix + r.PathValue(wildcard) }
}

type contextKey struct{}

// FromContext returns the Verification of the request whose context ctx is,
// as Middleware put it there; nil when there is none.
func FromContext(ctx context.Context) *Verification {
	v, _ := ctx.Value(contextKey{}).(*Verification)
	return v
}

// NewContext returns ctx carrying v, as Middleware passes it to the handler:
// for tests of handlers that read FromContext.
func NewContext(ctx context.Context, v *Verification) context.Context {
	return context.WithValue(ctx, contextKey{}, v)
}

// guard is one route's configuration, fixed when Require is called.
type guard struct {
	client      *Client
	keyspace    string
	header      string // "" for Authorization: Bearer
	realm       string
	onError     func(*http.Request, error)
	permissions []string
	resource    func(*http.Request) string
}

func (m *Middleware) guard(permissions []string) *guard {
	switch {
	case m.Client == nil:
		panic("apikeys: Middleware.Client is not set")
	case m.Keyspace == "":
		panic("apikeys: Middleware.Keyspace is not set: without it a key of any key space would do")
	}
	g := &guard{client: m.Client, keyspace: m.Keyspace, realm: m.Realm, onError: m.OnError,
		permissions: append([]string(nil), permissions...)}
	if g.realm == "" {
		g.realm = m.Keyspace
	}
	if h := http.CanonicalHeaderKey(m.Header); h != "" && h != "Authorization" {
		if !isToken(h) {
			panic(fmt.Sprintf("apikeys: Middleware.Header %q is not a header name", m.Header))
		}
		g.header = h
	}
	for _, p := range g.permissions {
		if p == "" || strings.ContainsAny(p, " \t\r\n") {
			panic(fmt.Sprintf("apikeys: Require: %q is not a permission name", p))
		}
	}
	return g
}

func (g *guard) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	key, found := g.key(r)
	if !found {
		g.unauthorized(w, ProblemMissingKey, "", g.missingDetail())
		return
	}
	if key == "" {
		g.unauthorized(w, ProblemInvalidKey, "invalid_token", "malformed API key")
		return
	}
	req := Request{Key: key, Keyspace: g.keyspace, Permissions: g.permissions}
	if g.resource != nil {
		req.Resource = g.resource(r)
	}
	v, err := g.client.Verify(r.Context(), req)
	if err != nil {
		g.unavailable(w, r, err)
		return
	}
	setRateLimit(w.Header(), v.RateLimit)
	switch {
	case v.Valid && v.Code == CodeValid && v.Keyspace == g.keyspace:
		next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), v)))
	case v.Code == CodeRateLimited:
		retry := 1
		if v.RateLimit != nil && v.RateLimit.RetryAfter > 1 {
			retry = v.RateLimit.RetryAfter
		}
		w.Header().Set("Retry-After", strconv.Itoa(retry))
		writeProblem(w, http.StatusTooManyRequests, ProblemRateLimited, rateLimitedDetail(v.RateLimit, retry))
	case v.Code == CodeForbidden:
		g.forbidden(w, v, req)
	case v.Code == CodeRevoked:
		g.unauthorized(w, ProblemRevoked, "invalid_token", "this API key has been revoked")
	case v.Code == CodeExpired:
		detail := "this API key has expired"
		if v.ExpiresAt != nil {
			detail = "this API key expired at " + v.ExpiresAt.UTC().Format(time.RFC3339)
		}
		g.unauthorized(w, ProblemExpired, "invalid_token", detail)
	default: // NOT_FOUND, or a code this package does not know: refused all the same
		g.unauthorized(w, ProblemInvalidKey, "invalid_token", "invalid API key")
	}
}

// key returns the request's key. found is false when the request carries
// none (for Bearer: no Authorization header, or one of another scheme, which
// RFC 6750 §3.1 treats alike); key is "" when what it carries cannot be one.
func (g *guard) key(r *http.Request) (key string, found bool) {
	name := g.header
	if name == "" {
		name = "Authorization"
	}
	values := r.Header.Values(name)
	if len(values) == 0 || len(values) == 1 && strings.TrimSpace(values[0]) == "" {
		return "", false
	}
	if len(values) > 1 {
		return "", true
	}
	v := strings.TrimSpace(values[0])
	if g.header == "" {
		scheme, token, ok := strings.Cut(v, " ")
		if !strings.EqualFold(scheme, "Bearer") {
			return "", false
		}
		if !ok {
			return "", true
		}
		v = strings.TrimSpace(token)
	}
	if !plausibleKey(v) {
		return "", true
	}
	return v, true
}

// plausibleKey reports whether s could be a key: 1 to MaxKeyBytes characters
// of the token68 syntax (RFC 9110 §11.2), which Hookline's keys (a prefix, an
// underscore and base62) are a part of. Anything else is refused without
// asking Hookline.
func plausibleKey(s string) bool {
	if s == "" || len(s) > MaxKeyBytes {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~+/=", c) >= 0) {
			return false
		}
	}
	return true
}

func (g *guard) missingDetail() string {
	if g.header == "" {
		return "missing API key: send it as Authorization: Bearer <key>"
	}
	return "missing API key: send it in the " + g.header + " header"
}

// challenge is the WWW-Authenticate value; code and scope are RFC 6750's
// error and scope attributes, for Bearer only.
func (g *guard) challenge(code string, scope []string) string {
	if g.header != "" {
		return "APIKey realm=" + quote(g.realm) + ", header=" + quote(g.header)
	}
	c := "Bearer realm=" + quote(g.realm)
	if code != "" {
		c += `, error="` + code + `"`
	}
	if s := strings.Join(scope, " "); s != "" && isScope(s) {
		c += ", scope=" + quote(s)
	}
	return c
}

func (g *guard) unauthorized(w http.ResponseWriter, typ, code, detail string) {
	w.Header().Set("WWW-Authenticate", g.challenge(code, nil))
	writeProblem(w, http.StatusUnauthorized, typ, detail)
}

func (g *guard) forbidden(w http.ResponseWriter, v *Verification, req Request) {
	var missing []string
	for _, p := range req.Permissions {
		if !v.Has(p) {
			missing = append(missing, p)
		}
	}
	var detail string
	switch {
	case len(missing) == 1:
		detail = fmt.Sprintf("this API key lacks the permission %q", missing[0])
	case len(missing) > 1:
		detail = "this API key lacks the permissions " + quoteList(missing)
	case req.Resource != "" && !v.CanAccess(req.Resource):
		detail = fmt.Sprintf("this API key is not allowed to act on %q", req.Resource)
	default:
		detail = "this API key is not allowed to make this request"
	}
	if g.header == "" {
		w.Header().Set("WWW-Authenticate", g.challenge("insufficient_scope", missing))
	}
	writeProblem(w, http.StatusForbidden, ProblemForbidden, detail)
}

func (g *guard) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	if g.onError != nil && r.Context().Err() == nil {
		g.onError(r, err)
	}
	retry := UnavailableRetryAfter
	if he, ok := errors.AsType[*Error](err); ok && he.RetryAfter > 0 {
		retry = he.RetryAfter
	}
	w.Header().Set("Retry-After", strconv.Itoa(int((retry+time.Second-1)/time.Second)))
	writeProblem(w, http.StatusServiceUnavailable, ProblemUnavailable, "API keys cannot be verified right now; retry shortly")
}

// setRateLimit writes the key's allowance in the fields of
// draft-ietf-httpapi-ratelimit-headers-11 §3 and §4
// (https://datatracker.ietf.org/doc/draft-ietf-httpapi-ratelimit-headers/):
// RateLimit-Policy is a List of Items, each a String naming the policy with
// the parameters q (quota, an Integer) and w (window, Integer seconds);
// RateLimit names the same policy with r (remaining quota) and t (seconds,
// delay-seconds like Retry-After). And in the common X-RateLimit-* fields,
// whose Reset is a number of seconds too.
func setRateLimit(h http.Header, s *RateLimitState) {
	if s == nil {
		return
	}
	policy := `"default";q=` + strconv.Itoa(max(s.Limit, 0))
	if w := int64(s.WindowDuration() / time.Second); w > 0 {
		policy += ";w=" + strconv.FormatInt(w, 10)
	}
	remaining, reset := strconv.Itoa(max(s.Remaining, 0)), strconv.Itoa(max(s.Reset, 0))
	h.Set("RateLimit-Policy", policy)
	h.Set("RateLimit", `"default";r=`+remaining+";t="+reset)
	h.Set("X-RateLimit-Limit", strconv.Itoa(max(s.Limit, 0)))
	h.Set("X-RateLimit-Remaining", remaining)
	h.Set("X-RateLimit-Reset", reset)
}

func rateLimitedDetail(s *RateLimitState, retry int) string {
	if s == nil {
		return fmt.Sprintf("this API key is over its rate limit; retry in %d s", retry)
	}
	return fmt.Sprintf("this API key is limited to %d requests per %s; retry in %d s", s.Limit, windowText(s), retry)
}

// windowText writes a window in its largest whole unit: "1h", "30d", "90s".
func windowText(s *RateLimitState) string {
	d := s.WindowDuration()
	for _, u := range []struct {
		d    time.Duration
		name string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "min"}, {time.Second, "s"}} {
		if d > 0 && d%u.d == 0 {
			return strconv.FormatInt(int64(d/u.d), 10) + u.name
		}
	}
	return s.Window
}

// problem is an RFC 9457 problem document.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
}

func writeProblem(w http.ResponseWriter, status int, typ, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // an API's answer, not HTML: <key> stays <key>
	_ = enc.Encode(problem{Type: typ, Title: http.StatusText(status), Status: status, Detail: detail})
}

// quote writes s as an RFC 9110 quoted-string.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}

// isToken reports whether s is an RFC 9110 token (a header name).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// isScope reports whether s may be RFC 6750's scope attribute: characters
// %x20-21 / %x23-5B / %x5D-7E.
func isScope(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}
