// Package api is Hookline's REST API (SPEC §2): one routes table, one auth and
// scope middleware, short handlers per noun, and one function that turns errors
// into RFC 9457 problem responses.
package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/apikey"
	"github.com/hookline/hookline/internal/config"
	"github.com/hookline/hookline/internal/delivery"
	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/keyring"
	"github.com/hookline/hookline/internal/logthrottle"
	"github.com/hookline/hookline/internal/metrics"
	"github.com/hookline/hookline/internal/portal"
	"github.com/hookline/hookline/internal/profile"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/webhooks"
)

// DefaultTenant is the tenant of objects created without one by a key that is not
// limited to a tenant.
const DefaultTenant = "default"

// Options are the API's dependencies.
type Options struct {
	Store   store.Store
	Engine  *delivery.Engine
	Config  config.Config
	Metrics *metrics.Metrics
	Logger  *slog.Logger
	// Profiles are the wire-format profiles; the engine's when nil.
	Profiles *profile.Registry
	// Hasher hashes API keys as the store keeps them. Required.
	Hasher *apikey.Hasher
	// Keyring holds the key spaces of the product's own API keys; one over
	// Store when nil (its last-used times are then not written: the server
	// passes its own, which it runs).
	Keyring *keyring.Ring
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

type handler struct {
	store    store.Store
	engine   *delivery.Engine
	cfg      config.Config
	metrics  *metrics.Metrics
	profiles *profile.Registry
	log      *slog.Logger
	now      func() time.Time
	hasher   *apikey.Hasher
	ring     *keyring.Ring
	portal   *portal.Portal
	webhooks *webhooks.Service
	keys     *keyCache
	schemas  *schemaCache
	limits   *rateLimiter
	authFail *rateLimiter
	// refusedLog allows one log line per client a minute about keys refused.
	refusedLog *rateLimiter
}

// New returns the API's http.Handler.
func New(o Options) http.Handler {
	if o.Now == nil {
		o.Now = time.Now
	}
	clock := o.Now
	// Stored times have millisecond precision; answers should show what is stored.
	o.Now = func() time.Time { return clock().UTC().Truncate(time.Millisecond) }
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	// In an outage every request fails alike: a line at once, then a count
	// every few seconds, not one line per request.
	o.Logger = logthrottle.Wrap(o.Logger, logthrottle.Options{Level: slog.LevelWarn})
	if o.Hasher == nil {
		panic("api: Options.Hasher is required")
	}
	if o.Profiles == nil {
		o.Profiles = o.Engine.Profiles()
	}
	if o.Keyring == nil {
		o.Keyring = keyring.New(keyring.Options{Store: o.Store, Hasher: o.Hasher, Logger: o.Logger, Now: clock})
	}
	hooks := webhooks.New(webhooks.Options{Store: o.Store, Engine: o.Engine, Profiles: o.Profiles, MaxPerTenant: o.Config.MaxWebhooksPerTenant, DefaultProfile: o.Config.DefaultProfile, Now: clock})
	var h *handler
	port := portal.New(portal.Options{Store: o.Store, Hasher: o.Hasher, Webhooks: hooks, Keyring: o.Keyring, Profiles: o.Profiles,
		Authenticate:   func(r *http.Request, key string) (*hookline.APIKey, error) { return h.consoleKey(r, key) },
		Metrics:        o.Metrics.Registry,
		FrameAncestors: o.Config.PortalFrameAncestors, Logger: o.Logger, Now: clock})
	h = &handler{
		store: o.Store, engine: o.Engine, cfg: o.Config, metrics: o.Metrics, log: o.Logger, now: o.Now, profiles: o.Profiles, hasher: o.Hasher, ring: o.Keyring,
		portal: port, webhooks: hooks,
		keys:       newKeyCache(o.Store, 5*time.Second),
		schemas:    newSchemaCache(o.Store, 5*time.Second),
		limits:     newRateLimiter(time.Hour),
		authFail:   newRateLimiter(time.Minute),
		refusedLog: newRateLimiter(time.Minute),
	}
	mux := http.NewServeMux()
	for _, rt := range routes {
		mux.Handle(rt.pattern, h.wrap(rt))
	}
	mux.Handle("/portal/", port)
	mux.Handle("/console/", port)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if allow := allowedMethods(mux, r); len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			h.error(w, r, errStatus(http.StatusMethodNotAllowed, "method-not-allowed",
				fmt.Sprintf("%s does not accept %s; it accepts %s", r.URL.Path, r.Method, strings.Join(allow, ", "))))
			return
		}
		h.error(w, r, errStatus(http.StatusNotFound, "not-found", fmt.Sprintf("no route %s %s; see /docs", r.Method, r.URL.Path)))
	})
	return withRequestID(writeDeadline(o.Config.WriteTimeout, canonicalPaths(mux)))
}

// allowedMethods returns the methods the routes table serves at r's path. The
// catch-all "/" route hides ServeMux's own 405 answers, so they are rebuilt here.
func allowedMethods(mux *http.ServeMux, r *http.Request) []string {
	var allow []string
	// HEAD is served wherever GET is (ServeMux), so Allow names it too.
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := &http.Request{Method: m, URL: r.URL, Host: r.Host}
		if _, pattern := mux.Handler(probe); pattern != "" && pattern != "/" {
			allow = append(allow, m)
		}
	}
	return allow
}

// wrap adds, around one route: panic recovery, metrics, authentication, the
// key's rate limit (one token, unless the route takes it itself), the scope
// check, the check of the request's form (checkRequest: the query
// parameters the route takes, a JSON body), and a POST's Idempotency-Key
// (idempotent).
func (h *handler) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			if v := recover(); v != nil {
				h.log.Error("panic serving request", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()), "request_id", requestID(r))
				if !sw.wrote {
					h.error(sw, r, fmt.Errorf("panic: %v", v))
				}
			}
			h.metrics.HTTPRequests.WithLabelValues(rt.pattern, fmt.Sprint(sw.status)).Inc()
			h.metrics.HTTPDuration.WithLabelValues(rt.pattern).Observe(time.Since(start).Seconds())
			if sw.status < 300 && r.Method != http.MethodGet && r.Method != http.MethodHead {
				// A write went through: storage is back, if it was away.
				logthrottle.Resolved(r.Context(), h.log, msgUnavailable, "storage is available again; requests succeed")
			}
		}()
		if rt.scope == "" {
			if err := checkRequest(r, queryParams[rt.pattern]); err != nil {
				h.error(sw, r, err)
				return
			}
			rt.handle(h, sw, r)
			return
		}
		key, err := h.authenticate(r)
		if err != nil {
			h.error(sw, r, err)
			return
		}
		if !selfLimited[rt.pattern] {
			if err := h.rateLimit(sw, r, key, 1); err != nil {
				h.error(sw, r, err)
				return
			}
		}
		if !key.Allows(rt.scope) {
			h.error(sw, r, errStatus(http.StatusForbidden, "forbidden", fmt.Sprintf("this API key lacks the %q scope", rt.scope)))
			return
		}
		if err := checkRequest(r, queryParams[rt.pattern]); err != nil {
			h.error(sw, r, err)
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), keyContext{}, key))
		if _, sent := r.Header["Idempotency-Key"]; sent && r.Method == http.MethodPost && !ownIdempotency[rt.pattern] {
			h.idempotent(sw, r, key, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { rt.handle(h, w, r) }))
			return
		}
		rt.handle(h, sw, r)
	})
}

type keyContext struct{}

// apiKey returns the authenticated key of a request.
func apiKey(r *http.Request) *hookline.APIKey {
	k, _ := r.Context().Value(keyContext{}).(*hookline.APIKey)
	return k
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
