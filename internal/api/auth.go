package api

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/apikey"
	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/portal"
	"github.com/hookline/hookline/internal/store"
)

// keyCache keeps API keys by the hash of their secret (newKeyCache).
type keyCache = ttlCache[*hookline.APIKey]

// newKeyCache keeps recently verified keys, by hash, so that a busy
// publisher does not cost a database read per request. A key deleted
// through this process is forgotten at once (forgetKey); elsewhere within
// the TTL.
func newKeyCache(s store.Store, ttl time.Duration) *keyCache {
	return newTTLCache(ttl, func(ctx context.Context, hash string) (*hookline.APIKey, error) {
		return s.APIKeyGetByHash(ctx, []byte(hash))
	})
}

// forgetKey drops the key with that id from the cache.
func (h *handler) forgetKey(id string) {
	h.keys.forget(func(_ string, k *hookline.APIKey) bool { return k.ID == id })
}

// authFailuresPerMinute is how many failed authentications one client address
// (an IPv6 client's /64) may make per minute; more failures get 429s. Requests
// with a valid key are never throttled, so one misconfigured client behind a
// NAT or proxy does not lock out the others.
const authFailuresPerMinute = 30

// authenticate resolves the request's bearer key.
func (h *handler) authenticate(r *http.Request) (*hookline.APIKey, error) {
	secret, _ := bearer(r.Header.Get("Authorization"))
	return h.authenticateKey(r, secret)
}

// authenticateKey resolves a key given by the client of r (empty for none),
// under the same throttle of failures as the API's: the console's login form
// takes the same path.
func (h *handler) authenticateKey(r *http.Request, secret string) (*hookline.APIKey, error) {
	client := clientAddr(r)
	if secret != "" {
		key, err := h.lookupKey(r.Context(), secret)
		if err == nil {
			return key, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		if ok, _ := h.refusedLog.allow(client, 1, h.now()); ok {
			// A key that is not there is most often a key from another
			// database or a typo: say so once a minute per client, so "every
			// request is 401" has a line to find, without the key itself.
			h.log.Info("refused an API key that is not in the database; requests with it get 401", "client", client,
				"key_start", keyStart(secret), "request_id", requestID(r))
		}
	}
	if wait := h.authFail.wait(client, authFailuresPerMinute, h.now()); wait > 0 {
		h.metrics.RateLimited.Inc()
		return nil, &httpError{status: http.StatusTooManyRequests, kind: "rate-limited",
			detail: "too many failed authentications from this address", retryAfter: wait}
	}
	h.authFail.allow(client, authFailuresPerMinute, h.now())
	return nil, errUnauthorized
}

// lookupKey finds the stored key of secret. The operator's HOOKLINE_ADMIN_KEY
// works while it is set even if someone deleted it: it is stored again.
func (h *handler) lookupKey(ctx context.Context, secret string) (*hookline.APIKey, error) {
	hash := h.hasher.Hash(secret)
	key, err := h.keys.get(ctx, string(hash))
	if !errors.Is(err, store.ErrNotFound) || !h.isOperatorKey(secret) {
		return key, err
	}
	installed, err := apikey.EnsureAdmin(ctx, h.store, h.hasher, secret, h.now())
	if err != nil {
		return nil, err
	}
	if installed {
		h.log.Warn("HOOKLINE_ADMIN_KEY was not in the database (deleted?); stored it again as an admin key", "request_id", requestIDFrom(ctx))
	}
	return h.keys.get(ctx, string(hash))
}

// consoleKey resolves the key of the console's sign-in form: as the API
// would, with its errors in the portal's terms.
func (h *handler) consoleKey(r *http.Request, secret string) (*hookline.APIKey, error) {
	k, err := h.authenticateKey(r, secret)
	var he *httpError
	if errors.As(err, &he) {
		if he.status == http.StatusTooManyRequests {
			return nil, portal.ErrTooManyFailures
		}
		return nil, hookline.ErrNotFound
	}
	return k, err
}

// isOperatorKey reports whether secret is the configured HOOKLINE_ADMIN_KEY, in
// constant time.
func (h *handler) isOperatorKey(secret string) bool {
	return h.cfg.AdminKey != "" && subtle.ConstantTimeCompare([]byte(secret), []byte(h.cfg.AdminKey)) == 1
}

// keyStart is as much of a key as logs may show: its first 7 characters
// (hl_ and 4 more, what key lists show as prefix), none of a short one.
func keyStart(secret string) string {
	if len(secret) < 20 {
		return ""
	}
	return secret[:7] + "…"
}

// bearer returns the token of an Authorization header using the Bearer scheme,
// whose name is case-insensitive (RFC 9110 §11.1).
func bearer(auth string) (string, bool) {
	scheme, token, ok := strings.Cut(auth, " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return token, true
}

// clientAddr is who the failed-authentication throttle counts: the client's
// IPv4 address, or the /64 of its IPv6 address (one host can use a whole /64,
// so counting single IPv6 addresses would not throttle anyone).
func clientAddr(r *http.Request) string {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	ip := ap.Addr().Unmap()
	if ip.Is6() {
		p, _ := ip.WithZone("").Prefix(64)
		return p.String()
	}
	return ip.String()
}

// rateLimit takes n tokens (one per request, one per event of a batch) from
// the key's hourly request limit: its own, or for a tenant-limited key the
// server default; other keys are unlimited by default. A limited key's answer
// says where its bucket stands (setRateLimitHeaders), refused or not.
func (h *handler) rateLimit(w http.ResponseWriter, r *http.Request, k *hookline.APIKey, n int) error {
	limit := k.EffectiveRateLimit(h.cfg.TenantKeyRateLimit)
	if limit <= 0 {
		return nil
	}
	if n > limit {
		// A full bucket could never pay for it: waiting would not help.
		msg := fmt.Sprintf("%d events are more than this API key's limit of %d per hour; send at most %d at once", n, limit, limit)
		return &httpError{status: http.StatusUnprocessableEntity, kind: "limit", field: "events", message: msg, detail: "events: " + msg}
	}
	var (
		ok   bool
		left float64
		wait time.Duration
	)
	if shared, isShared := h.store.(store.RateLimiter); isShared {
		// Several nodes: the bucket lives in the database.
		var err error
		if ok, left, wait, err = shared.RateLimitTake(r.Context(), "key:"+k.ID, n, limit, rateWindow, h.now()); err != nil {
			return err
		}
	} else {
		ok, left, wait = h.limits.allowN(k.ID, n, limit, h.now())
	}
	setRateLimitHeaders(w.Header(), limit, left)
	if !ok {
		h.metrics.RateLimited.Inc()
		detail := fmt.Sprintf("this API key is limited to %d requests per hour", limit)
		if n > 1 {
			detail += fmt.Sprintf(", and this batch costs %d (one per event)", n)
		}
		return &httpError{status: http.StatusTooManyRequests, kind: "rate-limited", detail: detail, retryAfter: wait}
	}
	return nil
}

// rateWindow is the window of an API key's request limit: its limit is per
// hour, refilled evenly.
const rateWindow = time.Hour

// setRateLimitHeaders tells a limited key's client where its bucket stands,
// in the IETF fields (draft-ietf-httpapi-ratelimit-headers: the policy, a
// quota q per window w, and what remains, r, with the seconds t until the
// bucket is full again) and in the common X-RateLimit-* ones, whose Reset is
// the same t: seconds from now, not a date. Remaining is whole requests: the
// bucket refills continuously, so a fraction left counts as none.
func setRateLimitHeaders(hd http.Header, limit int, left float64) {
	remaining := max(0, int(left))
	rate := float64(limit) / rateWindow.Seconds()
	reset := int(math.Ceil((float64(limit) - max(0, left)) / rate))
	window := int(rateWindow.Seconds())
	hd.Set("RateLimit-Policy", fmt.Sprintf(`"hourly";q=%d;w=%d`, limit, window))
	hd.Set("RateLimit", fmt.Sprintf(`"hourly";r=%d;t=%d`, remaining, reset))
	hd.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	hd.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	hd.Set("X-RateLimit-Reset", strconv.Itoa(reset))
}

// scopedTenant returns the tenant a request acts on: the key's tenant if it is
// limited to one (another tenant named in the request is refused), else the
// requested one, else the default.
func scopedTenant(r *http.Request, requested string) (string, error) {
	k := apiKey(r)
	if k.Tenant != "" {
		if requested != "" && requested != k.Tenant {
			return "", errField(http.StatusForbidden, "tenant", fmt.Sprintf("this API key is limited to tenant %q", k.Tenant))
		}
		return k.Tenant, nil
	}
	if requested == "" {
		return DefaultTenant, nil
	}
	return requested, hookline.ValidateTenant("tenant", requested)
}

// listTenant is the tenant filter of a list: forced to the key's tenant when it
// is limited to one.
func listTenant(r *http.Request) string {
	if t := apiKey(r).Tenant; t != "" {
		return t
	}
	return r.URL.Query().Get("tenant")
}

// visible hides another tenant's object behind a 404, so a tenant-limited key
// cannot even learn that it exists.
func visible(r *http.Request, tenant string) error {
	if !apiKey(r).SeesTenant(tenant) {
		return errNotFound
	}
	return nil
}
