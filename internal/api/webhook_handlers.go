package api

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/profile"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/webhook"
)

// webhookInput is the body of POST, PUT and PATCH /v1/webhooks. Pointers tell a
// field left out (PATCH keeps it) from one set to its zero value.
type webhookInput struct {
	URL         *string            `json:"url"`
	Events      *[]string          `json:"events"`
	Tenant      *string            `json:"tenant"`
	Secret      *string            `json:"secret"`
	Active      *bool              `json:"active"`
	Description *string            `json:"description"`
	Profile     *string            `json:"profile"`
	Headers     *map[string]string `json:"headers"`
	Metadata    *map[string]string `json:"metadata"`
	Ordered     *bool              `json:"ordered"`
}

// apply copies the fields that are set onto w and validates the result against
// its profile, which it returns.
func (h *handler) apply(r *http.Request, in *webhookInput, w *hookline.Webhook) (*profile.Profile, error) {
	if in.URL != nil {
		w.URL = strings.TrimSpace(*in.URL)
	}
	if in.Events != nil {
		w.Events = *in.Events
	}
	if in.Secret != nil {
		w.Secret = *in.Secret
	}
	if in.Active != nil {
		w.Active = *in.Active
	}
	if in.Description != nil {
		w.Description = *in.Description
	}
	if in.Profile != nil {
		w.Profile = *in.Profile
	}
	if in.Headers != nil {
		w.Headers = *in.Headers
	}
	if in.Metadata != nil {
		w.Metadata = *in.Metadata
	}
	if in.Ordered != nil {
		w.Ordered = *in.Ordered
	}
	return h.validateWebhook(r, w)
}

// reservedHeaders are set by Hookline and may not be overridden per webhook.
var reservedHeaders = map[string]bool{
	"host": true, "content-length": true, "content-type": true, "transfer-encoding": true,
	"connection": true, "te": true, "upgrade": true, "trailer": true, "expect": true,
	webhook.HeaderID: true, webhook.HeaderTimestamp: true, webhook.HeaderSignature: true,
}

func (h *handler) validateWebhook(r *http.Request, w *hookline.Webhook) (*profile.Profile, error) {
	if w.Profile == "" {
		w.Profile = profile.Standard
	}
	prof, err := h.profiles.Get(r.Context(), w.Profile)
	if errors.Is(err, hookline.ErrNotFound) {
		return nil, hookline.Invalid("profile", "unknown profile %q; GET /v1/profiles lists them", w.Profile)
	}
	if err != nil {
		return nil, err
	}
	return prof, validateWebhookFields(w, prof)
}

func validateWebhookFields(w *hookline.Webhook, prof *profile.Profile) error {
	if err := hookline.ValidateURL("url", w.URL); err != nil {
		return err
	}
	if w.Events == nil {
		w.Events = []string{}
	}
	if len(w.Events) > 100 {
		return hookline.Invalid("events", "at most 100 filters")
	}
	for _, p := range w.Events {
		if err := hookline.ValidateEventPattern(p); err != nil {
			return err
		}
	}
	if w.Secret == "" {
		secret, err := prof.NewSecret()
		if err != nil {
			return err
		}
		w.Secret = secret
	} else if err := prof.ValidateSecret(w.Secret); err != nil {
		return err
	}
	if len(w.Description) > 1000 {
		return hookline.Invalid("description", "at most 1000 characters")
	}
	if w.Headers == nil {
		w.Headers = map[string]string{}
	}
	if len(w.Headers) > maxHeaders {
		return hookline.Invalid("headers", "at most %d headers", maxHeaders)
	}
	size := 0
	for k, v := range w.Headers {
		if size += len(k) + len(v); size > maxHeadersBytes {
			return hookline.Invalid("headers", "at most %d bytes of names and values in all", maxHeadersBytes)
		}
		if !validHeaderName(k) {
			return hookline.Invalid("headers", "%q is not a valid header name", k)
		}
		if reservedHeaders[strings.ToLower(k)] || prof.Scheme() != nil && strings.EqualFold(k, prof.Scheme().Header) {
			return hookline.Invalid("headers", "%q is set by Hookline and cannot be overridden", k)
		}
		if strings.ContainsAny(v, "\r\n\x00") || len(v) > 4096 {
			return hookline.Invalid("headers", "the value of %q must be one line of at most 4096 bytes", k)
		}
	}
	if w.Metadata == nil {
		w.Metadata = map[string]string{}
	}
	if len(w.Metadata) > maxMetadataKeys {
		return hookline.Invalid("metadata", "at most %d keys", maxMetadataKeys)
	}
	for k, v := range w.Metadata {
		if k == "" || len(k) > maxMetadataKey {
			return hookline.Invalid("metadata", "keys must be 1 to %d bytes; %.20q… is not", maxMetadataKey, k)
		}
		if len(v) > maxMetadataValue {
			return hookline.Invalid("metadata", "the value of %q must be at most %d bytes", k, maxMetadataValue)
		}
	}
	return nil
}

// Limits on a webhook's custom headers and metadata, which every read of it
// returns: they bound the size of a webhook, and so of a page of them.
const (
	maxHeaders       = 20
	maxHeadersBytes  = 16 << 10 // names and values together; one value is at most 4096 bytes
	maxMetadataKeys  = 50
	maxMetadataKey   = 64
	maxMetadataValue = 512
)

func validHeaderName(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!#$%&'*+-.^_`|~", r)) {
			return false
		}
	}
	return true
}

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

// unmaskHeaders puts back the stored value of every header that in sends as
// hookline.MaskedValue, the placeholder reads show: a webhook read, changed and
// sent back whole keeps its credentials. A placeholder for a header the webhook
// does not have is refused.
func unmaskHeaders(in map[string]string, stored map[string]string) error {
	for k, v := range in {
		if v != hookline.MaskedValue {
			continue
		}
		old, ok := stored[k]
		if !ok {
			return hookline.Invalid("headers", "the value of %q is %s, the placeholder reads show for hidden values, and the webhook has no such header to keep; send the real value", k, hookline.MaskedValue)
		}
		in[k] = old
	}
	return nil
}

func (h *handler) webhookCreate(w http.ResponseWriter, r *http.Request) {
	var in webhookInput
	if err := decode(w, r, &in, maxBodyBytes); err != nil {
		h.error(w, r, err)
		return
	}
	if in.URL == nil {
		h.error(w, r, hookline.Invalid("url", "is required"))
		return
	}
	var requested string
	if in.Tenant != nil {
		requested = *in.Tenant
	}
	tenant, err := scopedTenant(r, requested)
	if err != nil {
		h.error(w, r, err)
		return
	}
	if in.Headers != nil {
		if err := unmaskHeaders(*in.Headers, nil); err != nil {
			h.error(w, r, err)
			return
		}
	}
	now := h.now().UTC()
	wh := &hookline.Webhook{ID: hookline.NewID(hookline.PrefixWebhook), Tenant: tenant, Active: true, CreatedAt: now, UpdatedAt: now}
	prof, err := h.apply(r, &in, wh)
	if err != nil {
		h.error(w, r, err)
		return
	}
	limit := prof.Policy.MaxWebhooksPerTenant
	if limit == 0 {
		limit = h.cfg.MaxWebhooksPerTenant
	}
	err = h.store.WebhookCreate(r.Context(), store.WebhookCreateParams{Webhook: wh, MaxPerTenant: limit})
	if err != nil {
		h.error(w, r, err)
		return
	}
	h.engine.WebhookChanged(wh.ID, wh.Tenant)
	writeJSON(w, http.StatusCreated, webhookView(wh, r, true))
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
	lp, err := listParams(r)
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
	writePage(h, w, r, views, lp.Limit, func(v *hookline.Webhook) string { return v.ID })
}

func (h *handler) webhookReplace(w http.ResponseWriter, r *http.Request) { h.webhookUpdate(w, r, true) }

func (h *handler) webhookPatch(w http.ResponseWriter, r *http.Request) { h.webhookUpdate(w, r, false) }

// webhookUpdate serves PUT (replace: fields left out take their defaults, the
// secret is kept unless given) and PATCH (fields left out are kept).
func (h *handler) webhookUpdate(w http.ResponseWriter, r *http.Request, replace bool) {
	var in webhookInput
	if err := decode(w, r, &in, maxBodyBytes); err != nil {
		h.error(w, r, err)
		return
	}
	wh, err := h.webhookFor(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	if in.Tenant != nil && *in.Tenant != wh.Tenant {
		h.error(w, r, hookline.Invalid("tenant", "a webhook cannot move to another tenant; create a new one"))
		return
	}
	if in.Headers != nil {
		if err := unmaskHeaders(*in.Headers, wh.Headers); err != nil {
			h.error(w, r, err)
			return
		}
	}
	if replace {
		if in.URL == nil {
			h.error(w, r, hookline.Invalid("url", "is required (PUT replaces the webhook; use PATCH to change some fields)"))
			return
		}
		*wh = hookline.Webhook{ID: wh.ID, Tenant: wh.Tenant, Secret: wh.Secret, PreviousSecret: wh.PreviousSecret,
			PreviousSecretUntil: wh.PreviousSecretUntil, Active: true, CreatedAt: wh.CreatedAt}
	}
	wh.UpdatedAt = h.now().UTC()
	if _, err := h.apply(r, &in, wh); err != nil {
		h.error(w, r, err)
		return
	}
	if err := h.store.WebhookUpdate(r.Context(), wh); err != nil {
		h.error(w, r, err)
		return
	}
	h.engine.WebhookChanged(wh.ID, wh.Tenant)
	updated, err := h.store.WebhookGet(r.Context(), wh.ID)
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
	if err := h.store.WebhookDelete(r.Context(), wh.ID); err != nil {
		h.error(w, r, err)
		return
	}
	h.engine.WebhookChanged(wh.ID, wh.Tenant)
	w.WriteHeader(http.StatusNoContent)
}

func (h *handler) webhookTest(w http.ResponseWriter, r *http.Request) {
	wh, err := h.webhookFor(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	a, err := h.engine.Test(r.Context(), wh)
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
	HTTPStatus      int               `json:"http_status"`
	ResponseTimeMS  int64             `json:"response_time_ms"`
	RetryCount      int               `json:"retry_count"`
	Success         bool              `json:"success"`
	Error           string            `json:"error,omitempty"`
	RequestHeaders  map[string]string `json:"request_headers,omitempty"`
	ResponseHeaders map[string]string `json:"response_headers,omitempty"`
	ResponseBody    string            `json:"response_body,omitempty"`
}

func logEntry(a *hookline.Attempt) logItem {
	return logItem{
		ID: a.ID, Timestamp: a.StartedAt.UTC().Format(time.RFC3339Nano), Event: a.EventType, EventID: a.EventID,
		DeliveryID: a.DeliveryID, HTTPStatus: a.StatusCode, ResponseTimeMS: a.DurationMS, RetryCount: a.RetryCount(),
		Success: a.Error == "" && a.StatusCode >= 200 && a.StatusCode < 300, Error: a.Error,
		RequestHeaders: a.RequestHeaders, ResponseHeaders: a.ResponseHeaders, ResponseBody: a.ResponseBody,
	}
}

func (h *handler) webhookLogs(w http.ResponseWriter, r *http.Request) {
	lp, err := listParams(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	wh, err := h.webhookFor(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	attempts, err := h.store.AttemptList(r.Context(), store.AttemptListParams{ListParams: lp, WebhookID: wh.ID})
	if err != nil {
		h.error(w, r, err)
		return
	}
	items := make([]logItem, len(attempts))
	for i := range attempts {
		items[i] = logEntry(&attempts[i])
	}
	writePage(h, w, r, items, lp.Limit, func(it logItem) string { return it.ID })
}

// rotateInput is the body of POST /v1/webhooks/{id}/rotate-secret.
type rotateInput struct {
	// Secret is the new secret; generated when empty.
	Secret string `json:"secret"`
	// GracePeriod is how long the old secret keeps signing next to the new one
	// (a Go duration, default 24h, at most 7 days; 0s drops it at once).
	GracePeriod string `json:"grace_period"`
}

const maxGracePeriod = 7 * 24 * time.Hour

func (h *handler) webhookRotateSecret(w http.ResponseWriter, r *http.Request) {
	var in rotateInput
	if r.ContentLength != 0 {
		if err := decode(w, r, &in, maxBodyBytes); err != nil {
			h.error(w, r, err)
			return
		}
	}
	grace := 24 * time.Hour
	if in.GracePeriod != "" {
		d, err := time.ParseDuration(in.GracePeriod)
		if err != nil || d < 0 || d > maxGracePeriod {
			h.error(w, r, hookline.Invalid("grace_period", "must be a duration from 0s to 168h, such as 24h"))
			return
		}
		grace = d
	}
	wh, err := h.webhookFor(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	prof, err := h.profiles.Get(r.Context(), wh.Profile)
	if err != nil {
		h.error(w, r, err)
		return
	}
	secret := in.Secret
	if secret == "" {
		if secret, err = prof.NewSecret(); err != nil {
			h.error(w, r, err)
			return
		}
	} else if err := prof.ValidateSecret(secret); err != nil {
		h.error(w, r, err)
		return
	}
	now := h.now().UTC()
	wh.PreviousSecret, wh.PreviousSecretUntil = "", nil
	if grace > 0 {
		until := now.Add(grace)
		wh.PreviousSecret, wh.PreviousSecretUntil = wh.Secret, &until
	}
	wh.Secret, wh.UpdatedAt = secret, now
	if err := h.store.WebhookUpdate(r.Context(), wh); err != nil {
		h.error(w, r, err)
		return
	}
	h.engine.WebhookChanged(wh.ID, wh.Tenant)
	writeJSON(w, http.StatusOK, webhookView(wh, r, true))
}
