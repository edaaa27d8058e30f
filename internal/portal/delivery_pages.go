package portal

import (
	"cmp"
	"net/http"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/profile"
	"github.com/hookline/hookline/internal/store"
)

// logPage is how many deliveries a page of the log shows (and tenants or
// API keys a page of the console's lists).
const logPage = 50

// nextCursor is the cursor of the page after a page of list read with Limit
// logPage: its last item's key when the page is full, "" otherwise.
func nextCursor[T any](list []T, key func(T) string) string {
	if len(list) < logPage {
		return ""
	}
	return key(list[len(list)-1])
}

// logFilter is the delivery log's filter, as its form gives it.
type logFilter struct {
	Webhook, Status, Type, From, To, Event, Cursor string
	Tenant                                         string // the console's only
}

// deliveryListData is a page of the delivery log.
type deliveryListData struct {
	Filter     logFilter
	Deliveries []hookline.Delivery
	Webhooks   []hookline.Webhook
	URLs       map[string]string // webhook id → URL
	Next       string            // the cursor of the next page; "" on the last
	Statuses   []string
}

// params turns the filter into the store's, or names the field that is wrong.
func (f *logFilter) params(tenant string) (store.DeliveryListParams, string) {
	lp := store.DeliveryListParams{Tenant: tenant, WebhookID: f.Webhook, EventType: f.Type, EventID: f.Event,
		ListParams: store.ListParams{Cursor: f.Cursor, Limit: logPage}}
	if f.Status != "" {
		if !hookline.ValidDeliveryStatus(f.Status) {
			return lp, "status"
		}
		lp.Status = f.Status
	}
	if f.Cursor != "" && !strings.HasPrefix(f.Cursor, hookline.PrefixDelivery) {
		return lp, "cursor"
	}
	for _, b := range []struct {
		raw  string
		into *time.Time
		name string
	}{{f.From, &lp.CreatedAfter, "from"}, {f.To, &lp.CreatedBefore, "to"}} {
		if b.raw == "" {
			continue
		}
		t, err := time.Parse(formTime, b.raw)
		if err != nil {
			return lp, b.name
		}
		*b.into = t
	}
	return lp, ""
}

// visible reports whether the request's session may see an object of
// tenant: its own tenant's, or every tenant's in the console.
func visible(r *http.Request, tenant string) bool {
	t := session(r).Tenant
	return t == "" || t == tenant
}

// formTenant is the tenant an object created by a form belongs to: the
// session's, or in the console the one the form names.
func formTenant(r *http.Request) (string, error) {
	if t := session(r).Tenant; t != "" {
		return t, nil
	}
	t := strings.TrimSpace(r.PostFormValue("tenant"))
	return t, hookline.ValidateTenant("tenant", t)
}

// deliveryList is the delivery log: newest first, filtered by webhook,
// status, event type, time and event id, a page at a time.
func (p *Portal) deliveryList(w http.ResponseWriter, r *http.Request) {
	s := session(r)
	q := r.URL.Query()
	d := &deliveryListData{
		Filter: logFilter{Tenant: q.Get("tenant"), Webhook: q.Get("webhook"), Status: q.Get("status"), Type: strings.TrimSpace(q.Get("type")),
			From: q.Get("from"), To: q.Get("to"), Event: strings.TrimSpace(q.Get("event")), Cursor: q.Get("cursor")},
		Statuses: []string{hookline.DeliveryPending, hookline.DeliverySucceeded, hookline.DeliveryFailed, hookline.DeliveryCancelled},
		URLs:     map[string]string{},
	}
	pg := page{Title: "deliveries", Nav: "deliveries", Data: d}
	ctx := r.Context()
	hooks, err := p.store.WebhookList(ctx, store.WebhookListParams{Tenant: cmp.Or(s.Tenant, d.Filter.Tenant), ListParams: store.ListParams{Limit: 100}})
	if err != nil {
		p.fail(w, r, err)
		return
	}
	d.Webhooks = hooks
	for _, wh := range hooks {
		d.URLs[wh.ID] = wh.URL
	}
	tenant := s.Tenant
	if tenant == "" {
		tenant = d.Filter.Tenant
	}
	lp, bad := d.Filter.params(tenant)
	if bad != "" {
		pg.Error = word(r, "bad_filter") + " (" + bad + ")"
		p.render(w, r, http.StatusBadRequest, "deliveries", pg)
		return
	}
	list, err := p.store.DeliveryList(ctx, lp)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	d.Deliveries = list
	d.Next = nextCursor(list, func(d hookline.Delivery) string { return d.ID })
	p.render(w, r, http.StatusOK, "deliveries", pg)
}

// attemptView is an attempt with the body of its request, rendered again
// from the event as it was sent.
type attemptView struct {
	hookline.Attempt
	Body string
}

// deliveryData is the page of one delivery.
type deliveryData struct {
	Delivery *hookline.Delivery
	Webhook  *hookline.Webhook // nil once deleted
	Attempts []attemptView
}

// deliveryFor loads the delivery of the path if it is the session's
// tenant's; any other is not found.
func (p *Portal) deliveryFor(w http.ResponseWriter, r *http.Request) *hookline.Delivery {
	d, err := p.store.DeliveryGet(r.Context(), r.PathValue("id"))
	if err == nil && !visible(r, d.Tenant) {
		err = hookline.ErrNotFound
	}
	if err != nil {
		p.notFoundOr(w, r, err)
		return nil
	}
	return d
}

func (p *Portal) deliveryShow(w http.ResponseWriter, r *http.Request) {
	d := p.deliveryFor(w, r)
	if d == nil {
		return
	}
	ctx := r.Context()
	attempts, err := p.store.AttemptList(ctx, store.AttemptListParams{DeliveryID: d.ID, ListParams: store.ListParams{Limit: 100}})
	if err != nil {
		p.fail(w, r, err)
		return
	}
	data := &deliveryData{Delivery: d}
	if wh, err := p.store.WebhookGet(ctx, d.WebhookID); err == nil {
		data.Webhook = wh
	}
	var (
		ev   *hookline.Event
		prof *profile.Profile
	)
	if data.Webhook != nil {
		ev, _ = p.store.EventGet(ctx, d.EventID)
		prof, _ = p.profiles.Get(ctx, data.Webhook.Profile)
	}
	for _, a := range attempts {
		v := attemptView{Attempt: a}
		if ev != nil && prof != nil {
			// The body is what the profile renders for this attempt; only
			// the signature needs the secret, and it is in the headers.
			if body, err := prof.Body(profile.Message{Event: ev, Webhook: data.Webhook, DeliveryID: d.ID, Attempt: a.Number, SentAt: a.StartedAt}); err == nil {
				v.Body = string(body)
			}
		}
		data.Attempts = append(data.Attempts, v)
	}
	p.render(w, r, http.StatusOK, "delivery", page{Title: "delivery", Nav: "deliveries", Data: data})
}

func (p *Portal) deliveryRetry(w http.ResponseWriter, r *http.Request) {
	d := p.deliveryFor(w, r)
	if d == nil {
		return
	}
	if _, err := p.webhooks.Retry(r.Context(), d); err != nil {
		p.notFoundOr(w, r, err)
		return
	}
	http.Redirect(w, r, base(r)+"deliveries/"+d.ID+"?done=retried", http.StatusSeeOther)
}
