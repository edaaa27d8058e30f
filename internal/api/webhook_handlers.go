package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/webhooks"
	"github.com/hookline/hookline/webhook"
)

// webhookView is a webhook as the API shows it, under one rule for everything
// secret about it. A key sees the signing secret it has just set (created,
// rotated, or given in an update), which it needs to configure the receiver;
// everything else (the stored secret, the previous one during a rotation's
// grace period, the values of credential-bearing custom headers) only an admin
// key sees, and only when it asks (showSecret). The public key of an ed25519
// signing key is always shown.
func webhookView(w *hookline.Webhook, r *http.Request, justSet bool) *hookline.Webhook {
	v := *w
	all := showSecret(r)
	if strings.HasPrefix(v.Secret, webhook.SigningKeyPrefix) {
		v.PublicKey, _ = webhook.PublicKey(v.Secret)
	}
	if v.PreviousSecretUntil != nil && !time.Now().Before(*v.PreviousSecretUntil) {
		v.PreviousSecret, v.PreviousSecretUntil = "", nil // the grace period is over
	}
	if !all {
		v.PreviousSecret = ""
		v.Headers = hookline.MaskHeaders(v.Headers)
		if !justSet {
			v.Secret = ""
		}
	}
	return &v
}

// showSecret reports whether a read may include secrets: only an admin key that
// asks for them with ?include_secret=true.
func showSecret(r *http.Request) bool {
	return r.URL.Query().Get("include_secret") == "true" && apiKey(r).Allows(hookline.ScopeAdmin)
}

// decodeTarget decodes the body of a request that names a URL, which is
// required, and perhaps a tenant (a webhook to create, a URL to test): url
// and tenant point at those fields of in. It returns the tenant the request
// acts on (scopedTenant).
func decodeTarget(w http.ResponseWriter, r *http.Request, in any, url, tenant **string) (string, error) {
	if err := decode(w, r, in, maxBodyBytes); err != nil {
		return "", err
	}
	if *url == nil {
		return "", hookline.Invalid("url", "is required")
	}
	var requested string
	if *tenant != nil {
		requested = **tenant
	}
	return scopedTenant(r, requested)
}

func (h *handler) webhookCreate(w http.ResponseWriter, r *http.Request) {
	var in webhooks.Input
	tenant, err := decodeTarget(w, r, &in, &in.URL, &in.Tenant)
	if err != nil {
		h.error(w, r, err)
		return
	}
	wh, err := h.webhooks.Create(r.Context(), tenant, &in)
	if err != nil {
		h.error(w, r, err)
		return
	}
	writeCreated(w, webhookView(wh, r, true), "webhooks", wh.ID)
}

// webhookFor loads the webhook of the path, hidden if the key may not see it.
func (h *handler) webhookFor(r *http.Request) (*hookline.Webhook, error) {
	wh, err := h.store.WebhookGet(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	if err := visible(r, wh.Tenant); err != nil {
		return nil, err
	}
	return wh, nil
}

func (h *handler) webhookGet(w http.ResponseWriter, r *http.Request) {
	wh, err := h.webhookFor(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, webhookView(wh, r, false))
}

func (h *handler) webhookList(w http.ResponseWriter, r *http.Request) {
	lp, err := listParams(r, idCursor(hookline.PrefixWebhook))
	if err != nil {
		h.error(w, r, err)
		return
	}
	list, err := h.store.WebhookList(r.Context(), store.WebhookListParams{ListParams: lp, Tenant: listTenant(r)})
	if err != nil {
		h.error(w, r, err)
		return
	}
	views := make([]*hookline.Webhook, len(list))
	for i := range list {
		views[i] = webhookView(&list[i], r, false)
	}
	writePage(h, w, r, views, lp, func(v *hookline.Webhook) string { return v.ID })
}

func (h *handler) webhookReplace(w http.ResponseWriter, r *http.Request) { h.webhookUpdate(w, r, true) }

func (h *handler) webhookPatch(w http.ResponseWriter, r *http.Request) { h.webhookUpdate(w, r, false) }

// webhookUpdate serves PUT (replace: fields left out take their defaults, the
// secret is kept unless given) and PATCH (fields left out are kept).
func (h *handler) webhookUpdate(w http.ResponseWriter, r *http.Request, replace bool) {
	var in webhooks.Input
	if err := decode(w, r, &in, maxBodyBytes); err != nil {
		h.error(w, r, err)
		return
	}
	wh, err := h.webhookFor(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	updated, err := h.webhooks.Update(r.Context(), wh, &in, replace)
	if err != nil {
		h.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, webhookView(updated, r, in.Secret != nil))
}

func (h *handler) webhookDelete(w http.ResponseWriter, r *http.Request) {
	wh, err := h.webhookFor(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	if err := h.webhooks.Delete(r.Context(), wh); err != nil {
		h.error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *handler) webhookTest(w http.ResponseWriter, r *http.Request) {
	wh, err := h.webhookFor(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	a, err := h.webhooks.Test(r.Context(), wh, "")
	h.extendWriteDeadline(w) // the send may have taken the profile's whole timeout
	if err != nil {
		h.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, logEntry(a))
}

// logItem is one line of a webhook's delivery log (the fields of the Products
// Manager page's example, and more).
type logItem struct {
	ID              string            `json:"id"`
	Timestamp       string            `json:"timestamp"`
	Event           string            `json:"event"`
	EventID         string            `json:"event_id"`
	DeliveryID      string            `json:"delivery_id,omitempty"`
	HTTPStatus      *int              `json:"http_status"` // null: no answer (error says why)
	ResponseTimeMS  int64             `json:"response_time_ms"`
	RetryCount      int               `json:"retry_count"`
	Success         bool              `json:"success"`
	Error           string            `json:"error,omitempty"`
	RequestHeaders  map[string]string `json:"request_headers,omitempty"`
	ResponseHeaders map[string]string `json:"response_headers,omitempty"`
	ResponseBody    string            `json:"response_body,omitempty"`
}

// logEntry is attempt a as the log and a test send show it, its time to the
// millisecond, as stored.
func logEntry(a *hookline.Attempt) logItem {
	return logItem{
		ID: a.ID, Timestamp: a.StartedAt.UTC().Truncate(time.Millisecond).Format(time.RFC3339Nano), Event: a.EventType, EventID: a.EventID,
		DeliveryID: a.DeliveryID, HTTPStatus: a.HTTPStatus(), ResponseTimeMS: a.DurationMS, RetryCount: a.RetryCount(),
		Success: a.Succeeded(), Error: a.Error,
		RequestHeaders: a.RequestHeaders, ResponseHeaders: a.ResponseHeaders, ResponseBody: a.ResponseBody,
	}
}

func (h *handler) webhookLogs(w http.ResponseWriter, r *http.Request) {
	lp, err := listParams(r, idCursor(hookline.PrefixAttempt))
	if err != nil {
		h.error(w, r, err)
		return
	}
	wh, err := h.webhookFor(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	after, before, err := createdRange(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	attempts, err := h.store.AttemptList(r.Context(), store.AttemptListParams{ListParams: lp, WebhookID: wh.ID, CreatedAfter: after, CreatedBefore: before})
	if err != nil {
		h.error(w, r, err)
		return
	}
	items := make([]logItem, len(attempts))
	for i := range attempts {
		items[i] = logEntry(&attempts[i])
	}
	writePage(h, w, r, items, lp, func(it logItem) string { return it.ID })
}

// rotateInput is the body of POST /v1/webhooks/{id}/rotate-secret.
type rotateInput struct {
	// Secret is the new secret; generated when empty.
	Secret string `json:"secret"`
	// GracePeriod is how long the old secret keeps signing next to the new one
	// (a Go duration, default 24h, at most 7 days; 0s drops it at once). A
	// profile with one signature per header gives none (webhooks.CarriesGrace).
	GracePeriod string `json:"grace_period"`
}

// rotatedView is the answer of rotate-secret: the webhook, and why the old
// secret stopped signing at once when its profile cannot carry a grace period.
type rotatedView struct {
	*hookline.Webhook
	NoGraceReason string `json:"no_grace_reason,omitempty"`
}

func (h *handler) webhookRotateSecret(w http.ResponseWriter, r *http.Request) {
	var in rotateInput
	if r.ContentLength != 0 {
		if err := decode(w, r, &in, maxBodyBytes); err != nil {
			h.error(w, r, err)
			return
		}
	}
	// Refused before the webhook is looked up: a bad body is the same 422
	// whichever id it is sent to.
	grace, err := webhooks.ParseGracePeriod(in.GracePeriod)
	if err != nil {
		h.error(w, r, err)
		return
	}
	wh, err := h.webhookFor(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	wh, err = h.webhooks.RotateSecret(r.Context(), wh, in.Secret, grace)
	if err != nil {
		h.error(w, r, err)
		return
	}
	why, err := h.webhooks.NoGraceReason(r.Context(), wh)
	if err != nil {
		h.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rotatedView{Webhook: webhookView(wh, r, true), NoGraceReason: why})
}
