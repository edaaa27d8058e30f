package api

import (
	"context"
	"net/http"
	"time"

	"github.com/hookline/hookline/internal/logthrottle"
)

func (h *handler) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// msgNotReady is logged, throttled, while readiness checks fail.
const msgNotReady = "readiness check: storage unreachable"

func (h *handler) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := h.store.Ping(ctx); err != nil {
		h.log.Warn(msgNotReady, "err", err, "request_id", requestID(r))
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "storage": "unreachable"})
		return
	}
	logthrottle.Resolved(r.Context(), h.log, msgNotReady, "readiness check: storage reachable again")
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func (h *handler) metricsPage(w http.ResponseWriter, r *http.Request) {
	h.metrics.Handler().ServeHTTP(w, r)
}
