package api

import (
	"net/http"

	"github.com/hookline/hookline/internal/webhooks"
)

// replayInput is the body of POST /v1/events/{id}/replay, which may be left
// out.
type replayInput struct {
	// WebhookID names the one webhook to replay to; every webhook when empty.
	WebhookID string `json:"webhook_id"`
}

// eventReplayed answers a replay: the deliveries made pending again, and
// those left alone with the reason.
type eventReplayed struct {
	EventID  string                `json:"event_id"`
	Replayed []deliverySummary     `json:"replayed"`
	Skipped  []webhooks.ReplaySkip `json:"skipped"`
}

func (h *handler) eventReplay(w http.ResponseWriter, r *http.Request) {
	var in replayInput
	if r.ContentLength != 0 {
		if err := decode(w, r, &in, maxBodyBytes); err != nil {
			h.error(w, r, err)
			return
		}
	}
	e, err := h.eventFor(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	res, err := h.webhooks.Replay(r.Context(), e, in.WebhookID)
	if err != nil {
		h.error(w, r, disabledError(err))
		return
	}
	out := eventReplayed{EventID: e.ID, Replayed: make([]deliverySummary, len(res.Replayed)), Skipped: res.Skipped}
	for i, d := range res.Replayed {
		out.Replayed[i] = deliverySummary{ID: d.ID, WebhookID: d.WebhookID, Status: d.Status}
	}
	writeJSON(w, http.StatusAccepted, out)
}
