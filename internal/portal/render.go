package portal

import (
	"bytes"
	"html/template"
	"net/http"
	"strings"

	"github.com/hookline/hookline/internal/hookline"
)

// page is what a template is given.
type page struct {
	Title    string // a message key
	Message  string // a message key
	Webhooks []hookline.Webhook

	// Filled in by render.
	Lang    string
	Session *hookline.PortalSession
	CSRF    string
	Nonce   string
	msgs    map[string]string
}

// T is the page's word for key, in its language (English if missing).
func (pg page) T(key string) string {
	if m, ok := pg.msgs[key]; ok {
		return m
	}
	return messages["en"][key]
}

// render writes template name as the answer, with the Content-Security-
// Policy of its nonce and the session's language.
func (p *Portal) render(w http.ResponseWriter, r *http.Request, status int, name string, pg page) {
	pg.Session = session(r)
	pg.Lang = language(pg.Session, r)
	pg.Nonce = nonce()
	if c := cookieOf(r); c != "" && pg.Session != nil {
		pg.CSRF = p.csrf(c)
	}
	pg.msgs = messages[pg.Lang]
	var buf bytes.Buffer
	if err := p.pages.ExecuteTemplate(&buf, name, pg); err != nil {
		p.log.Error("rendering a portal page failed", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", pg.Lang)
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'nonce-"+pg.Nonce+"'; style-src 'self' 'nonce-"+pg.Nonce+"'; img-src 'self' https: data:; "+
		"form-action 'self'; base-uri 'none'; frame-ancestors "+p.frameAncestors)
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// language is the session's locale, else the first of Accept-Language the
// portal speaks, else English.
func language(s *hookline.PortalSession, r *http.Request) string {
	if s != nil && s.Locale != "" {
		return s.Locale
	}
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		base, _, _ := strings.Cut(strings.ToLower(tag), "-")
		if _, ok := messages[base]; ok {
			return base
		}
	}
	return "en"
}

var funcs = template.FuncMap{
	"join": strings.Join,
}

// messages are the portal's words, by language.
var messages = map[string]map[string]string{
	"en": {
		"portal":            "API & Webhooks",
		"webhooks":          "Webhooks",
		"url":               "Endpoint",
		"events":            "Events",
		"status":            "Status",
		"active":            "Active",
		"disabled":          "Disabled",
		"no_webhooks":       "No webhooks yet.",
		"sign_out":          "Sign out",
		"signed_out":        "Signed out",
		"signed_out_text":   "You are signed out of this portal. Open it again from the product.",
		"session_over":      "Session over",
		"session_over_text": "This portal session has expired or was ended. Open the portal again from the product.",
		"link_invalid":      "Link no longer valid",
		"link_invalid_text": "This portal link was already used, has expired or is not a portal link. Open the portal again from the product.",
		"form_expired":      "Form expired",
		"form_expired_text": "This form could not be accepted. Reload the page and try again.",
		"not_found":         "Not found",
		"not_found_text":    "There is no such page here.",
		"error":             "Something went wrong",
		"error_text":        "The portal could not answer. Try again in a moment.",
	},
	"fr": {
		"portal":            "API & Webhooks",
		"webhooks":          "Webhooks",
		"url":               "Adresse",
		"events":            "Événements",
		"status":            "État",
		"active":            "Actif",
		"disabled":          "Désactivé",
		"no_webhooks":       "Aucun webhook pour l'instant.",
		"sign_out":          "Se déconnecter",
		"signed_out":        "Déconnecté",
		"signed_out_text":   "Vous êtes déconnecté de ce portail. Ouvrez-le de nouveau depuis le produit.",
		"session_over":      "Session terminée",
		"session_over_text": "Cette session du portail a expiré ou a été fermée. Ouvrez de nouveau le portail depuis le produit.",
		"link_invalid":      "Lien plus valable",
		"link_invalid_text": "Ce lien vers le portail a déjà servi, a expiré ou n'est pas un lien de portail. Ouvrez de nouveau le portail depuis le produit.",
		"form_expired":      "Formulaire expiré",
		"form_expired_text": "Ce formulaire n'a pas pu être accepté. Rechargez la page et réessayez.",
		"not_found":         "Introuvable",
		"not_found_text":    "Cette page n'existe pas.",
		"error":             "Une erreur est survenue",
		"error_text":        "Le portail n'a pas pu répondre. Réessayez dans un instant.",
	},
}
