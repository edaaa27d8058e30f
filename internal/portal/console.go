package portal

import (
	"cmp"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/profile"
	"github.com/hookline/hookline/internal/store"
)

// ConsoleExpiry is how long an operator's console session lasts.
const ConsoleExpiry = 12 * time.Hour

// consolePages are the console's own pages, beside those it shares with the
// portal. A console session holds every capability.
func (p *Portal) consolePages() []route {
	return []route{
		{"GET tenants", hookline.CapView, p.tenantList},
		{"GET profiles", hookline.CapView, p.profileList},
		{"GET api-keys", hookline.CapView, p.apiKeyList},
		{"GET health", hookline.CapView, p.health},
	}
}

// consoleLoginForm shows the console's sign-in form: an API key with the
// admin scope.
func (p *Portal) consoleLoginForm(w http.ResponseWriter, r *http.Request, status int, problem string) {
	p.render(w, r, status, "console_login", page{Title: "console_sign_in", Error: problem})
}

// sameOrigin reports whether a form was posted by a page of this server: the
// login form has no session yet, so no CSRF token, and a page of another
// site must not sign a browser in (login CSRF). Browsers say where a request
// comes from in Sec-Fetch-Site; those that do not send Origin with a POST
// (as "null" under the portal's Referrer-Policy). A client that sends neither
// is not a browser, and so not one a page can drive.
func sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" {
		return site == "same-origin" || site == "none"
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && u.Host == r.Host
}

// consoleLogin exchanges an admin API key for a console session.
func (p *Portal) consoleLogin(w http.ResponseWriter, r *http.Request) {
	if p.authenticate == nil {
		p.render(w, r, http.StatusNotFound, "message", page{Title: "not_found", Message: "not_found_text"})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if !sameOrigin(r) {
		p.consoleLoginForm(w, r, http.StatusForbidden, word(r, "form_expired_text"))
		return
	}
	key, err := p.authenticate(r, strings.TrimSpace(r.PostFormValue("key")))
	switch {
	case err == nil && !key.Allows(hookline.ScopeAdmin):
		p.consoleLoginForm(w, r, http.StatusForbidden, word(r, "console_not_admin"))
		return
	case errors.Is(err, ErrTooManyFailures):
		p.consoleLoginForm(w, r, http.StatusTooManyRequests, word(r, "console_throttled"))
		return
	case err != nil && !errors.Is(err, hookline.ErrNotFound):
		p.fail(w, r, err)
		return
	case err != nil:
		p.consoleLoginForm(w, r, http.StatusUnauthorized, word(r, "console_bad_key"))
		return
	}
	now := p.now().UTC().Truncate(time.Millisecond)
	token, cookie := tokenPrefix+secret(), secret()
	s := &hookline.PortalSession{
		ID: hookline.NewID(hookline.PrefixPortalSession), Capabilities: slices.Clone(hookline.Capabilities),
		ExpiresAt: now.Add(ConsoleExpiry), CreatedAt: now, TokenHash: p.hasher.Hash(token),
	}
	if err := p.store.PortalSessionCreate(r.Context(), s); err != nil {
		p.fail(w, r, err)
		return
	}
	if _, err := p.store.PortalSessionLogin(r.Context(), s.TokenHash, p.hasher.Hash(cookie), now); err != nil {
		p.fail(w, r, err)
		return
	}
	p.log.Info("console sign-in", "key", key.ID, "session", s.ID)
	http.SetCookie(w, p.sessionCookie(r, cookie, s.ExpiresAt))
	http.Redirect(w, r, consoleSite.base, http.StatusSeeOther)
}

// ErrTooManyFailures is what Options.Authenticate returns when the client
// has failed too often of late.
var ErrTooManyFailures = errors.New("too many failed authentications")

// tenantList lists the tenants that have webhooks.
func (p *Portal) tenantList(w http.ResponseWriter, r *http.Request) {
	cursor := r.URL.Query().Get("cursor")
	list, err := p.store.TenantList(r.Context(), store.ListParams{Cursor: cursor, Limit: logPage})
	if err != nil {
		p.fail(w, r, err)
		return
	}
	d := map[string]any{"Tenants": list, "Cursor": cursor, "Next": nextCursor(list, func(t store.TenantSummary) string { return t.Tenant })}
	p.render(w, r, http.StatusOK, "tenants", page{Title: "tenants", Nav: "tenants", Data: d})
}

// profileView is a profile as the console shows it: read-only, with the
// values of credential-bearing headers masked.
type profileView struct {
	Name, Source string
	Definition   string // indented JSON
}

func viewOf(name, source string, d *profile.Definition) profileView {
	v := profileView{Name: name, Source: source}
	if d != nil {
		masked := *d
		masked.Headers = hookline.MaskHeaders(d.Headers)
		b, _ := json.MarshalIndent(&masked, "", "  ")
		v.Definition = string(b)
	}
	return v
}

func (p *Portal) profileList(w http.ResponseWriter, r *http.Request) {
	var list []profileView
	for _, prof := range p.profiles.FixedProfiles() {
		list = append(list, viewOf(prof.Name, prof.Source, prof.Definition))
	}
	stored, err := p.store.ProfileList(r.Context())
	if err != nil {
		p.fail(w, r, err)
		return
	}
	for i := range stored {
		prof, err := p.profiles.CompileStored(&stored[i])
		if err != nil {
			p.fail(w, r, err)
			return
		}
		list = append(list, viewOf(prof.Name, profile.SourceAPI, prof.Definition))
	}
	p.render(w, r, http.StatusOK, "profiles", page{Title: "profiles", Nav: "profiles", Data: list})
}

// apiKeyList lists Hookline's own API keys: names, scopes, tenants, never
// a key.
func (p *Portal) apiKeyList(w http.ResponseWriter, r *http.Request) {
	cursor := r.URL.Query().Get("cursor")
	list, err := p.store.APIKeyList(r.Context(), store.APIKeyListParams{ListParams: store.ListParams{Cursor: cursor, Limit: logPage}})
	if err != nil {
		p.fail(w, r, err)
		return
	}
	d := map[string]any{"Keys": list, "Cursor": cursor, "Next": nextCursor(list, func(k hookline.APIKey) string { return k.ID })}
	p.render(w, r, http.StatusOK, "api_keys", page{Title: "api_keys", Nav: "api_keys", Data: d})
}

// healthData is the console's system page.
type healthData struct {
	Pending  int64
	Retrying int64
	Disabled []hookline.Webhook
	Volume   chartData
	Latency  chartData
	Metrics  []metricFamily
}

// metricFamily is a /metrics family as a table.
type metricFamily struct {
	Name, Help string
	Samples    []metricSample
}

type metricSample struct {
	Labels string
	Value  string
}

func (p *Portal) health(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	d := &healthData{}
	var err error
	if d.Pending, err = p.store.DeliveryCountPending(ctx); err != nil {
		p.fail(w, r, err)
		return
	}
	if d.Retrying, err = p.store.DeliveryCountRetrying(ctx); err != nil {
		p.fail(w, r, err)
		return
	}
	hooks, err := p.store.WebhookList(ctx, store.WebhookListParams{Active: new(false), ListParams: store.ListParams{Limit: 100}})
	if err != nil {
		p.fail(w, r, err)
		return
	}
	d.Disabled = hooks
	if d.Volume, d.Latency, err = p.charts(r, "", ""); err != nil {
		p.fail(w, r, err)
		return
	}
	if p.metrics != nil {
		families, err := p.metrics.Gather()
		if err != nil {
			p.log.Warn("gathering metrics for the console failed", "err", err)
		}
		d.Metrics = metricTables(families)
	}
	p.render(w, r, http.StatusOK, "health", page{Title: "health", Nav: "health", Data: d})
}

// metricTables turns Prometheus metric families into tables: Hookline's
// own (hookline_*), counters, gauges and the count and sum of histograms.
func metricTables(families []*dto.MetricFamily) []metricFamily {
	var out []metricFamily
	for _, f := range families {
		if !strings.HasPrefix(f.GetName(), "hookline_") {
			continue
		}
		mf := metricFamily{Name: f.GetName(), Help: f.GetHelp()}
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			s := metricSample{Labels: strings.Join(labels, ", ")}
			switch {
			case m.Counter != nil:
				s.Value = number(m.GetCounter().GetValue())
			case m.Gauge != nil:
				s.Value = number(m.GetGauge().GetValue())
			case m.Histogram != nil:
				h := m.GetHistogram()
				s.Value = "count " + number(float64(h.GetSampleCount())) + ", sum " + number(h.GetSampleSum())
			default:
				continue
			}
			mf.Samples = append(mf.Samples, s)
		}
		slices.SortFunc(mf.Samples, func(a, b metricSample) int { return cmp.Compare(a.Labels, b.Labels) })
		out = append(out, mf)
	}
	return out
}

// number formats a metric's value: whole numbers without decimals.
func number(v float64) string {
	if v == float64(int64(v)) {
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'f', 3, 64)
}
