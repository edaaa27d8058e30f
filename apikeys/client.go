package apikeys

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Verification codes: what Hookline says of a key (Verification.Code).
const (
	CodeValid       = "VALID"
	CodeNotFound    = "NOT_FOUND" // not a key, a key never issued, or a key of another key space
	CodeRevoked     = "REVOKED"
	CodeExpired     = "EXPIRED"
	CodeForbidden   = "FORBIDDEN"    // lacks a permission asked for, or is limited to other resources
	CodeRateLimited = "RATE_LIMITED" // over its rate limit; RateLimit.RetryAfter says for how long
)

// DefaultTimeout bounds a verification when NewClient is given no
// *http.Client: a Hookline that hangs must not hang the product's API.
const DefaultTimeout = 5 * time.Second

// maxAnswer bounds what is read of Hookline's answer.
const maxAnswer = 1 << 20

// Client asks Hookline what a key is worth (POST /v1/keys/verify). It is safe
// for concurrent use. Make it with NewClient.
type Client struct {
	endpoint string
	auth     *string // "Bearer <key>", behind a pointer so that printing a Client does not show it
	hc       *http.Client
}

// NewClient returns a Client for the Hookline at baseURL (such as
// "http://127.0.0.1:8080") that authenticates with apiKey, a Hookline API
// key holding the keys:verify scope. httpClient may be nil: then a client
// with DefaultTimeout is used.
func NewClient(baseURL, apiKey string, httpClient *http.Client) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("apikeys: Hookline URL %q is not an absolute http or https URL", baseURL)
	}
	if apiKey == "" {
		return nil, errors.New("apikeys: no Hookline API key (it needs the keys:verify scope)")
	}
	if httpClient == nil {
		httpClient = &http.Client{Timeout: DefaultTimeout}
	}
	auth := "Bearer " + apiKey
	return &Client{endpoint: strings.TrimSuffix(u.String(), "/") + "/v1/keys/verify", auth: &auth, hc: httpClient}, nil
}

// String names the Hookline the client asks, never its key.
func (c *Client) String() string { return "apikeys.Client(" + c.endpoint + ")" }

// GoString is String, so that %#v does not show the key either.
func (c *Client) GoString() string { return c.String() }

// Request asks what a key is worth for one request of the product's API.
type Request struct {
	// Key is the key the request carried.
	Key string `json:"key"`
	// Keyspace, when set, is the only key space the key may be of: a key of
	// another one is CodeNotFound. Always set it on an API server, so that a
	// key of another product's API is not accepted.
	Keyspace string `json:"keyspace,omitempty"`
	// Permissions the request needs, all of them.
	Permissions []string `json:"permissions,omitempty"`
	// Resource the request acts on, such as "form:123"; a key limited to
	// resources must list it. Empty when it acts on none in particular: a
	// key limited to resources is then not refused for that.
	Resource string `json:"resource,omitempty"`
}

// Verification is Hookline's answer: Valid with CodeValid, or the code that
// says why not. A key that exists is described whatever its code.
type Verification struct {
	Valid       bool              `json:"valid"`
	Code        string            `json:"code"`
	KeyID       string            `json:"key_id,omitempty"`
	Keyspace    string            `json:"keyspace,omitempty"`
	Tenant      string            `json:"tenant,omitempty"`
	Name        string            `json:"name,omitempty"`
	Permissions []string          `json:"permissions,omitempty"`
	Resources   []string          `json:"resources,omitempty"`
	Meta        map[string]string `json:"meta,omitempty"`
	ExpiresAt   *time.Time        `json:"expires_at,omitempty"`
	// RateLimit is the key's allowance after this request, when it has a
	// limit and is otherwise valid (CodeValid or CodeRateLimited).
	RateLimit *RateLimitState `json:"rate_limit,omitempty"`
}

// Has reports whether the key holds permission.
func (v *Verification) Has(permission string) bool {
	for _, p := range v.Permissions {
		if p == permission {
			return true
		}
	}
	return false
}

// CanAccess reports whether the key may act on resource: it is limited to no
// resources, or lists this one. A handler that serves several resources at
// once (a list) filters them with it.
func (v *Verification) CanAccess(resource string) bool {
	if len(v.Resources) == 0 {
		return true
	}
	for _, r := range v.Resources {
		if r == resource {
			return true
		}
	}
	return false
}

// RateLimitState is a key's allowance after a request.
type RateLimitState struct {
	// Limit is how many requests the key may make per Window.
	Limit int `json:"limit"`
	// Remaining is how many it may still make now.
	Remaining int `json:"remaining"`
	// Reset is the number of seconds until the allowance is whole again.
	Reset int `json:"reset"`
	// RetryAfter is, for a request refused (CodeRateLimited), the number of
	// seconds until one would be allowed.
	RetryAfter int `json:"retry_after,omitempty"`
	// Window is written as Hookline writes durations: "1h", "90s", "30d".
	Window string `json:"window"`
	// Per is whose allowance it is: "key" (each key's own) or "tenant" (one
	// shared by the tenant's keys of the key space).
	Per string `json:"per"`
}

// WindowDuration is Window as a time.Duration; 0 if it cannot be read.
func (s *RateLimitState) WindowDuration() time.Duration {
	if days, ok := strings.CutSuffix(s.Window, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 {
			return 0
		}
		return time.Duration(n) * 24 * time.Hour
	}
	d, err := time.ParseDuration(s.Window)
	if err != nil || d < 0 {
		return 0
	}
	return d
}

// Error is Hookline's refusal to answer a verification: any status but 200,
// with the RFC 9457 problem it sent. 401 and 403 mean the Client's own key is
// wrong or lacks keys:verify; 429 and 503 that Hookline asks to come back
// after RetryAfter.
type Error struct {
	StatusCode int
	Type       string
	Title      string
	Detail     string
	// RetryAfter is Hookline's Retry-After, when it sent one.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("apikeys: Hookline answered %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// Verify asks Hookline what req.Key is worth. A valid verification counts
// one request against the key's rate limit.
//
// The error is only for a verification Hookline did not answer: it could not
// be reached, it answered another status than 200 (an *Error), or its answer
// could not be read. A key that is not valid is a Verification with the code
// that says why, and a nil error. No error shows the key.
func (c *Client) Verify(ctx context.Context, req Request) (*Verification, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("apikeys: %w", err)
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("apikeys: %w", err)
	}
	hr.Header.Set("Authorization", *c.auth)
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Accept", "application/json")
	res, err := c.hc.Do(hr)
	if err != nil {
		return nil, fmt.Errorf("apikeys: verifying with Hookline: %w", redact(err, req.Key))
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, maxAnswer))
	if err != nil {
		return nil, fmt.Errorf("apikeys: reading Hookline's answer: %w", redact(err, req.Key))
	}
	if res.StatusCode != http.StatusOK {
		return nil, errorOf(res, raw, req.Key)
	}
	var v Verification
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("apikeys: Hookline's answer is not a verification: %w", err)
	}
	if v.Code == "" {
		return nil, errors.New("apikeys: Hookline's answer has no code")
	}
	return &v, nil
}

// errorOf reads a problem answer into an *Error.
func errorOf(res *http.Response, raw []byte, key string) *Error {
	e := &Error{StatusCode: res.StatusCode}
	var p struct {
		Type   string `json:"type"`
		Title  string `json:"title"`
		Detail string `json:"detail"`
	}
	if json.Unmarshal(raw, &p) == nil {
		e.Type, e.Title, e.Detail = p.Type, p.Title, p.Detail
	}
	if key != "" {
		e.Detail = strings.ReplaceAll(e.Detail, key, "[key]")
	}
	if s, err := strconv.Atoi(strings.TrimSpace(res.Header.Get("Retry-After"))); err == nil && s > 0 {
		e.RetryAfter = time.Duration(s) * time.Second
	}
	return e
}

// redact hides key in err's message, should anything below have put it there.
func redact(err error, key string) error {
	if key == "" || !strings.Contains(err.Error(), key) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), key, "[key]"))
}
