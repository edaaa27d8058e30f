package api

import (
	"net/http"

	"github.com/hookline/hookline/internal/webhooks"
)

// urlTested is the answer of POST /v1/webhook-tests: the attempt, with the
// fields of a test send's answer (logItem), the profile it was rendered with
// and, when the request gave none, the secret generated to sign it.
type urlTested struct {
	LogItem
	Profile string `json:"profile"`
	Secret  string `json:"secret,omitempty"`
}

// LogItem is logItem under an exported name, so that urlTested embeds its
// fields (and reflection, in the schema tests, reaches them).
type LogItem = logItem

func (h *handler) webhookTestURL(w http.ResponseWriter, r *http.Request) {
	var in webhooks.TestURLInput
	tenant, err := decodeTarget(w, r, &in, &in.URL, &in.Tenant)
	if err != nil {
		h.error(w, r, err)
		return
	}
	res, err := h.webhooks.TestURL(r.Context(), tenant, &in)
	h.extendWriteDeadline(w) // the send may have taken the profile's whole timeout
	if err != nil {
		h.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, urlTested{LogItem: logEntry(res.Attempt), Profile: res.Profile, Secret: res.Secret})
}
