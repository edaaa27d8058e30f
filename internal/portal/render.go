package portal

import (
	"bytes"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

// page is what a template is given.
type page struct {
	Title   string // a message key
	Message string // a message key
	// Nav is the navigation entry of the page: "webhooks", "deliveries" or
	// "keys".
	Nav string
	// Flash is a message key said at the top of the page: what the form
	// posted before did (?done=).
	Flash string
	// Error is what was wrong with the form posted, shown above it.
	Error string
	// Data is the page's own.
	Data any

	// Filled in by render.
	Base    string // the site's path: /portal/ or /console/
	Console bool   // the operator console, which sees every tenant
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

// word is key in the request's language.
func word(r *http.Request, key string) string {
	return page{msgs: messages[language(session(r), r)]}.T(key)
}

// render writes template name as the answer, with the Content-Security-
// Policy of its nonce and the session's language.
func (p *Portal) render(w http.ResponseWriter, r *http.Request, status int, name string, pg page) {
	pg.Session = session(r)
	st := siteOf(r)
	pg.Base, pg.Console = st.base, st.operator
	pg.Lang = language(pg.Session, r)
	pg.Nonce = nonce()
	if c := cookieOf(r); c != "" && pg.Session != nil {
		pg.CSRF = p.csrf(c)
	}
	pg.msgs = messages[pg.Lang]
	if pg.Flash == "" {
		if done := r.URL.Query().Get("done"); flashes[done] {
			pg.Flash = done
		}
	}
	var buf bytes.Buffer
	if err := p.templates.ExecuteTemplate(&buf, name, pg); err != nil {
		p.log.Error("rendering a portal page failed", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", pg.Lang)
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'nonce-"+pg.Nonce+"'; style-src 'self' 'nonce-"+pg.Nonce+"'; img-src 'self' https: data:; connect-src 'self'; "+
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
	"charts": func(p page, volume, latency chartData) map[string]any {
		return map[string]any{"P": p, "V": volume, "L": latency}
	},
	"time": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") + " UTC" },
	"ptime": func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04:05") + " UTC"
	},
	"iso":     func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"percent": percent,
	"add":     func(a, b int) int { return a + b },
	"attempt": func(p page, a hookline.Attempt, body string) map[string]any {
		return map[string]any{"P": p, "A": &a, "Body": body}
	},
	"sorted": sortedKeys,
	"query":  query,
	"inList": func(list []string, s string) bool { return slices.Contains(list, s) },
}

// percent is part of total as a whole percentage, or "–" of nothing.
func percent(part, total int) string {
	if total == 0 {
		return "–"
	}
	return strconv.FormatFloat(100*float64(part)/float64(total), 'f', 0, 64) + " %"
}

// sortedKeys returns the keys of m in order, for a stable page.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// query returns "?" and the pairs given (name, value, …) with empty values
// left out: links that keep a page's filters.
func query(pairs ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] != "" {
			v.Set(pairs[i], pairs[i+1])
		}
	}
	if len(v) == 0 {
		return "?"
	}
	return "?" + v.Encode()
}
