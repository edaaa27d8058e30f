// Package apikeys verifies, on a product's API servers, the API keys that
// Hookline issues for that product's own API. It depends on the standard
// library only, so an API server can import it without pulling in Hookline.
//
// A key space is one product API in Hookline: a key prefix ("frm" makes
// frm_…), a catalogue of permissions, and a default rate limit. The product
// creates it once (POST /v1/keyspaces), issues keys to its customers'
// tenants (POST /v1/keyspaces/{name}/keys: the key is shown once), and its
// API servers ask Hookline, on each request, what the key the request
// carried is worth (POST /v1/keys/verify, with a Hookline API key holding
// the keys:verify scope). The answer is a Verification: valid, or the code
// that says why not — NOT_FOUND, REVOKED, EXPIRED, FORBIDDEN (a permission
// or resource the key lacks), RATE_LIMITED — with the key's tenant,
// permissions, meta and rate-limit allowance.
//
// Client makes that call. Middleware wraps the routes of a net/http server:
// each route says which permissions it needs, the handler runs only for a
// key that holds them, and every other request is answered 401, 403, 429 or
// 503 as an RFC 9457 problem, with WWW-Authenticate, Retry-After and the
// rate-limit header fields where they apply. The handler reads the
// Verification with FromContext, to act for its tenant:
//
//	client, err := apikeys.NewClient(os.Getenv("HOOKLINE_URL"), os.Getenv("HOOKLINE_VERIFY_KEY"), nil)
//	if err != nil {
//		log.Fatal(err)
//	}
//	mw := &apikeys.Middleware{Client: client, Keyspace: "formulr"} // Authorization: Bearer frm_…
//
//	mux := http.NewServeMux()
//	mux.Handle("GET /v1/campaigns", mw.Require("campaigns:read")(http.HandlerFunc(listCampaigns)))
//	mux.Handle("POST /v1/campaigns", mw.Require("campaigns:write")(http.HandlerFunc(createCampaign)))
//
//	func listCampaigns(w http.ResponseWriter, r *http.Request) {
//		v := apikeys.FromContext(r.Context())
//		campaigns := store.Campaigns(v.Tenant) // only the key's tenant's
//		…
//	}
//
// A key may be limited to resources (such as "form:123"); a route that acts
// on one names it with RequireResource, here for an API whose keys travel in
// their own header:
//
//	mw := &apikeys.Middleware{Client: client, Keyspace: "formvox", Header: "X-FormVox-API-Key"}
//	mux.Handle("GET /v1/forms/{id}", mw.RequireResource(apikeys.PathResource("form:", "id"), "read_form")(getForm))
//
// Middleware fails closed: when Hookline cannot be reached (or refuses the
// Client's own key) the request is answered 503 with Retry-After and the
// handler is not called; Middleware.OnError is told why. Nothing is cached
// here: Hookline counts every request against the key's rate limit, and a
// key revoked there is refused as soon as Hookline refuses it. Neither the
// answers nor the errors ever contain the key.
//
// The rate-limit header fields are those of the IETF draft
// draft-ietf-httpapi-ratelimit-headers and the common X-RateLimit-* fields;
// Middleware's documentation shows them. X-RateLimit-Reset is a number of
// seconds until the allowance is whole again, not a timestamp.
package apikeys
