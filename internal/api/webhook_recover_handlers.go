package api

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/webhooks"
)

// recoverInput is the body of POST /v1/webhooks/{id}/recover.
type recoverInput struct {
	Since  string `json:"since"`
	Until  string `json:"until"`
	Status string `json:"status"`
	DryRun bool   `json:"dry_run"`
}

// recovered answers a recovery: the window and status it took, and how many
// deliveries it made pending (or, in a dry run, would have).
type recovered struct {
	WebhookID string    `json:"webhook_id"`
	Status    string    `json:"status"`
	Since     time.Time `json:"since"`
	Until     time.Time `json:"until"`
	DryRun    bool      `json:"dry_run"`
	Count     int       `json:"count"`
}

func (h *handler) webhookRecover(w http.ResponseWriter, r *http.Request) {
	var in recoverInput
	if err := decode(w, r, &in, maxBodyBytes); err != nil {
		h.error(w, r, err)
		return
	}
	since, err := parseTime("since", in.Since)
	if err != nil {
		h.error(w, r, err)
		return
	}
	until, err := parseTime("until", in.Until)
	if err != nil {
		h.error(w, r, err)
		return
	}
	wh, err := h.webhookFor(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	if since.IsZero() {
		h.error(w, r, hookline.Invalid("since", "is required: the start of the window, an RFC 3339 time such as 2025-01-02T15:04:05Z"))
		return
	}
	if until.IsZero() {
		until = h.now() // answered, so that a dry run's window can be sent again as is
	}
	if in.Status == "" {
		in.Status = hookline.DeliveryFailed
	}
	n, err := h.webhooks.Recover(r.Context(), wh, webhooks.RecoverParams{Since: since, Until: until, Status: in.Status, DryRun: in.DryRun})
	h.extendWriteDeadline(w) // a large window takes many batches
	if err != nil {
		h.error(w, r, disabledError(err))
		return
	}
	status := http.StatusAccepted
	if in.DryRun {
		status = http.StatusOK
	}
	writeJSON(w, status, recovered{WebhookID: wh.ID, Status: in.Status, Since: since, Until: until, DryRun: in.DryRun, Count: n})
}

// parseTime reads an optional RFC 3339 time of the body field name, in UTC
// to the millisecond, the precision windows are taken to; "" is the zero time.
func parseTime(name, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return t, errField(http.StatusBadRequest, name, fmt.Sprintf("must be an RFC 3339 time with its offset, such as 2025-01-02T15:04:05Z, not %q", s))
	}
	return t.UTC().Truncate(time.Millisecond), nil
}

// disabledError is the answer to queueing deliveries to a disabled webhook,
// which the engine would cancel at once.
func disabledError(err error) error {
	if errors.Is(err, webhooks.ErrDisabled) {
		return errStatus(http.StatusConflict, "webhook-disabled",
			`the webhook is disabled, so its deliveries would be cancelled at once: enable it first (PATCH /v1/webhooks/{id} with {"active": true})`)
	}
	return err
}
