package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
)

func TestEventTypes(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	_, reader := fx.createKey(t, obj{"name": "reader", "scopes": []string{"event-types:read"}})

	c := fx.do(t, "POST", "/v1/event-types", fx.admin, obj{
		"name": "invoice.paid", "description": "An invoice was paid.",
		"example": json.RawMessage(`{"amount": 10.50, "currency": "EUR"}`), "schema": obj{"type": "object"},
	}).must(t, http.StatusCreated)
	if c.str("name") != "invoice.paid" || c.str("description") != "An invoice was paid." {
		t.Errorf("create: got %s", c.raw)
	}
	var ex struct{ Example json.RawMessage }
	if err := json.Unmarshal(c.raw, &ex); err != nil || string(ex.Example) != `{"amount":10.50,"currency":"EUR"}` {
		t.Errorf("create: got example %s, want the example as given, compacted", ex.Example)
	}
	for _, name := range []string{"customer.created", "a.first"} {
		fx.do(t, "POST", "/v1/event-types", fx.admin, obj{"name": name}).must(t, http.StatusCreated)
	}

	invalid := []struct {
		name   string
		body   any
		status int
		field  string
	}{
		{"duplicate", obj{"name": "invoice.paid"}, http.StatusConflict, ""},
		{"bad name", obj{"name": "invoice paid"}, 422, "name"},
		{"no name", obj{"description": "x"}, 422, "name"},
		{"schema not an object", obj{"name": "x.y", "schema": []int{1}}, 422, "schema"},
		{"unknown field", obj{"name": "x.y", "version": 2}, 400, "version"},
	}
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) {
			fx.do(t, "POST", "/v1/event-types", fx.admin, tt.body).problem(t, tt.status, tt.field)
		})
	}
	fx.do(t, "POST", "/v1/event-types", reader, obj{"name": "x.y"}).problem(t, http.StatusForbidden, "")
	// The catalogue is shared by every tenant: a tenant-limited key reads it but
	// may not change it.
	_, tenantKey := fx.createKey(t, obj{"name": "acme", "tenant": "acme", "scopes": []string{"event-types:read", "event-types:write"}})
	fx.do(t, "GET", "/v1/event-types/invoice.paid", tenantKey, nil).must(t, http.StatusOK)
	fx.do(t, "POST", "/v1/event-types", tenantKey, obj{"name": "x.y"}).problem(t, http.StatusForbidden, "tenant")
	fx.do(t, "PUT", "/v1/event-types/invoice.paid", tenantKey, obj{"description": "hijacked"}).problem(t, http.StatusForbidden, "tenant")
	fx.do(t, "DELETE", "/v1/event-types/invoice.paid", tenantKey, nil).problem(t, http.StatusForbidden, "tenant")

	names := slices.Concat(fx.listAllNames(t, reader)...)
	if want := []string{"a.first", "customer.created", "invoice.paid"}; !slices.Equal(names, want) {
		t.Errorf("list: got %v, want %v (by name)", names, want)
	}

	g := fx.do(t, "GET", "/v1/event-types/invoice.paid", reader, nil).must(t, http.StatusOK)
	if g.str("description") != "An invoice was paid." || fmt.Sprint(g.body["schema"]) != "map[type:object]" {
		t.Errorf("get: got %s", g.raw)
	}
	u := fx.do(t, "PUT", "/v1/event-types/invoice.paid", fx.admin, obj{"description": "Paid in full."}).must(t, http.StatusOK)
	if u.str("description") != "Paid in full." || u.str("created_at") != c.str("created_at") {
		t.Errorf("update: got %s", u.raw)
	}
	if g := fx.do(t, "GET", "/v1/event-types/invoice.paid", reader, nil); g.str("description") != "Paid in full." {
		t.Errorf("after update: got %s", g.raw)
	}
	fx.do(t, "PUT", "/v1/event-types/invoice.paid", fx.admin, obj{"name": "invoice.other"}).problem(t, 422, "name")
	fx.do(t, "PUT", "/v1/event-types/nope.nope", fx.admin, obj{"description": "x"}).problem(t, http.StatusNotFound, "")

	fx.do(t, "DELETE", "/v1/event-types/invoice.paid", fx.admin, nil).must(t, http.StatusNoContent)
	fx.do(t, "GET", "/v1/event-types/invoice.paid", reader, nil).problem(t, http.StatusNotFound, "")
	fx.do(t, "DELETE", "/v1/event-types/invoice.paid", fx.admin, nil).problem(t, http.StatusNotFound, "")
}
