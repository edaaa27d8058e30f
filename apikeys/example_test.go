package apikeys_test

import (
	"encoding/json"
	"log"
	"net/http"
	"os"

	"github.com/hookline/hookline/apikeys"
)

// Formulr's API: keys sent as "Authorization: Bearer frm_…", one permission
// per route, everything scoped to the key's tenant.
func ExampleMiddleware() {
	client, err := apikeys.NewClient(os.Getenv("HOOKLINE_URL"), os.Getenv("HOOKLINE_VERIFY_KEY"), nil)
	if err != nil {
		log.Fatal(err)
	}
	mw := &apikeys.Middleware{
		Client:   client,
		Keyspace: "formulr",
		OnError:  func(r *http.Request, err error) { log.Printf("%s %s: 503: %v", r.Method, r.URL.Path, err) },
	}
	listCampaigns := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := apikeys.FromContext(r.Context())
		json.NewEncoder(w).Encode(map[string]any{"tenant": v.Tenant, "items": []any{}})
	})
	mux := http.NewServeMux()
	mux.Handle("GET /v1/campaigns", mw.Require("campaigns:read")(listCampaigns))
	log.Fatal(http.ListenAndServe("127.0.0.1:8090", mux))
}

// FormVox's API: the key in its own header, and keys that may be limited to
// some forms. A list route names no resource, so it filters with CanAccess.
func ExampleMiddleware_RequireResource() {
	client, err := apikeys.NewClient(os.Getenv("HOOKLINE_URL"), os.Getenv("HOOKLINE_VERIFY_KEY"), nil)
	if err != nil {
		log.Fatal(err)
	}
	mw := &apikeys.Middleware{Client: client, Keyspace: "formvox", Header: "X-FormVox-API-Key"}
	form := apikeys.PathResource("form:", "id") // GET /v1/forms/123 acts on form:123

	getForm := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"id": r.PathValue("id")})
	})
	listForms := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := apikeys.FromContext(r.Context())
		var visible []string
		for _, id := range []string{"123", "124"} { // the tenant's forms
			if v.CanAccess("form:" + id) {
				visible = append(visible, id)
			}
		}
		json.NewEncoder(w).Encode(map[string]any{"items": visible})
	})
	mux := http.NewServeMux()
	mux.Handle("GET /v1/forms/{id}", mw.RequireResource(form, "read_form")(getForm))
	mux.Handle("DELETE /v1/forms/{id}/responses", mw.RequireResource(form, "delete_responses")(http.NotFoundHandler()))
	mux.Handle("GET /v1/forms", mw.Require("read_form")(listForms))
	log.Fatal(http.ListenAndServe("127.0.0.1:8091", mux))
}
