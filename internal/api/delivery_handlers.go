package api

import (
	"net/http"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

func (h *handler) deliveryList(w http.ResponseWriter, r *http.Request) {
	lp, err := listParams(r, idCursor(hookline.PrefixDelivery))
	if err != nil {
		h.error(w, r, err)
		return
	}
	q := r.URL.Query()
	status := q.Get("status")
	if status != "" && !hookline.ValidDeliveryStatus(status) {
		h.error(w, r, errField(http.StatusBadRequest, "status", "must be pending, succeeded, failed or cancelled"))
		return
	}
	after, before, err := createdRange(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	list, err := h.store.DeliveryList(r.Context(), store.DeliveryListParams{
		ListParams: lp, Tenant: listTenant(r), WebhookID: q.Get("webhook_id"), EventID: q.Get("event_id"), Status: status,
		CreatedAfter: after, CreatedBefore: before,
	})
	if err != nil {
		h.error(w, r, err)
		return
	}
	writePage(h, w, r, list, lp, func(d hookline.Delivery) string { return d.ID })
}

func (h *handler) deliveryFor(r *http.Request) (*hookline.Delivery, error) {
	d, err := h.store.DeliveryGet(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return d, visible(r, d.Tenant)
}

func (h *handler) deliveryGet(w http.ResponseWriter, r *http.Request) {
	d, err := h.deliveryFor(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	d.AttemptList, err = h.store.AttemptList(r.Context(), store.AttemptListParams{ListParams: store.ListParams{Limit: 1000}, DeliveryID: d.ID})
	if err != nil {
		h.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func (h *handler) deliveryRetry(w http.ResponseWriter, r *http.Request) {
	d, err := h.deliveryFor(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	d, err = h.store.DeliveryRetry(r.Context(), store.DeliveryRetryParams{ID: d.ID, Now: h.now()})
	if err != nil {
		h.error(w, r, err)
		return
	}
	h.engine.Notify()
	writeJSON(w, http.StatusAccepted, d)
}
