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
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/apikey"
	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
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
	frameAncestors string
	log            *slog.Logger
	now            func() time.Time
	pages          *template.Template
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
		store: o.Store, hasher: o.Hasher, frameAncestors: fa, log: o.Logger.With("component", "portal"), now: o.Now,
		pages: template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "templates/*.html")),
		mux:   http.NewServeMux(),
	}
	static, _ := fs.Sub(staticFS, "static")
	p.mux.Handle("GET /portal/static/", http.StripPrefix("/portal/static/", http.FileServerFS(static)))
	p.mux.HandleFunc("GET /portal/login", p.login)
	p.mux.HandleFunc("GET /portal/{$}", p.withSession(p.webhooks))
	p.mux.HandleFunc("POST /portal/logout", p.withSession(p.logout))
	p.mux.HandleFunc("/portal/", func(w http.ResponseWriter, r *http.Request) {
		p.render(w, r, http.StatusNotFound, "message", page{Title: "not_found", Message: "not_found_text"})
	})
	return p
}

// ServeHTTP serves /portal/ with the portal's security headers.
func (p *Portal) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer") // the login URL's token must not leak to a logo's host
	h.Set("Cache-Control", "no-store")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	p.mux.ServeHTTP(w, r)
}

// cookieName is the session cookie's name.
const cookieName = "hookline_portal"

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
	c := &http.Cookie{Name: cookieName, Value: value, Path: "/portal/", Expires: expires, HttpOnly: true, SameSite: http.SameSiteLaxMode}
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
	c, err := r.Cookie(cookieName)
	if err != nil {
		return ""
	}
	return c.Value
}

// withSession serves next only with a live session, and checks the CSRF
// token of every form posted.
func (p *Portal) withSession(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		cookie := cookieOf(r)
		if cookie == "" {
			p.render(w, r, http.StatusUnauthorized, "message", page{Title: "signed_out", Message: "signed_out_text"})
			return
		}
		s, err := p.store.PortalSessionByCookie(r.Context(), p.hasher.Hash(cookie), p.now())
		switch {
		case errors.Is(err, hookline.ErrNotFound):
			p.render(w, r, http.StatusUnauthorized, "message", page{Title: "session_over", Message: "session_over_text"})
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
		next(w, r)
	}
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
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/portal/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	p.render(w, r, http.StatusOK, "message", page{Title: "signed_out", Message: "signed_out_text"})
}

// webhooks is the portal's home: the tenant's webhooks.
func (p *Portal) webhooks(w http.ResponseWriter, r *http.Request) {
	s := session(r)
	list, err := p.store.WebhookList(r.Context(), store.WebhookListParams{Tenant: s.Tenant, ListParams: store.ListParams{Limit: 100}})
	if err != nil {
		p.fail(w, r, err)
		return
	}
	p.render(w, r, http.StatusOK, "webhooks", page{Title: "webhooks", Webhooks: list})
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
