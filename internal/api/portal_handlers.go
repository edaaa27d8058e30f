package api

import (
	"fmt"
	"net/http"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/keyspace"
	"github.com/hookline/hookline/internal/portal"
)

// portalSessionInput is the body of POST /v1/portal-sessions.
type portalSessionInput struct {
	Tenant       string                `json:"tenant"`
	ExpiresIn    *keyspace.Duration    `json:"expires_in"`
	Capabilities []string              `json:"capabilities"`
	Theme        *hookline.PortalTheme `json:"theme"`
	Locale       string                `json:"locale"`
}

// portalSessionView is a session as the API shows it; url only in the
// answer that creates it (it holds the single-use login token).
type portalSessionView struct {
	*hookline.PortalSession
	URL string `json:"url,omitempty"`
}

// capabilityScopes are the scopes a key must hold to grant each portal
// capability: a key gives a session no more than it may do itself.
var capabilityScopes = map[string][]string{
	hookline.CapView:           {hookline.ScopeWebhooksRead, hookline.ScopeDeliveriesRead},
	hookline.CapManageWebhooks: {hookline.ScopeWebhooksWrite},
	hookline.CapSecrets:        {hookline.ScopeWebhooksWrite},
	hookline.CapRetry:          {hookline.ScopeDeliveriesWrite},
	hookline.CapManageKeys:     {hookline.ScopeKeysRead, hookline.ScopeKeysWrite},
}

func (h *handler) portalSessionCreate(w http.ResponseWriter, r *http.Request) {
	var in portalSessionInput
	if err := decode(w, r, &in, maxBodyBytes); err != nil {
		h.error(w, r, err)
		return
	}
	tenant, err := scopedTenant(r, in.Tenant)
	if err != nil {
		h.error(w, r, err)
		return
	}
	if in.Tenant == "" && apiKey(r).Tenant == "" {
		h.error(w, r, hookline.Invalid("tenant", "is required: the tenant whose portal this is"))
		return
	}
	k := apiKey(r)
	for i, c := range append([]string{hookline.CapView}, in.Capabilities...) {
		for _, scope := range capabilityScopes[c] {
			if !k.Allows(scope) {
				field := "capabilities"
				if i > 0 {
					field = fmt.Sprintf("capabilities[%d]", i-1)
				}
				h.error(w, r, errField(http.StatusForbidden, field, fmt.Sprintf("granting %q needs the %q scope, which this API key lacks", c, scope)))
				return
			}
		}
	}
	cp := portal.CreateParams{Tenant: tenant, Capabilities: in.Capabilities, Locale: in.Locale}
	if in.ExpiresIn != nil {
		cp.ExpiresIn = time.Duration(*in.ExpiresIn)
		if cp.ExpiresIn <= 0 {
			h.error(w, r, hookline.Invalid("expires_in", "must be between 1m and 7d"))
			return
		}
	}
	if in.Theme != nil {
		cp.Theme = *in.Theme
	}
	s, token, err := h.portal.CreateSession(r.Context(), cp)
	if err != nil {
		h.error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeCreated(w, portalSessionView{PortalSession: s, URL: h.baseURL(r) + portal.LoginPath(token)}, "portal-sessions", s.ID)
}

// baseURL is the server's public URL (--public-url), or its URL as the
// client reached it.
func (h *handler) baseURL(r *http.Request) string {
	if h.cfg.PublicURL != "" {
		return h.cfg.PublicURL
	}
	scheme := "http"
	if portal.HTTPS(r) {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// portalSessionOf returns a session the key may see: another tenant's is 404.
func (h *handler) portalSessionOf(r *http.Request) (*hookline.PortalSession, error) {
	s, err := h.portal.Session(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	if err := visible(r, s.Tenant); err != nil {
		return nil, err
	}
	return s, nil
}

func (h *handler) portalSessionGet(w http.ResponseWriter, r *http.Request) {
	s, err := h.portalSessionOf(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, portalSessionView{PortalSession: s})
}

func (h *handler) portalSessionDelete(w http.ResponseWriter, r *http.Request) {
	s, err := h.portalSessionOf(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	if err := h.portal.EndSession(r.Context(), s.ID); err != nil {
		h.error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// portalSessionDeleteTenant ends every session of ?tenant= (the key's own
// tenant for a tenant-limited key).
func (h *handler) portalSessionDeleteTenant(w http.ResponseWriter, r *http.Request) {
	tenant, err := scopedTenant(r, r.URL.Query().Get("tenant"))
	if err != nil {
		h.error(w, r, err)
		return
	}
	if r.URL.Query().Get("tenant") == "" && apiKey(r).Tenant == "" {
		h.error(w, r, errField(http.StatusBadRequest, "tenant", "is required: ?tenant= names the tenant whose sessions end"))
		return
	}
	n, err := h.portal.EndTenant(r.Context(), tenant)
	if err != nil {
		h.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"tenant": tenant, "ended": n})
}
