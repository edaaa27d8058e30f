package api_test

import (
	"encoding/json"
	"net/http"
	"testing"
)

// formVoxSchema is what FormVox's page promises its receivers: data with a
// form and a response object.
var formVoxSchema = json.RawMessage(`{"type": "object", "required": ["form", "response"],
	"properties": {"form": {"type": "object"}, "response": {"type": "object", "required": ["id"],
	"properties": {"id": {"type": "string"}}}}}`)

// Publishing checks data against its event type's schema: 422 naming the
// place, for one event and per event of a batch; types without a schema, or
// not in the catalogue, take any data.
func TestPublishChecksSchema(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	fx.do(t, "POST", "/v1/event-types", fx.admin, obj{"name": "form.submitted", "schema": formVoxSchema}).must(t, http.StatusCreated)
	fx.do(t, "POST", "/v1/event-types", fx.admin, obj{"name": "form.free"}).must(t, http.StatusCreated)

	bad := []struct {
		name, data, field string
	}{
		{"no response", `{"form": {"title": "t"}}`, "data.response"},
		{"null", `null`, "data"},
		{"response of the wrong type", `{"form": {}, "response": "r"}`, "data.response"},
		{"deeper", `{"form": {}, "response": {"id": 7}}`, "data.response.id"},
		{"no id", `{"form": {}, "response": {}}`, "data.response.id"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			fx.do(t, "POST", "/v1/events", fx.admin, obj{"type": "form.submitted", "data": json.RawMessage(tc.data)}).
				problem(t, http.StatusUnprocessableEntity, tc.field)
		})
	}
	if n := len(fx.do(t, "GET", "/v1/events?type=form.submitted", fx.admin, nil).items()); n != 0 {
		t.Errorf("after refused publishes: %d events stored, want 0", n)
	}
	good := json.RawMessage(`{"form": {"title": "t"}, "response": {"id": "r1"}}`)
	fx.do(t, "POST", "/v1/events", fx.admin, obj{"type": "form.submitted", "data": good}).must(t, http.StatusAccepted)
	fx.do(t, "POST", "/v1/events", fx.admin, obj{"type": "form.free", "data": json.RawMessage(`null`)}).must(t, http.StatusAccepted)
	fx.do(t, "POST", "/v1/events", fx.admin, obj{"type": "not.in.catalogue", "data": json.RawMessage(`1`)}).must(t, http.StatusAccepted)

	results := fx.publishBatch(t, fx.admin, []obj{
		obj{"type": "form.submitted", "data": good},
		obj{"type": "form.submitted", "data": json.RawMessage(`{"form": {}}`)},
	})
	if results[0]["status"] != 202.0 || results[1]["status"] != 422.0 {
		t.Fatalf("batch: got %v, want 202 then 422", results)
	}
	errs, _ := results[1]["error"].(map[string]any)["errors"].([]any)
	if len(errs) == 0 || errs[0].(map[string]any)["field"] != "data.response" {
		t.Errorf("batch: the refused event's problem %v does not name data.response", results[1]["error"])
	}

	// A schema changed on this node applies at once.
	fx.do(t, "PUT", "/v1/event-types/form.submitted", fx.admin, obj{"schema": obj{"type": "object"}}).must(t, http.StatusOK)
	fx.do(t, "POST", "/v1/events", fx.admin, obj{"type": "form.submitted", "data": json.RawMessage(`{}`)}).must(t, http.StatusAccepted)
	fx.do(t, "DELETE", "/v1/event-types/form.submitted", fx.admin, nil).must(t, http.StatusNoContent)
	fx.do(t, "POST", "/v1/events", fx.admin, obj{"type": "form.submitted", "data": json.RawMessage(`1`)}).must(t, http.StatusAccepted)
}

// An event type's schema must compile, refer to nothing outside itself, and
// accept the type's example.
func TestEventTypeSchemaChecked(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	cases := []struct {
		name  string
		body  obj
		field string
	}{
		{"example against schema", obj{"name": "a.b", "schema": formVoxSchema, "example": obj{"form": obj{}}}, "example.response"},
		{"not a schema", obj{"name": "a.c", "schema": obj{"type": 12}}, "schema"},
		{"remote ref", obj{"name": "a.d", "schema": obj{"$ref": "file:///etc/passwd"}}, "schema"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fx.do(t, "POST", "/v1/event-types", fx.admin, tc.body).problem(t, http.StatusUnprocessableEntity, tc.field)
			fx.do(t, "GET", "/v1/event-types/"+tc.body["name"].(string), fx.admin, nil).problem(t, http.StatusNotFound, "")
		})
	}
	fx.do(t, "POST", "/v1/event-types", fx.admin, obj{"name": "a.e", "schema": formVoxSchema,
		"example": obj{"form": obj{}, "response": obj{"id": "x"}}}).must(t, http.StatusCreated)
	fx.do(t, "PUT", "/v1/event-types/a.e", fx.admin, obj{"schema": formVoxSchema, "example": obj{"form": obj{}}}).
		problem(t, http.StatusUnprocessableEntity, "example.response")
}

// Data holding a name the profile's envelope fills itself (URLR spreads data
// beside its own "timestamp") is refused for a tenant with a webhook of that
// profile, naming data.<name>, and stored nowhere; other tenants take it.
func TestPublishRefusesReservedNames(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	fx.do(t, "POST", "/v1/profiles", fx.admin, obj{"name": "spreads", "definition": obj{
		"envelope": obj{"event": "{event.type}", "...": "{data}", "timestamp": "{event.timestamp.unix}"},
	}}).must(t, http.StatusCreated)
	fx.createWebhook(t, fx.admin, obj{"url": discard, "tenant": "acme", "profile": "spreads"})
	data := json.RawMessage(`{"link": {"code": "x"}, "timestamp": 1697398126}`)
	fx.do(t, "POST", "/v1/events", fx.admin, obj{"type": "link_clicked", "tenant": "acme", "data": data}).
		problem(t, http.StatusUnprocessableEntity, "data.timestamp")
	if n := len(fx.do(t, "GET", "/v1/events?tenant=acme", fx.admin, nil).items()); n != 0 {
		t.Errorf("after the refused publish: %d events stored, want 0", n)
	}
	fx.do(t, "POST", "/v1/events", fx.admin, obj{"type": "link_clicked", "tenant": "acme",
		"data": json.RawMessage(`{"link": {"code": "x"}, "clicked_at": 1697398126}`)}).must(t, http.StatusAccepted)
	fx.do(t, "POST", "/v1/events", fx.admin, obj{"type": "link_clicked", "tenant": "globex", "data": data}).must(t, http.StatusAccepted)
}
