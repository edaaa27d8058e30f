// Package portal is the tenant portal: the "API & Webhooks" page a product
// embeds for its customer, served from the binary. The product's backend
// creates a session for a tenant (POST /v1/portal-sessions) and gets a URL
// with a single-use login token; the browser exchanges it for a session
// cookie and is sent on to a clean URL, so the token stays in no history and
// no log. Pages are html/template from embed.FS, with a strict
// Content-Security-Policy (per-response nonces) and a CSRF token on every
// form; a session sees its tenant's objects only.
package portal

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/base64"
	"errors"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hookline/hookline/internal/apikey"
	"github.com/hookline/hookline/internal/chart"
	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/keyring"
	"github.com/hookline/hookline/internal/profile"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/webhooks"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Options configure the portal.
type Options struct {
	Store store.Store
	// Hasher hashes login tokens and session cookies as the store keeps
	// them (the API keys' hasher: a pepper from the secret key).
	Hasher *apikey.Hasher
	// Webhooks manages webhooks and their deliveries, as the API does.
	Webhooks *webhooks.Service
	// Keyring issues and revokes the tenant's keys of the product's API.
	Keyring *keyring.Ring
	// Profiles are the wire-format profiles a webhook may use.
	Profiles *profile.Registry
	// Authenticate resolves an API key for the console's sign-in form, under
	// the API's throttle of failures: hookline.ErrNotFound for an unknown
	// key, ErrTooManyFailures when throttled. Without it the console cannot
	// be signed in to.
	Authenticate func(r *http.Request, key string) (*hookline.APIKey, error)
	// Metrics are the figures the console's health page shows; none when nil.
	Metrics prometheus.Gatherer
	// FrameAncestors are the origins allowed to show the portal in a frame
	// (the product's own, such as https://app.example.com); none by default.
	FrameAncestors []string
	Logger         *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Portal serves the tenant portal under /portal/.
type Portal struct {
	store          store.Store
	hasher         *apikey.Hasher
	webhooks       *webhooks.Service
	ring           *keyring.Ring
	profiles       *profile.Registry
	authenticate   func(r *http.Request, key string) (*hookline.APIKey, error)
	metrics        prometheus.Gatherer
	frameAncestors string
	log            *slog.Logger
	now            func() time.Time
	templates      *template.Template
	mux            *http.ServeMux
}

// New returns the portal.
func New(o Options) *Portal {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	fa := "'none'"
	if len(o.FrameAncestors) > 0 {
		fa = strings.Join(o.FrameAncestors, " ")
	}
	p := &Portal{
		store: o.Store, hasher: o.Hasher, webhooks: o.Webhooks, ring: o.Keyring, profiles: o.Profiles, authenticate: o.Authenticate, metrics: o.Metrics, frameAncestors: fa, log: o.Logger.With("component", "portal"), now: o.Now,
		templates: template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "templates/*.html")),
		mux:       http.NewServeMux(),
	}
	static, _ := fs.Sub(staticFS, "static")
	p.mux.Handle("GET /portal/static/", http.StripPrefix("/portal/static/", http.FileServerFS(static)))
	p.mux.HandleFunc("GET /portal/chart.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		_, _ = io.WriteString(w, chart.CSS)
	})
	p.mux.HandleFunc("GET /portal/login", p.login)
	for _, st := range []*site{portalSite, consoleSite} {
		routes := p.pages()
		if st.operator {
			routes = append(routes, p.consolePages()...)
		}
		for _, rt := range routes {
			method, path, _ := strings.Cut(rt.pattern, " ")
			p.mux.HandleFunc(method+" "+st.base+path, p.withSession(rt.capability, rt.handle))
		}
	}
	p.mux.HandleFunc("GET /console/login", func(w http.ResponseWriter, r *http.Request) { p.consoleLoginForm(w, r, http.StatusOK, "") })
	p.mux.HandleFunc("POST /console/login", p.consoleLogin)
	notFound := func(w http.ResponseWriter, r *http.Request) {
		p.render(w, r, http.StatusNotFound, "message", page{Title: "not_found", Message: "not_found_text"})
	}
	p.mux.HandleFunc("/portal/", notFound)
	p.mux.HandleFunc("/console/", notFound)
	return p
}

// route is a page: its pattern under the site's base, the capability it
// needs, and its handler.
type route struct {
	pattern, capability string
	handle              http.HandlerFunc
}

// pages are the pages the portal and the console share.
func (p *Portal) pages() []route {
	return []route{
		{"GET {$}", hookline.CapView, p.webhookList},
		{"GET webhooks/new", hookline.CapManageWebhooks, p.webhookNew},
		{"POST webhooks", hookline.CapManageWebhooks, p.webhookCreate},
		{"GET webhooks/{id}", hookline.CapView, p.webhookShow},
		{"GET webhooks/{id}/edit", hookline.CapManageWebhooks, p.webhookEdit},
		{"POST webhooks/{id}", hookline.CapManageWebhooks, p.webhookUpdate},
		{"POST webhooks/{id}/active", hookline.CapManageWebhooks, p.webhookActive},
		{"GET webhooks/{id}/delete", hookline.CapManageWebhooks, p.webhookDeleteConfirm},
		{"POST webhooks/{id}/delete", hookline.CapManageWebhooks, p.webhookDelete},
		{"POST webhooks/{id}/test", hookline.CapManageWebhooks, p.webhookTest},
		{"POST webhooks/{id}/secret", hookline.CapSecrets, p.webhookSecret},
		{"POST webhooks/{id}/rotate", hookline.CapSecrets, p.webhookRotate},
		{"GET webhooks/{id}/recover", hookline.CapRetry, p.webhookRecoverConfirm},
		{"POST webhooks/{id}/recover", hookline.CapRetry, p.webhookRecover},
		{"GET deliveries", hookline.CapView, p.deliveryList},
		{"GET deliveries/{id}", hookline.CapView, p.deliveryShow},
		{"POST deliveries/{id}/retry", hookline.CapRetry, p.deliveryRetry},
		{"GET keys", hookline.CapManageKeys, p.keyList},
		{"POST keys", hookline.CapManageKeys, p.keyCreate},
		{"POST keys/{keyspace}/{id}/revoke", hookline.CapManageKeys, p.keyRevoke},
		{"POST logout", hookline.CapView, p.logout},
	}
}

// site is one of the two faces of the package: the tenant portal, whose
// sessions are of one tenant, or the operator console, whose sessions see
// every tenant. Each has its own cookie, for its own path: a session of one
// is never taken by the other.
type site struct {
	base     string // the path it is served under
	cookie   string // the name of its session cookie
	operator bool   // its sessions see every tenant (Tenant "")
}

var (
	portalSite  = &site{base: "/portal/", cookie: "hookline_portal"}
	consoleSite = &site{base: "/console/", cookie: "hookline_console", operator: true}
)

// siteOf is the site a request is for.
func siteOf(r *http.Request) *site {
	if strings.HasPrefix(r.URL.Path, consoleSite.base) {
		return consoleSite
	}
	return portalSite
}

// base is the path of the request's site, to build links and redirects.
func base(r *http.Request) string { return siteOf(r).base }

// ServeHTTP serves /portal/ and /console/ with their security headers.
func (p *Portal) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer") // the login URL's token must not leak to a logo's host
	h.Set("Cache-Control", "no-store")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	p.mux.ServeHTTP(w, r)
}

// login exchanges a login token for a session cookie and redirects to the
// portal's clean URL. A token works once.
func (p *Portal) login(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	if !strings.HasPrefix(token, tokenPrefix) {
		p.render(w, r, http.StatusUnauthorized, "message", page{Title: "link_invalid", Message: "link_invalid_text"})
		return
	}
	cookie := secret()
	s, err := p.store.PortalSessionLogin(r.Context(), p.hasher.Hash(token), p.hasher.Hash(cookie), p.now())
	switch {
	case errors.Is(err, hookline.ErrNotFound):
		p.render(w, r, http.StatusUnauthorized, "message", page{Title: "link_invalid", Message: "link_invalid_text"})
		return
	case err != nil:
		p.fail(w, r, err)
		return
	}
	http.SetCookie(w, p.sessionCookie(r, cookie, s.ExpiresAt))
	http.Redirect(w, r, "/portal/", http.StatusSeeOther)
}

// HTTPS reports whether the browser reached the server over TLS: its own,
// or a proxy's that says so in X-Forwarded-Proto (a client that lies about
// it only makes its own cookie Secure, which then does not come back over
// plain HTTP).
func HTTPS(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

// sessionCookie is the session cookie: HttpOnly, for /portal/ only, Secure
// behind TLS. SameSite is Lax, or None when the portal may be framed by
// another site over TLS (browsers send no Lax cookie to a cross-site frame).
func (p *Portal) sessionCookie(r *http.Request, value string, expires time.Time) *http.Cookie {
	st := siteOf(r)
	c := &http.Cookie{Name: st.cookie, Value: value, Path: st.base, Expires: expires, HttpOnly: true, SameSite: http.SameSiteLaxMode}
	if HTTPS(r) {
		c.Secure = true
		if p.frameAncestors != "'none'" {
			c.SameSite = http.SameSiteNoneMode
		}
	}
	return c
}

type sessionKey struct{}

// session returns the request's portal session (withSession).
func session(r *http.Request) *hookline.PortalSession {
	s, _ := r.Context().Value(sessionKey{}).(*hookline.PortalSession)
	return s
}

// cookieOf returns the request's session cookie value.
func cookieOf(r *http.Request) string {
	c, err := r.Cookie(siteOf(r).cookie)
	if err != nil {
		return ""
	}
	return c.Value
}

// withSession serves next only with a live session that holds capability,
// and checks the CSRF token of every form posted.
func (p *Portal) withSession(capability string, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		st := siteOf(r)
		cookie := cookieOf(r)
		if cookie == "" {
			p.signedOut(w, r, "signed_out")
			return
		}
		s, err := p.store.PortalSessionByCookie(r.Context(), p.hasher.Hash(cookie), p.now())
		if err == nil && (s.Tenant == "") != st.operator {
			err = hookline.ErrNotFound // a session of the other site
		}
		switch {
		case errors.Is(err, hookline.ErrNotFound):
			p.signedOut(w, r, "session_over")
			return
		case err != nil:
			p.fail(w, r, err)
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), sessionKey{}, s))
		if r.Method == http.MethodPost && !p.csrfValid(r, cookie) {
			p.render(w, r, http.StatusForbidden, "message", page{Title: "form_expired", Message: "form_expired_text"})
			return
		}
		if !s.Can(capability) {
			p.render(w, r, http.StatusForbidden, "message", page{Title: "not_allowed", Message: "not_allowed_text"})
			return
		}
		next(w, r)
	}
}

// signedOut answers a request without a live session: the console's login
// form, or the portal's page that says why (title: signed_out or
// session_over), since only the product can open the portal again.
func (p *Portal) signedOut(w http.ResponseWriter, r *http.Request, title string) {
	if siteOf(r).operator {
		p.consoleLoginForm(w, r, http.StatusUnauthorized, "")
		return
	}
	p.render(w, r, http.StatusUnauthorized, "message", page{Title: title, Message: title + "_text"})
}

// csrf is the CSRF token of a session's forms: derived from its cookie,
// which a page of another site cannot read.
func (p *Portal) csrf(cookie string) string {
	return base64.RawURLEncoding.EncodeToString(p.hasher.Hash("portal csrf " + cookie))
}

func (p *Portal) csrfValid(r *http.Request, cookie string) bool {
	r.Body = http.MaxBytesReader(nil, r.Body, 64<<10)
	return r.PostFormValue("csrf") == p.csrf(cookie)
}

func (p *Portal) logout(w http.ResponseWriter, r *http.Request) {
	if err := p.store.PortalSessionEnd(r.Context(), session(r).ID, p.now()); err != nil && !errors.Is(err, hookline.ErrNotFound) {
		p.fail(w, r, err)
		return
	}
	st := siteOf(r)
	http.SetCookie(w, &http.Cookie{Name: st.cookie, Value: "", Path: st.base, MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	if st.operator {
		http.Redirect(w, r, st.base+"login?done=signed_out_done", http.StatusSeeOther)
		return
	}
	p.render(w, r, http.StatusOK, "message", page{Title: "signed_out", Message: "signed_out_text"})
}

// fail answers a server error without its cause, which is logged.
func (p *Portal) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusInternalServerError
	if errors.Is(err, hookline.ErrUnavailable) {
		status = http.StatusServiceUnavailable
		w.Header().Set("Retry-After", "1")
	}
	p.log.Error("portal request failed", "path", r.URL.Path, "err", err)
	p.render(w, r, status, "message", page{Title: "error", Message: "error_text"})
}

// nonce returns a fresh CSP nonce.
func nonce() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawStdEncoding.EncodeToString(b)
}
