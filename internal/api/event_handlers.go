package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hookline/hookline/internal/delivery"
	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

// eventInput is the body of POST /v1/events.
type eventInput struct {
	Type      string          `json:"type"`
	Data      json.RawMessage `json:"data"`
	Tenant    string          `json:"tenant"`
	ID        string          `json:"id"`
	Timestamp *timeInput      `json:"timestamp"`
}

// eventAccepted is the 202 answer to a publish.
type eventAccepted struct {
	ID             string            `json:"id"`
	Tenant         string            `json:"tenant"`
	Type           string            `json:"type"`
	Timestamp      time.Time         `json:"timestamp"`
	IdempotencyKey string            `json:"idempotency_key,omitempty"`
	Duplicate      bool              `json:"duplicate"`
	Deliveries     []deliverySummary `json:"deliveries"`
}

type deliverySummary struct {
	ID        string `json:"id"`
	WebhookID string `json:"webhook_id"`
	Status    string `json:"status"`
}

// publishParams validates one event of a publish request.
func (h *handler) publishParams(r *http.Request, in *eventInput, idemHeader string) (delivery.PublishParams, error) {
	var p delivery.PublishParams
	if err := hookline.ValidateEventType("type", in.Type); err != nil {
		return p, err
	}
	tenant, err := scopedTenant(r, in.Tenant)
	if err != nil {
		return p, err
	}
	if tenant == hookline.TenantOps {
		return p, hookline.Invalid("tenant", "%q is reserved for Hookline's operational events", hookline.TenantOps)
	}
	if len(bytes.TrimSpace(in.Data)) == 0 {
		return p, hookline.Invalid("data", "is required (any JSON value; {} for none)")
	}
	if !utf8.Valid(in.Data) {
		return p, hookline.Invalid("data", "must be valid UTF-8")
	}
	var compact bytes.Buffer
	compact.Grow(len(in.Data))
	if err := json.Compact(&compact, in.Data); err != nil {
		return p, hookline.Invalid("data", "is not valid JSON")
	}
	if int64(compact.Len()) > h.cfg.MaxPayloadBytes {
		msg := fmt.Sprintf("%d bytes, more than the %d this server allows (--max-payload-bytes)", compact.Len(), h.cfg.MaxPayloadBytes)
		return p, &httpError{status: http.StatusRequestEntityTooLarge, kind: "too-large", field: "data", message: msg, detail: "data: " + msg}
	}
	// The event type's schema, when the catalogue has one for it.
	sch, err := h.schemas.get(r.Context(), in.Type)
	if err != nil {
		return p, err
	}
	if sch != nil {
		if err := checkData(sch, "data", compact.Bytes()); err != nil {
			return p, err
		}
	}
	key := in.ID
	if idemHeader != "" {
		if key != "" && key != idemHeader {
			return p, hookline.Invalid("id", "differs from the Idempotency-Key header; send one or make them equal")
		}
		key = idemHeader
	}
	if len(key) > 255 {
		return p, hookline.Invalid("id", "at most 255 characters")
	}
	p = delivery.PublishParams{Tenant: tenant, Type: in.Type, Data: compact.Bytes(), IdempotencyKey: key}
	if in.Timestamp != nil {
		// The zero time ("0001-01-01T00:00:00Z") is what an unset field of many
		// languages encodes to: refused rather than silently replaced, as is any
		// time before the Unix epoch, which signature schemes cannot carry.
		if in.Timestamp.Before(time.Unix(0, 0)) {
			return p, hookline.Invalid("timestamp", "must be on or after 1970-01-01T00:00:00Z (leave it out to use the time of publishing)")
		}
		p.Timestamp = in.Timestamp.UTC().Truncate(time.Millisecond)
	}
	return p, nil
}

func (h *handler) eventPublish(w http.ResponseWriter, r *http.Request) {
	var in eventInput
	if err := decode(w, r, &in, h.cfg.MaxPayloadBytes+64<<10); err != nil {
		h.error(w, r, err)
		return
	}
	p, err := h.publishParams(r, &in, r.Header.Get("Idempotency-Key"))
	if err != nil {
		h.error(w, r, err)
		return
	}
	results, err := h.engine.Publish(r.Context(), []delivery.PublishParams{p})
	if err != nil {
		h.error(w, r, err)
		return
	}
	res := results[0]
	if !res.Created {
		if err := sameEvent(p, res.Event); err != nil {
			h.error(w, r, err)
			return
		}
		w.Header().Set("Idempotent-Replayed", "true")
	}
	writeJSON(w, http.StatusAccepted, accepted(res))
}

// sameEvent refuses a publish whose id (its idempotency key) is already the
// stored event e, with another type, data or timestamp: replaying e would
// drop the publisher's new event without a word. Data is compared as JSON
// values, so key order and spacing do not count; a timestamp left out is the
// time of the first publish and matches it.
func sameEvent(p delivery.PublishParams, e *hookline.Event) error {
	var differ []string
	if p.Type != e.Type {
		differ = append(differ, "type")
	}
	if !sameJSON(p.Data, e.Data) {
		differ = append(differ, "data")
	}
	if !p.Timestamp.IsZero() && !p.Timestamp.Equal(e.Timestamp) {
		differ = append(differ, "timestamp")
	}
	if len(differ) == 0 {
		return nil
	}
	msg := fmt.Sprintf("%q is the id of event %s, published with another %s; give a new event a new id, or resend the same event to get its first answer",
		p.IdempotencyKey, e.ID, strings.Join(differ, " and "))
	return &httpError{status: http.StatusUnprocessableEntity, kind: "idempotency-key-reused", field: "id", message: msg, detail: "id: " + msg}
}

// sameJSON reports whether a and b are the same JSON value: objects with the
// same members in any order, numbers by their text.
func sameJSON(a, b json.RawMessage) bool {
	if bytes.Equal(a, b) {
		return true
	}
	decode := func(raw json.RawMessage) (any, bool) {
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		var v any
		return v, d.Decode(&v) == nil
	}
	va, okA := decode(a)
	vb, okB := decode(b)
	return okA && okB && reflect.DeepEqual(va, vb)
}

func accepted(res store.EventInsertResult) eventAccepted {
	e := res.Event
	out := eventAccepted{ID: e.ID, Tenant: e.Tenant, Type: e.Type, Timestamp: e.Timestamp,
		IdempotencyKey: e.IdempotencyKey, Duplicate: !res.Created, Deliveries: make([]deliverySummary, len(res.Deliveries))}
	for i, d := range res.Deliveries {
		out.Deliveries[i] = deliverySummary{ID: d.ID, WebhookID: d.WebhookID, Status: d.Status}
	}
	return out
}

func (h *handler) eventList(w http.ResponseWriter, r *http.Request) {
	lp, err := listParams(r, idCursor(hookline.PrefixEvent))
	if err != nil {
		h.error(w, r, err)
		return
	}
	after, before, err := createdRange(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	list, err := h.store.EventList(r.Context(), store.EventListParams{ListParams: lp, Tenant: listTenant(r), Type: r.URL.Query().Get("type"),
		CreatedAfter: after, CreatedBefore: before})
	if err != nil {
		h.error(w, r, err)
		return
	}
	writePage(h, w, r, list, lp, func(e hookline.Event) string { return e.ID })
}

// eventWithDeliveries is GET /v1/events/{id}.
type eventWithDeliveries struct {
	*hookline.Event
	Deliveries []hookline.Delivery `json:"deliveries"`
}

// eventFor returns the event of the request's path, or ErrNotFound when it
// is absent or another tenant's (visible).
func (h *handler) eventFor(r *http.Request) (*hookline.Event, error) {
	e, err := h.store.EventGet(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	if err := visible(r, e.Tenant); err != nil {
		return nil, err
	}
	return e, nil
}

func (h *handler) eventGet(w http.ResponseWriter, r *http.Request) {
	e, err := h.eventFor(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	ds, err := h.store.DeliveryList(r.Context(), store.DeliveryListParams{ListParams: store.ListParams{Limit: 1000}, EventID: e.ID})
	if err != nil {
		h.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, eventWithDeliveries{Event: e, Deliveries: ds})
}
