package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/hookline/hookline/internal/hookline"
)

// eventTypeInput is the body of POST and PUT /v1/event-types.
type eventTypeInput struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Example     json.RawMessage `json:"example"`
	Schema      json.RawMessage `json:"schema"`
}

func (in *eventTypeInput) validate() error {
	if len(in.Description) > 2000 {
		return hookline.Invalid("description", "at most 2000 characters")
	}
	for _, f := range []struct {
		name string
		v    *json.RawMessage
	}{{"example", &in.Example}, {"schema", &in.Schema}} {
		if bytes.Equal(bytes.TrimSpace(*f.v), []byte("null")) {
			*f.v = nil
		}
		if len(*f.v) == 0 {
			continue
		}
		var b bytes.Buffer
		if err := json.Compact(&b, *f.v); err != nil {
			return hookline.Invalid(f.name, "is not valid JSON")
		}
		*f.v = b.Bytes()
	}
	if len(in.Schema) > 0 && in.Schema[0] != '{' {
		return hookline.Invalid("schema", "must be a JSON Schema object")
	}
	if len(in.Schema) > 0 {
		sch, err := compileSchema(in.Schema)
		if err != nil {
			return hookline.Invalid("schema", "is not a JSON Schema this server can use: %s", oneLine(err.Error()))
		}
		// The example is what the portal shows subscribers: it must be data the
		// type accepts.
		if len(in.Example) > 0 {
			return checkData(sch, "example", in.Example)
		}
	}
	return nil
}

// oneLine joins a multi-line library message into one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// canEditCatalogue refuses tenant-limited keys: the event type catalogue is the
// product's, shared by every tenant.
func canEditCatalogue(r *http.Request) error {
	if t := apiKey(r).Tenant; t != "" {
		return errField(http.StatusForbidden, "tenant", fmt.Sprintf("this API key is limited to tenant %q; the event type catalogue is shared by all tenants and only an unrestricted key may change it", t))
	}
	return nil
}

func (h *handler) eventTypeCreate(w http.ResponseWriter, r *http.Request) {
	if err := canEditCatalogue(r); err != nil {
		h.error(w, r, err)
		return
	}
	var in eventTypeInput
	if err := decode(w, r, &in, maxBodyBytes); err != nil {
		h.error(w, r, err)
		return
	}
	if err := hookline.ValidateEventType("name", in.Name); err != nil {
		h.error(w, r, err)
		return
	}
	if err := in.validate(); err != nil {
		h.error(w, r, err)
		return
	}
	now := h.now().UTC()
	t := &hookline.EventType{Name: in.Name, Description: in.Description, Example: in.Example, Schema: in.Schema, CreatedAt: now, UpdatedAt: now}
	if err := h.store.EventTypeCreate(r.Context(), t); err != nil {
		h.error(w, r, err)
		return
	}
	h.forgetSchema(t.Name)
	writeCreated(w, t, "event-types", t.Name)
}

func (h *handler) eventTypeList(w http.ResponseWriter, r *http.Request) {
	lp, err := listParams(r, func(c string) bool { return hookline.ValidateEventType("cursor", c) == nil })
	if err != nil {
		h.error(w, r, err)
		return
	}
	list, err := h.store.EventTypeList(r.Context(), lp)
	if err != nil {
		h.error(w, r, err)
		return
	}
	writePage(h, w, r, list, lp, func(t hookline.EventType) string { return t.Name })
}

func (h *handler) eventTypeGet(w http.ResponseWriter, r *http.Request) {
	t, err := h.store.EventTypeGet(r.Context(), r.PathValue("name"))
	if err != nil {
		h.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

func (h *handler) eventTypeUpdate(w http.ResponseWriter, r *http.Request) {
	if err := canEditCatalogue(r); err != nil {
		h.error(w, r, err)
		return
	}
	var in eventTypeInput
	if err := decode(w, r, &in, maxBodyBytes); err != nil {
		h.error(w, r, err)
		return
	}
	name := r.PathValue("name")
	if in.Name != "" && in.Name != name {
		h.error(w, r, hookline.Invalid("name", "differs from the name in the path; event types cannot be renamed"))
		return
	}
	if err := in.validate(); err != nil {
		h.error(w, r, err)
		return
	}
	t, err := h.store.EventTypeGet(r.Context(), name)
	if err != nil {
		h.error(w, r, err)
		return
	}
	t.Description, t.Example, t.Schema, t.UpdatedAt = in.Description, in.Example, in.Schema, h.now().UTC()
	if err := h.store.EventTypeUpdate(r.Context(), t); err != nil {
		h.error(w, r, err)
		return
	}
	h.forgetSchema(t.Name)
	writeJSON(w, http.StatusOK, t)
}

func (h *handler) eventTypeDelete(w http.ResponseWriter, r *http.Request) {
	if err := canEditCatalogue(r); err != nil {
		h.error(w, r, err)
		return
	}
	if err := h.store.EventTypeDelete(r.Context(), r.PathValue("name")); err != nil {
		h.error(w, r, err)
		return
	}
	h.forgetSchema(r.PathValue("name"))
	w.WriteHeader(http.StatusNoContent)
}
