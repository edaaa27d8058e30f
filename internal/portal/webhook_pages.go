package portal

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/chart"
	"github.com/hookline/hookline/internal/delivery"
	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/webhooks"
)

// healthWindow is the span of the health column and of the charts.
const healthWindow = 24 * time.Hour

// webhookRow is a webhook of the list with its health.
type webhookRow struct {
	hookline.Webhook
	Health store.WebhookHealth
}

// webhookListData is the portal's home.
type webhookListData struct {
	Webhooks  []webhookRow
	Volume    chartData
	Latency   chartData
	CanManage bool
}

// chartData is a chart with its figures as a table, for those who would
// rather read (and for screen readers).
type chartData struct {
	SVG  any // template.HTML
	Rows []chartRow
}

type chartRow struct {
	Label  string
	Values []int64
}

// webhookList is the portal's home: the tenant's webhooks with their health
// and the charts of its deliveries.
func (p *Portal) webhookList(w http.ResponseWriter, r *http.Request) {
	s := session(r)
	ctx := r.Context()
	list, err := p.store.WebhookList(ctx, store.WebhookListParams{Tenant: s.Tenant, ListParams: store.ListParams{Limit: 100}})
	if err != nil {
		p.fail(w, r, err)
		return
	}
	ids := make([]string, len(list))
	for i := range list {
		ids[i] = list[i].ID
	}
	now := p.now()
	health, err := p.store.WebhookHealth(ctx, ids, now.Add(-healthWindow))
	if err != nil {
		p.fail(w, r, err)
		return
	}
	d := webhookListData{CanManage: s.Can(hookline.CapManageWebhooks)}
	for _, wh := range list {
		d.Webhooks = append(d.Webhooks, webhookRow{Webhook: wh, Health: health[wh.ID]})
	}
	pg := page{Title: "webhooks", Nav: "webhooks", Data: &d}
	if d.Volume, d.Latency, err = p.charts(r, s.Tenant, ""); err != nil {
		p.fail(w, r, err)
		return
	}
	p.render(w, r, http.StatusOK, "webhooks", pg)
}

// charts draws the last day of a tenant's (or one webhook's) deliveries:
// how many succeeded and failed each hour, and how long attempts took.
func (p *Portal) charts(r *http.Request, tenant, webhookID string) (volume, latency chartData, err error) {
	const buckets = 24
	until := p.now().UTC().Truncate(time.Hour).Add(time.Hour)
	since := until.Add(-healthWindow)
	ds, err := p.store.DeliveryStats(r.Context(), store.DeliveryStatsParams{Tenant: tenant, WebhookID: webhookID, Since: since, Until: until, Buckets: buckets})
	if err != nil {
		return volume, latency, err
	}
	as, err := p.store.AttemptStats(r.Context(), store.AttemptStatsParams{Tenant: tenant, WebhookID: webhookID, Since: since, Until: until, Buckets: buckets})
	if err != nil {
		return volume, latency, err
	}
	t := func(k string) string { return word(r, k) }
	labels := make([]string, buckets)
	ok, failed, pending := make([]float64, buckets), make([]float64, buckets), make([]float64, buckets)
	avg, maxi := make([]float64, buckets), make([]float64, buckets)
	for i := range buckets {
		b, a := ds[i], as[i]
		labels[i] = b.Start.UTC().Format("15:04")
		ok[i], failed[i], pending[i] = float64(b.Succeeded), float64(b.Failed), float64(b.Pending)
		avg[i], maxi[i] = float64(a.LatencyAvgMS), float64(a.LatencyMaxMS)
		volume.Rows = append(volume.Rows, chartRow{Label: labels[i], Values: []int64{int64(b.Succeeded), int64(b.Failed), int64(b.Pending)}})
		latency.Rows = append(latency.Rows, chartRow{Label: labels[i], Values: []int64{a.LatencyAvgMS, a.LatencyMaxMS}})
	}
	volume.SVG = chart.Bars(chart.Chart{
		Title: t("chart_volume"), Desc: t("chart_volume_desc"), Labels: labels, Counts: true,
		Series: []chart.Series{
			{Name: t("succeeded"), Class: "ok", Values: ok},
			{Name: t("failed"), Class: "fail", Values: failed},
			{Name: t("pending"), Class: "pending", Values: pending},
		},
	})
	latency.SVG = chart.Lines(chart.Chart{
		Title: t("chart_latency"), Desc: t("chart_latency_desc"), Labels: labels, Unit: " ms",
		Series: []chart.Series{
			{Name: t("latency_avg"), Class: "latency", Values: avg},
			{Name: t("latency_max"), Class: "fail", Values: maxi},
		},
	})
	return volume, latency, nil
}

// webhookFor loads the webhook of the path if it is the session's tenant's;
// any other is not found, as if it did not exist.
func (p *Portal) webhookFor(w http.ResponseWriter, r *http.Request) *hookline.Webhook {
	wh, err := p.webhooks.Get(r.Context(), session(r).Tenant, r.PathValue("id"))
	if err != nil {
		p.notFoundOr(w, r, err)
		return nil
	}
	return wh
}

// notFoundOr answers 404 for hookline.ErrNotFound and fails otherwise.
func (p *Portal) notFoundOr(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, hookline.ErrNotFound) {
		p.render(w, r, http.StatusNotFound, "message", page{Title: "not_found", Message: "not_found_text"})
		return
	}
	p.fail(w, r, err)
}

// webhookData is the page of one webhook.
type webhookData struct {
	Webhook    *hookline.Webhook
	Health     store.WebhookHealth
	Attempts   []hookline.Attempt
	EventTypes []hookline.EventType
	Volume     chartData
	Latency    chartData
	// OneSignature: the profile's signature header carries one signature,
	// so a rotation has no grace period to offer.
	OneSignature bool
}

func (p *Portal) webhookShow(w http.ResponseWriter, r *http.Request) {
	wh := p.webhookFor(w, r)
	if wh == nil {
		return
	}
	ctx := r.Context()
	health, err := p.store.WebhookHealth(ctx, []string{wh.ID}, p.now().Add(-healthWindow))
	if err != nil {
		p.fail(w, r, err)
		return
	}
	attempts, err := p.store.AttemptList(ctx, store.AttemptListParams{WebhookID: wh.ID, ListParams: store.ListParams{Limit: 20}})
	if err != nil {
		p.fail(w, r, err)
		return
	}
	types, err := p.store.EventTypeList(ctx, store.ListParams{Limit: 100})
	if err != nil {
		p.fail(w, r, err)
		return
	}
	why, err := p.webhooks.NoGraceReason(ctx, wh)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	d := &webhookData{Webhook: wh, Health: health[wh.ID], Attempts: attempts, EventTypes: types, OneSignature: why != ""}
	pg := page{Title: "webhook", Nav: "webhooks", Data: d}
	if d.Volume, d.Latency, err = p.charts(r, wh.Tenant, wh.ID); err != nil {
		p.fail(w, r, err)
		return
	}
	p.render(w, r, http.StatusOK, "webhook", pg)
}

// webhookFormData is the form that creates or edits a webhook.
type webhookFormData struct {
	Webhook    *hookline.Webhook // nil to create
	URL        string
	Desc       string
	Events     []string // chosen from the catalogue
	Other      string   // other patterns, comma-separated
	Active     bool
	Profile    string
	Profiles   []string
	EventTypes []hookline.EventType
	Field      string // the field the error is about
	Tenant     string // the console's create form only
}

func (p *Portal) webhookForm(w http.ResponseWriter, r *http.Request, status int, d *webhookFormData, err error) {
	types, lerr := p.store.EventTypeList(r.Context(), store.ListParams{Limit: 100})
	if lerr != nil {
		p.fail(w, r, lerr)
		return
	}
	d.EventTypes = types
	for _, prof := range p.profiles.FixedProfiles() {
		d.Profiles = append(d.Profiles, prof.Name)
	}
	if stored, perr := p.store.ProfileList(r.Context()); perr == nil {
		for _, sp := range stored {
			d.Profiles = append(d.Profiles, sp.Name)
		}
	}
	pg := page{Title: "new_webhook", Nav: "webhooks", Data: d}
	if d.Webhook != nil {
		pg.Title = "edit_webhook"
	}
	var ve *hookline.ValidationError
	if errors.As(err, &ve) {
		pg.Error, d.Field = ve.Message, ve.Field
	}
	p.render(w, r, status, "webhook_form", pg)
}

// webhookNew shows the create form with the profile a webhook created
// without one would get preselected: the session tenant's default, else the
// server's.
func (p *Portal) webhookNew(w http.ResponseWriter, r *http.Request) {
	d := &webhookFormData{Active: true, Profile: p.webhooks.ServerDefaultProfile()}
	if t := session(r).Tenant; t != "" {
		name, _, err := p.webhooks.DefaultProfile(r.Context(), t)
		if err != nil {
			p.fail(w, r, err)
			return
		}
		d.Profile = name
	}
	p.webhookForm(w, r, http.StatusOK, d, nil)
}

func (p *Portal) webhookEdit(w http.ResponseWriter, r *http.Request) {
	wh := p.webhookFor(w, r)
	if wh == nil {
		return
	}
	d := &webhookFormData{Webhook: wh, URL: wh.URL, Desc: wh.Description, Active: wh.Active, Profile: wh.Profile}
	types, err := p.store.EventTypeList(r.Context(), store.ListParams{Limit: 100})
	if err != nil {
		p.fail(w, r, err)
		return
	}
	var other []string
	for _, e := range wh.Events {
		if slices.ContainsFunc(types, func(t hookline.EventType) bool { return t.Name == e }) || e == "*" {
			d.Events = append(d.Events, e)
		} else {
			other = append(other, e)
		}
	}
	d.Other = strings.Join(other, ", ")
	p.webhookForm(w, r, http.StatusOK, d, nil)
}

// formInput reads the webhook form into an Input and the form's data, to
// show again if it is refused.
func formInput(r *http.Request, d *webhookFormData) *webhooks.Input {
	d.URL = strings.TrimSpace(r.PostFormValue("url"))
	d.Desc = strings.TrimSpace(r.PostFormValue("description"))
	d.Events = r.PostForm["event"]
	d.Other = r.PostFormValue("events_other")
	d.Active = r.PostFormValue("active") == "on"
	d.Profile = r.PostFormValue("profile")
	events := slices.Clone(d.Events)
	for _, e := range strings.FieldsFunc(d.Other, func(c rune) bool { return c == ',' || c == ' ' || c == '\n' || c == '\r' || c == '\t' }) {
		if !slices.Contains(events, e) {
			events = append(events, e)
		}
	}
	in := &webhooks.Input{URL: &d.URL, Description: &d.Desc, Events: &events}
	if d.Profile != "" {
		in.Profile = &d.Profile
	}
	return in
}

func (p *Portal) webhookCreate(w http.ResponseWriter, r *http.Request) {
	d := &webhookFormData{Tenant: r.PostFormValue("tenant")}
	in := formInput(r, d)
	tenant, err := formTenant(r)
	if err != nil {
		p.formError(w, r, d, err)
		return
	}
	wh, err := p.webhooks.Create(r.Context(), tenant, in)
	if err != nil {
		p.formError(w, r, d, err)
		return
	}
	http.Redirect(w, r, base(r)+"webhooks/"+wh.ID+"?done=created_done", http.StatusSeeOther)
}

func (p *Portal) webhookUpdate(w http.ResponseWriter, r *http.Request) {
	wh := p.webhookFor(w, r)
	if wh == nil {
		return
	}
	d := &webhookFormData{Webhook: wh}
	in := formInput(r, d)
	in.Active = &d.Active
	if _, err := p.webhooks.Update(r.Context(), wh, in, false); err != nil {
		d.Webhook = wh
		p.formError(w, r, d, err)
		return
	}
	http.Redirect(w, r, base(r)+"webhooks/"+wh.ID+"?done=saved", http.StatusSeeOther)
}

// formError shows the form again with what was wrong, or fails.
func (p *Portal) formError(w http.ResponseWriter, r *http.Request, d *webhookFormData, err error) {
	var ve *hookline.ValidationError
	switch {
	case errors.As(err, &ve):
		p.webhookForm(w, r, http.StatusUnprocessableEntity, d, err)
	case errors.Is(err, hookline.ErrLimitReached):
		p.webhookForm(w, r, http.StatusUnprocessableEntity, d, &hookline.ValidationError{Message: word(r, "limit_reached")})
	default:
		p.notFoundOr(w, r, err)
	}
}

func (p *Portal) webhookActive(w http.ResponseWriter, r *http.Request) {
	wh := p.webhookFor(w, r)
	if wh == nil {
		return
	}
	active := r.PostFormValue("active") == "true"
	if _, err := p.webhooks.SetActive(r.Context(), wh, active); err != nil {
		p.notFoundOr(w, r, err)
		return
	}
	done := "disabled_done"
	if active {
		done = "enabled"
	}
	http.Redirect(w, r, base(r)+"webhooks/"+wh.ID+"?done="+done, http.StatusSeeOther)
}

func (p *Portal) webhookDeleteConfirm(w http.ResponseWriter, r *http.Request) {
	wh := p.webhookFor(w, r)
	if wh == nil {
		return
	}
	p.render(w, r, http.StatusOK, "webhook_delete", page{Title: "delete_webhook", Nav: "webhooks", Data: wh})
}

func (p *Portal) webhookDelete(w http.ResponseWriter, r *http.Request) {
	wh := p.webhookFor(w, r)
	if wh == nil {
		return
	}
	if err := p.webhooks.Delete(r.Context(), wh); err != nil {
		p.notFoundOr(w, r, err)
		return
	}
	http.Redirect(w, r, base(r)+"?done=deleted_done", http.StatusSeeOther)
}

// webhookTest sends a test event of the type chosen and shows the webhook,
// whose log then starts with the attempt.
func (p *Portal) webhookTest(w http.ResponseWriter, r *http.Request) {
	wh := p.webhookFor(w, r)
	if wh == nil {
		return
	}
	_, err := p.webhooks.Test(r.Context(), wh, r.PostFormValue("event_type"))
	var ve *hookline.ValidationError
	switch {
	case errors.Is(err, delivery.ErrTestBusy):
		p.render(w, r, http.StatusTooManyRequests, "message", page{Title: "test_busy", Message: "test_busy_text", Nav: "webhooks"})
		return
	case errors.As(err, &ve):
		p.render(w, r, http.StatusUnprocessableEntity, "message", page{Title: "test_failed", Message: "unknown_event_type", Nav: "webhooks"})
		return
	case err != nil:
		p.fail(w, r, err)
		return
	}
	http.Redirect(w, r, base(r)+"webhooks/"+wh.ID+"?done=tested#attempts", http.StatusSeeOther)
}

// secretData is the page that shows a webhook's secret, on request only.
type secretData struct {
	Webhook *hookline.Webhook
	Secret  string
	Until   *time.Time // the previous secret's grace, after a rotation
	Rotated bool
}

func (p *Portal) webhookSecret(w http.ResponseWriter, r *http.Request) {
	wh := p.webhookFor(w, r)
	if wh == nil {
		return
	}
	p.render(w, r, http.StatusOK, "secret", page{Title: "secret", Nav: "webhooks", Data: &secretData{Webhook: wh, Secret: wh.Secret}})
}

// graces are the grace periods the rotate form offers.
var graces = map[string]time.Duration{"0": 0, "1h": time.Hour, "24h": 24 * time.Hour, "7d": 7 * 24 * time.Hour}

func (p *Portal) webhookRotate(w http.ResponseWriter, r *http.Request) {
	wh := p.webhookFor(w, r)
	if wh == nil {
		return
	}
	why, err := p.webhooks.NoGraceReason(r.Context(), wh)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	var grace *time.Duration // the default, and the only choice for a profile that cannot carry one
	if g, ok := graces[r.PostFormValue("grace")]; ok && why == "" {
		grace = &g
	}
	wh, err = p.webhooks.RotateSecret(r.Context(), wh, "", grace)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	p.render(w, r, http.StatusOK, "secret", page{Title: "secret", Nav: "webhooks", Flash: "rotated",
		Data: &secretData{Webhook: wh, Secret: wh.Secret, Until: wh.PreviousSecretUntil, Rotated: true}})
}

// recoverData is the page that says how many failed deliveries a recovery
// will retry, before it does.
type recoverData struct {
	Webhook *hookline.Webhook
	Since   string // as the form gives it: 2006-01-02T15:04 (UTC)
	Count   int
}

// formTime is the layout of <input type="datetime-local">, read as UTC.
const formTime = "2006-01-02T15:04"

func (p *Portal) recoverSince(r *http.Request) (time.Time, string, bool) {
	raw := r.FormValue("since")
	if raw == "" {
		t := p.now().UTC().Add(-healthWindow).Truncate(time.Minute)
		return t, t.Format(formTime), true
	}
	t, err := time.Parse(formTime, raw)
	return t, raw, err == nil
}

func (p *Portal) webhookRecoverConfirm(w http.ResponseWriter, r *http.Request) {
	wh := p.webhookFor(w, r)
	if wh == nil {
		return
	}
	since, raw, ok := p.recoverSince(r)
	pg := page{Title: "recover", Nav: "webhooks"}
	if !ok {
		pg.Error = word(r, "bad_time")
		pg.Data = &recoverData{Webhook: wh, Since: raw, Count: -1}
		p.render(w, r, http.StatusBadRequest, "recover", pg)
		return
	}
	n, err := p.webhooks.Recover(r.Context(), wh, webhooks.RecoverParams{Since: since, DryRun: true})
	var ve *hookline.ValidationError
	if errors.As(err, &ve) {
		pg.Error = ve.Message
		pg.Data = &recoverData{Webhook: wh, Since: raw, Count: -1}
		p.render(w, r, http.StatusBadRequest, "recover", pg)
		return
	}
	if err != nil {
		p.fail(w, r, err)
		return
	}
	pg.Data = &recoverData{Webhook: wh, Since: raw, Count: n}
	p.render(w, r, http.StatusOK, "recover", pg)
}

func (p *Portal) webhookRecover(w http.ResponseWriter, r *http.Request) {
	wh := p.webhookFor(w, r)
	if wh == nil {
		return
	}
	since, _, ok := p.recoverSince(r)
	if !ok {
		p.webhookRecoverConfirm(w, r)
		return
	}
	n, err := p.webhooks.Recover(r.Context(), wh, webhooks.RecoverParams{Since: since})
	var ve *hookline.ValidationError
	if errors.As(err, &ve) {
		p.webhookRecoverConfirm(w, r) // says what is wrong
		return
	}
	if errors.Is(err, webhooks.ErrDisabled) {
		pg := page{Title: "recover", Nav: "webhooks", Error: word(r, "recover_disabled"), Data: &recoverData{Webhook: wh, Since: r.FormValue("since"), Count: -1}}
		p.render(w, r, http.StatusConflict, "recover", pg)
		return
	}
	if err != nil {
		p.fail(w, r, err)
		return
	}
	pg := page{Title: "recovered", Nav: "webhooks", Data: &recoverData{Webhook: wh, Count: n}}
	p.render(w, r, http.StatusOK, "recovered", pg)
}
