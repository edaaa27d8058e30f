package profile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// envelope is a parsed JSON template: the body of a request, with placeholders in
// its strings, rendered per attempt with keys in the template's order.
type envelope struct {
	root node
}

// spreadKey is the member name that spreads an object's members into the
// enclosing object.
const spreadKey = "..."

type nodeKind int

const (
	literalNode nodeKind = iota // number, true, false, null: raw text
	stringNode                  // a string template
	objectNode
	arrayNode
)

type node struct {
	kind    nodeKind
	raw     []byte       // literalNode
	text    textTemplate // stringNode
	keys    []string     // objectNode
	members []node       // objectNode values, arrayNode elements
}

// envelopeAllowed says which placeholders an envelope may use: everything but the
// body it is producing.
func envelopeAllowed(name string) bool { return name != "body" }

// parseEnvelope parses a JSON template.
func parseEnvelope(src []byte) (*envelope, error) {
	dec := json.NewDecoder(bytes.NewReader(src))
	dec.UseNumber()
	root, err := parseNode(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("unexpected text after the JSON value")
	}
	return &envelope{root: root}, nil
}

func parseNode(dec *json.Decoder) (node, error) {
	tok, err := dec.Token()
	if err != nil {
		return node{}, fmt.Errorf("not valid JSON: %w", err)
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			n := node{kind: objectNode}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return node{}, fmt.Errorf("not valid JSON: %w", err)
				}
				key := kt.(string)
				val, err := parseNode(dec)
				if err != nil {
					return node{}, err
				}
				if key == spreadKey {
					if val.kind != stringNode || val.text.single() == nil || val.text.single().name != "data" {
						return node{}, errors.New(`a "..." member must be "{data}" or "{data.path}": it spreads that object's members`)
					}
				}
				n.keys = append(n.keys, key)
				n.members = append(n.members, val)
			}
			_, err := dec.Token() // '}'
			return n, err
		case '[':
			n := node{kind: arrayNode}
			for dec.More() {
				val, err := parseNode(dec)
				if err != nil {
					return node{}, err
				}
				n.members = append(n.members, val)
			}
			_, err := dec.Token() // ']'
			return n, err
		}
	case string:
		tt, err := parseText(t, envelopeAllowed)
		if err != nil {
			return node{}, fmt.Errorf("%q: %w", t, err)
		}
		return node{kind: stringNode, text: tt}, nil
	case json.Number:
		return node{kind: literalNode, raw: []byte(t.String())}, nil
	case bool:
		if t {
			return node{kind: literalNode, raw: []byte("true")}, nil
		}
		return node{kind: literalNode, raw: []byte("false")}, nil
	case nil:
		return node{kind: literalNode, raw: []byte("null")}, nil
	}
	return node{}, fmt.Errorf("unexpected JSON token %v", tok)
}

// render appends the body, compact.
func (e *envelope) render(b []byte, v *values) ([]byte, error) {
	return e.root.render(b, v)
}

func (n *node) render(b []byte, v *values) ([]byte, error) {
	var err error
	switch n.kind {
	case literalNode:
		return append(b, n.raw...), nil
	case stringNode:
		if ph := n.text.single(); ph != nil {
			return v.json(b, ph)
		}
		var s []byte
		if s, err = n.text.render(nil, v); err != nil {
			return nil, err
		}
		return appendJSONString(b, string(s)), nil
	case arrayNode:
		b = append(b, '[')
		for i := range n.members {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = n.members[i].render(b, v); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	}
	b = append(b, '{')
	first := true
	for i, key := range n.keys {
		if key == spreadKey {
			raw, err := v.data(n.members[i].text.single().path)
			if err != nil {
				return nil, err
			}
			if b, first, err = spread(b, raw, first); err != nil {
				return nil, err
			}
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendJSONString(b, key)
		b = append(b, ':')
		if b, err = n.members[i].render(b, v); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

// spread appends the members of the JSON object raw (nothing for null).
func spread(b []byte, raw json.RawMessage, first bool) ([]byte, bool, error) {
	raw = bytes.TrimSpace(raw)
	if bytes.Equal(raw, jsonNull) {
		return b, first, nil
	}
	if len(raw) < 2 || raw[0] != '{' {
		return nil, first, errors.New(`"...": the spread value is not a JSON object`)
	}
	inner := bytes.TrimSpace(raw[1 : len(raw)-1])
	if len(inner) == 0 {
		return b, first, nil
	}
	if !first {
		b = append(b, ',')
	}
	return append(b, inner...), false, nil
}

// spreadNames returns the names of the other members of a root object that
// spreads the event's data into itself ({"event": …, "...": "{data}"}): a data
// member of one of these names would be sent twice, and the receiver keep one.
func (e *envelope) spreadNames() []string {
	n := e.root
	if n.kind != objectNode {
		return nil
	}
	spreads := false
	for i, key := range n.keys {
		if key == spreadKey && len(n.members[i].text.single().path) == 0 {
			spreads = true
		}
	}
	if !spreads {
		return nil
	}
	var names []string
	for _, key := range n.keys {
		if key != spreadKey {
			names = append(names, key)
		}
	}
	return names
}
