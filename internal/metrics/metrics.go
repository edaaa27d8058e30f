// Package metrics holds Hookline's Prometheus collectors, registered on a registry
// of their own (not the global one) so tests can run servers side by side.
package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is the set of collectors one server updates.
type Metrics struct {
	Registry         *prometheus.Registry
	EventsPublished  prometheus.Counter
	Attempts         *prometheus.CounterVec
	AttemptDuration  prometheus.Histogram
	DeliveriesEnded  *prometheus.CounterVec
	WebhooksDisabled prometheus.Counter
	// DeliveriesDeferred counts jobs handed back to the store because their
	// webhook was at its concurrency limit or paused (no attempt counted).
	DeliveriesDeferred prometheus.Counter
	// DeliveriesRecalled counts deferred deliveries made due early because
	// their webhook had a free slot and nothing waiting.
	DeliveriesRecalled prometheus.Counter
	// DeliveriesHeld counts deliveries held back because their webhook's
	// circuit is open (its endpoint keeps failing).
	DeliveriesHeld prometheus.Counter
	// Circuits counts webhook circuits opened and closed, by event.
	Circuits     *prometheus.CounterVec
	QueueInUse   prometheus.Gauge
	HTTPRequests *prometheus.CounterVec
	HTTPDuration *prometheus.HistogramVec
	RateLimited  prometheus.Counter
}

// New creates and registers the collectors, with Go runtime and process metrics.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		EventsPublished: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hookline_events_published_total", Help: "Events accepted (new, not idempotent repeats).",
		}),
		Attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookline_attempts_total", Help: "Delivery attempts by outcome: success, retry, failed, or stale (another claim had taken the delivery; not recorded).",
		}, []string{"outcome"}),
		AttemptDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "hookline_attempt_duration_seconds", Help: "Time from request start to response headers (or error).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}),
		DeliveriesEnded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookline_deliveries_ended_total", Help: "Deliveries that reached a final status.",
		}, []string{"status"}),
		WebhooksDisabled: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hookline_webhooks_disabled_total", Help: "Webhooks turned off by Hookline (410 Gone or the auto-disable rule).",
		}),
		DeliveriesDeferred: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hookline_deliveries_deferred_total", Help: "Deliveries put back for later because their webhook was at its concurrency limit or paused by Retry-After.",
		}),
		DeliveriesRecalled: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hookline_deliveries_recalled_total", Help: "Deferred deliveries made due early: their webhook had a free slot and nothing waiting.",
		}),
		DeliveriesHeld: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hookline_deliveries_held_total", Help: "Deliveries held back until their webhook's endpoint answers again (its circuit is open).",
		}),
		Circuits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookline_webhook_circuits_total", Help: "Webhook circuits opened (the endpoint keeps failing: its backlog is held and probed) and closed (it answers again), by event.",
		}, []string{"event"}),
		QueueInUse: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hookline_delivery_queue_in_use", Help: "Deliveries claimed by this process and queued or in flight.",
		}),
		HTTPRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookline_http_requests_total", Help: "API requests by route pattern and status code.",
		}, []string{"route", "code"}),
		HTTPDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "hookline_http_request_duration_seconds", Help: "API request latency by route pattern.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
		}, []string{"route"}),
		RateLimited: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hookline_rate_limited_total", Help: "API requests refused with 429.",
		}),
	}
	m.Registry.MustRegister(m.EventsPublished, m.Attempts, m.AttemptDuration, m.DeliveriesEnded,
		m.WebhooksDisabled, m.DeliveriesDeferred, m.DeliveriesRecalled,
		m.DeliveriesHeld, m.Circuits, m.QueueInUse, m.HTTPRequests, m.HTTPDuration, m.RateLimited,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
}
