package api

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/hookline/hookline/internal/delivery"
)

// maxBatchEvents is how many events one POST /v1/events/batch may carry.
const maxBatchEvents = 1000

// batchBodyLimit bounds a batch's body: 10 MiB, or room for one event of the
// largest data allowed (with the single route's 64 KiB for the rest of it) when
// max-payload-bytes is larger. A batch of large events must be split.
func (h *handler) batchBodyLimit() int64 {
	return max(10<<20, h.cfg.MaxPayloadBytes+64<<10)
}

// batchInput is the body of POST /v1/events/batch. Each event is decoded on
// its own (readBatch), so that an error names its place: events[3].timestamp.
type batchInput struct {
	Events []json.RawMessage `json:"events"`
}

// batchAccepted is the 202 answer to a batch: one result per event, in order.
type batchAccepted struct {
	Results []batchResult `json:"results"`
}

// batchResult is the outcome of one event of a batch: 202 with the event as
// POST /v1/events would answer it, or the status and problem it would have
// refused it with.
type batchResult struct {
	Status int            `json:"status"`
	Event  *eventAccepted `json:"event,omitempty"`
	Error  *problem       `json:"error,omitempty"`
}

// eventPublishBatch publishes the valid events of a batch in one Publish, that
// is one durable commit, and reports the others one by one. The key's rate
// limit costs one token per event (selfLimited), or one for a batch refused as a
// whole by readBatch.
func (h *handler) eventPublishBatch(w http.ResponseWriter, r *http.Request) {
	events, readErr := h.readBatch(w, r)
	cost := 1
	if readErr == nil {
		cost = len(events)
	}
	if err := h.rateLimit(w, r, apiKey(r), cost); err != nil {
		h.error(w, r, err)
		return
	}
	if readErr != nil {
		h.error(w, r, readErr)
		return
	}

	out := batchAccepted{Results: make([]batchResult, len(events))}
	var ps []delivery.PublishParams
	var at []int // at[k] is the batch index of ps[k]
	for i := range events {
		p, err := h.publishParams(r, &events[i], "")
		if err != nil {
			prob := problemOf(err)
			if prob.Status >= http.StatusInternalServerError {
				h.error(w, r, err) // not a fault of the event: fail the request, logged
				return
			}
			out.Results[i] = batchResult{Status: prob.Status, Error: &prob}
			continue
		}
		ps = append(ps, p)
		at = append(at, i)
	}
	if len(ps) > 0 {
		// A key repeated within the batch is stored once: the store answers the
		// later ones with the first, Created false (storetest IdempotencyWithinBatch).
		results, err := h.engine.Publish(r.Context(), ps)
		if err != nil {
			h.error(w, r, err)
			return
		}
		for k, res := range results {
			if !res.Created {
				if err := sameEvent(ps[k], res.Event); err != nil {
					prob := problemOf(err)
					out.Results[at[k]] = batchResult{Status: prob.Status, Error: &prob}
					continue
				}
			}
			ev := accepted(res)
			out.Results[at[k]] = batchResult{Status: http.StatusAccepted, Event: &ev}
		}
	}
	writeJSON(w, http.StatusAccepted, out)
}

// readBatch decodes a batch's events and checks what applies to it as a
// whole.
func (h *handler) readBatch(w http.ResponseWriter, r *http.Request) ([]eventInput, error) {
	if r.Header.Get("Idempotency-Key") != "" {
		return nil, errStatus(http.StatusBadRequest, "bad-request",
			"a batch does not take the Idempotency-Key header: give each event its own id instead")
	}
	var in batchInput
	if err := decode(w, r, &in, h.batchBodyLimit()); err != nil {
		return nil, err
	}
	switch n := len(in.Events); {
	case n == 0:
		return nil, errField(http.StatusBadRequest, "events", fmt.Sprintf("is required: send 1 to %d events", maxBatchEvents))
	case n > maxBatchEvents:
		return nil, errField(http.StatusBadRequest, "events", fmt.Sprintf("%d events, more than the %d a batch may hold", n, maxBatchEvents))
	}
	events := make([]eventInput, len(in.Events))
	for i, raw := range in.Events {
		if err := decodeItem(raw, &events[i], fmt.Sprintf("events[%d]", i)); err != nil {
			return nil, err
		}
	}
	return events, nil
}
