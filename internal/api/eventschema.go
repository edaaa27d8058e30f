package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

// schemaCache holds the compiled data schemas of the event type catalogue, by
// type name, so that publishing compiles nothing and reads the store at most
// once per type and ttl. A type with no schema, or not in the catalogue, is
// cached as nil. This node forgets a type when it changes it; other nodes
// sharing the catalogue (PostgreSQL) see a change within ttl.
type schemaCache struct {
	store store.Store
	ttl   time.Duration
	mu    sync.Mutex
	types map[string]cachedSchema
}

type cachedSchema struct {
	schema *jsonschema.Schema // nil: no schema
	at     time.Time
}

func newSchemaCache(s store.Store, ttl time.Duration) *schemaCache {
	return &schemaCache{store: s, ttl: ttl, types: map[string]cachedSchema{}}
}

// get returns the compiled schema of event type name, nil when it has none.
func (c *schemaCache) get(ctx context.Context, name string) (*jsonschema.Schema, error) {
	c.mu.Lock()
	ent, ok := c.types[name]
	c.mu.Unlock()
	if ok && time.Since(ent.at) < c.ttl {
		return ent.schema, nil
	}
	var sch *jsonschema.Schema
	t, err := c.store.EventTypeGet(ctx, name)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return nil, err
	case len(t.Schema) > 0:
		if sch, err = compileSchema(t.Schema); err != nil {
			// Checked when it was stored: a schema that no longer compiles (a
			// library upgrade) must not stop publishing.
			sch = nil
		}
	}
	c.mu.Lock()
	if len(c.types) > 10_000 {
		clear(c.types)
	}
	c.types[name] = cachedSchema{schema: sch, at: time.Now()}
	c.mu.Unlock()
	return sch, nil
}

// forget drops event type name, changed on this node.
func (c *schemaCache) forget(name string) {
	c.mu.Lock()
	delete(c.types, name)
	c.mu.Unlock()
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
