package api

import (
	"net/http"

	"github.com/hookline/hookline/internal/hookline"
)

// route is one entry of the API: its ServeMux pattern, the scope a key needs
// (empty: no authentication) and the handler.
type route struct {
	pattern string
	scope   string
	handle  func(h *handler, w http.ResponseWriter, r *http.Request)
}

// routes is the whole API surface. The OpenAPI document is tested against it.
var routes = []route{
	{"GET /healthz", "", (*handler).healthz},
	{"GET /readyz", "", (*handler).readyz},
	{"GET /metrics", "", (*handler).metricsPage},
	{"GET /openapi.json", "", (*handler).openAPI},
	{"GET /docs", "", (*handler).docs},

	{"POST /v1/webhooks", hookline.ScopeWebhooksWrite, (*handler).webhookCreate},
	{"GET /v1/webhooks", hookline.ScopeWebhooksRead, (*handler).webhookList},
	{"GET /v1/webhooks/{id}", hookline.ScopeWebhooksRead, (*handler).webhookGet},
	{"PUT /v1/webhooks/{id}", hookline.ScopeWebhooksWrite, (*handler).webhookReplace},
	{"PATCH /v1/webhooks/{id}", hookline.ScopeWebhooksWrite, (*handler).webhookPatch},
	{"DELETE /v1/webhooks/{id}", hookline.ScopeWebhooksWrite, (*handler).webhookDelete},
	{"POST /v1/webhooks/{id}/rotate-secret", hookline.ScopeWebhooksWrite, (*handler).webhookRotateSecret},
	{"POST /v1/webhooks/{id}/test", hookline.ScopeWebhooksWrite, (*handler).webhookTest},
	{"GET /v1/webhooks/{id}/logs", hookline.ScopeDeliveriesRead, (*handler).webhookLogs},
	{"POST /v1/webhooks/{id}/recover", hookline.ScopeDeliveriesWrite, (*handler).webhookRecover},

	{"POST /v1/webhook-tests", hookline.ScopeWebhooksWrite, (*handler).webhookTestURL},

	{"GET /v1/tenants/{tenant}/defaults", hookline.ScopeWebhooksRead, (*handler).tenantDefaultsGet},
	{"PUT /v1/tenants/{tenant}/defaults", hookline.ScopeWebhooksWrite, (*handler).tenantDefaultsPut},
	{"DELETE /v1/tenants/{tenant}/defaults", hookline.ScopeWebhooksWrite, (*handler).tenantDefaultsDelete},

	{"POST /v1/events", hookline.ScopeEventsWrite, (*handler).eventPublish},
	{"POST /v1/events/batch", hookline.ScopeEventsWrite, (*handler).eventPublishBatch},
	{"GET /v1/events", hookline.ScopeEventsRead, (*handler).eventList},
	{"GET /v1/events/{id}", hookline.ScopeEventsRead, (*handler).eventGet},
	{"POST /v1/events/{id}/replay", hookline.ScopeDeliveriesWrite, (*handler).eventReplay},

	{"GET /v1/deliveries", hookline.ScopeDeliveriesRead, (*handler).deliveryList},
	{"GET /v1/deliveries/{id}", hookline.ScopeDeliveriesRead, (*handler).deliveryGet},
	{"POST /v1/deliveries/{id}/retry", hookline.ScopeDeliveriesWrite, (*handler).deliveryRetry},

	{"GET /v1/profiles", hookline.ScopeWebhooksRead, (*handler).profileList},
	{"POST /v1/profiles", hookline.ScopeAdmin, (*handler).profileCreate},
	{"GET /v1/profiles/{name}", hookline.ScopeWebhooksRead, (*handler).profileGet},
	{"PUT /v1/profiles/{name}", hookline.ScopeAdmin, (*handler).profileUpdate},
	{"DELETE /v1/profiles/{name}", hookline.ScopeAdmin, (*handler).profileDelete},

	{"GET /v1/event-types", hookline.ScopeEventTypesRead, (*handler).eventTypeList},
	{"POST /v1/event-types", hookline.ScopeEventTypesWrite, (*handler).eventTypeCreate},
	{"GET /v1/event-types/{name}", hookline.ScopeEventTypesRead, (*handler).eventTypeGet},
	{"PUT /v1/event-types/{name}", hookline.ScopeEventTypesWrite, (*handler).eventTypeUpdate},
	{"DELETE /v1/event-types/{name}", hookline.ScopeEventTypesWrite, (*handler).eventTypeDelete},

	{"GET /v1/keyspaces", hookline.ScopeKeysRead, (*handler).keyspaceList},
	{"POST /v1/keyspaces", hookline.ScopeAdmin, (*handler).keyspaceCreate},
	{"GET /v1/keyspaces/{name}", hookline.ScopeKeysRead, (*handler).keyspaceGet},
	{"PATCH /v1/keyspaces/{name}", hookline.ScopeAdmin, (*handler).keyspacePatch},
	{"DELETE /v1/keyspaces/{name}", hookline.ScopeAdmin, (*handler).keyspaceDelete},
	{"POST /v1/keyspaces/{name}/keys", hookline.ScopeKeysWrite, (*handler).keyCreate},
	{"GET /v1/keyspaces/{name}/keys", hookline.ScopeKeysRead, (*handler).keyList},
	{"GET /v1/keyspaces/{name}/keys/{id}", hookline.ScopeKeysRead, (*handler).keyGet},
	{"POST /v1/keyspaces/{name}/keys/{id}/revoke", hookline.ScopeKeysWrite, (*handler).keyRevoke},
	{"POST /v1/keyspaces/{name}/keys/{id}/roll", hookline.ScopeKeysWrite, (*handler).keyRoll},
	{"POST /v1/keys/verify", hookline.ScopeKeysVerify, (*handler).keyVerify},

	{"POST /v1/portal-sessions", hookline.ScopeWebhooksRead, (*handler).portalSessionCreate},
	{"DELETE /v1/portal-sessions", hookline.ScopeWebhooksWrite, (*handler).portalSessionDeleteTenant},
	{"GET /v1/portal-sessions/{id}", hookline.ScopeWebhooksRead, (*handler).portalSessionGet},
	{"DELETE /v1/portal-sessions/{id}", hookline.ScopeWebhooksWrite, (*handler).portalSessionDelete},

	{"GET /v1/api-keys", hookline.ScopeAPIKeysAdmin, (*handler).apiKeyList},
	{"POST /v1/api-keys", hookline.ScopeAPIKeysAdmin, (*handler).apiKeyCreate},
	{"DELETE /v1/api-keys/{id}", hookline.ScopeAPIKeysAdmin, (*handler).apiKeyDelete},
}

// selfLimited are the routes whose handler takes the key's rate limit itself,
// because what a request costs is only known once its body is read (a batch:
// one token per event). wrap takes one token per request for every other route.
var selfLimited = map[string]bool{"POST /v1/events/batch": true}

// queryParams are the query parameters each route takes; a route not listed
// takes none. wrap refuses any other with 400 naming it, as the body decoder
// refuses unknown fields, and a test holds openapi.json to this list.
var queryParams = map[string][]string{
	"POST /v1/webhooks":                    {"include_secret"},
	"GET /v1/webhooks":                     withPaging("tenant", "include_secret"),
	"GET /v1/webhooks/{id}":                {"include_secret"},
	"PUT /v1/webhooks/{id}":                {"include_secret"},
	"PATCH /v1/webhooks/{id}":              {"include_secret"},
	"POST /v1/webhooks/{id}/rotate-secret": {"include_secret"},
	"GET /v1/webhooks/{id}/logs":           withPaging("created_after", "created_before"),
	"GET /v1/events":                       withPaging("tenant", "type", "created_after", "created_before"),
	"GET /v1/deliveries":                   withPaging("webhook_id", "event_id", "status", "tenant", "created_after", "created_before"),
	"GET /v1/event-types":                  withPaging(),
	"GET /v1/keyspaces/{name}/keys":        withPaging("tenant"),
	"DELETE /v1/portal-sessions":           {"tenant"},
	"GET /v1/api-keys":                     withPaging("tenant"),
}

// withPaging is a list's own parameters and those of every list's paging
// (listParams).
func withPaging(own ...string) []string {
	return append(own, "limit", "cursor", "ending_before")
}
