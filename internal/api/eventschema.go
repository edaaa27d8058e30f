package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

// schemaCache keeps compiled event data schemas by type name
// (newSchemaCache).
type schemaCache = ttlCache[*jsonschema.Schema]

// newSchemaCache keeps the compiled data schemas of the event type
// catalogue, by type name, so that publishing compiles nothing and reads the
// store at most once per type and ttl. A type with no schema, or not in the
// catalogue, is kept as nil. This node forgets a type when it changes it
// (forgetSchema); other nodes sharing the catalogue (PostgreSQL) see a
// change within ttl.
func newSchemaCache(s store.Store, ttl time.Duration) *schemaCache {
	return newTTLCache(ttl, func(ctx context.Context, name string) (*jsonschema.Schema, error) {
		t, err := s.EventTypeGet(ctx, name)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return nil, nil
		case err != nil:
			return nil, err
		case len(t.Schema) == 0:
			return nil, nil
		}
		sch, err := compileSchema(t.Schema)
		if err != nil {
			// Checked when it was stored: a schema that no longer compiles (a
			// library upgrade) must not stop publishing.
			return nil, nil
		}
		return sch, nil
	})
}

// forgetSchema drops event type name, changed on this node.
func (h *handler) forgetSchema(name string) {
	h.schemas.forget(func(k string, _ *jsonschema.Schema) bool { return k == name })
}

// noLoader refuses every $ref outside the schema itself: an event type's
// schema must not make the server read files or the network.
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("%s: a schema may only refer to itself", url)
}

// compileSchema compiles an event type's JSON Schema (draft 2020-12 unless its
// $schema says otherwise).
func compileSchema(raw json.RawMessage) (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.UseLoader(noLoader{})
	const loc = "mem:///event-type-schema.json"
	if err := c.AddResource(loc, doc); err != nil {
		return nil, err
	}
	return c.Compile(loc)
}

var schemaPrinter = message.NewPrinter(language.English)

// checkData validates v, JSON, against sch: a *hookline.ValidationError naming
// the first place it fails under field ("data.response", "example.amount").
func checkData(sch *jsonschema.Schema, field string, v json.RawMessage) error {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(v))
	if err != nil {
		return hookline.Invalid(field, "is not valid JSON")
	}
	err = sch.Validate(doc)
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	// The deepest first cause is the one that says what is wrong where.
	for len(ve.Causes) > 0 {
		ve = ve.Causes[0]
	}
	path := append([]string{field}, ve.InstanceLocation...)
	msg := ve.ErrorKind.LocalizedString(schemaPrinter) + " (the event type's schema)"
	if req, ok := ve.ErrorKind.(*kind.Required); ok && len(req.Missing) > 0 {
		path = append(path, req.Missing[0])
		msg = "is required by the event type's schema"
	}
	return hookline.Invalid(strings.Join(path, "."), "%s", msg)
}
