package webhook

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// schemePartKind is what one piece of a payload template stands for.
type schemePartKind int

const (
	schemeLiteral schemePartKind = iota
	schemeBody
	schemeTimestamp
	schemeID
)

// schemePlaceholders maps each placeholder name a payload may use to its value.
var schemePlaceholders = map[string]schemePartKind{
	"body":      schemeBody,
	"timestamp": schemeTimestamp,
	"send.unix": schemeTimestamp,
	"id":        schemeID,
	"event.id":  schemeID,
}

type schemePart struct {
	kind schemePartKind
	text string // the literal, for schemeLiteral
}

// schemePayload is a parsed Scheme.Payload.
type schemePayload struct {
	parts         []schemePart
	usesTimestamp bool
	usesID        bool
}

// schemeParsePayload parses a payload template; "" is "{body}".
func schemeParsePayload(tmpl string) (*schemePayload, error) {
	if tmpl == "" {
		tmpl = "{body}"
	}
	p := &schemePayload{}
	var lit strings.Builder
	hasBody := false
	for i := 0; i < len(tmpl); {
		switch c := tmpl[i]; {
		case strings.HasPrefix(tmpl[i:], "{{"), strings.HasPrefix(tmpl[i:], "}}"):
			lit.WriteByte(c)
			i += 2
		case c == '}':
			return nil, fmt.Errorf("lone } at byte %d (write }} for a literal brace)", i)
		case c == '{':
			end := strings.IndexByte(tmpl[i:], '}')
			if end < 0 {
				return nil, fmt.Errorf("{ at byte %d is not closed (write {{ for a literal brace)", i)
			}
			name := tmpl[i+1 : i+end]
			kind, ok := schemePlaceholders[name]
			if !ok {
				return nil, fmt.Errorf("unknown placeholder {%s} (want {body}, {timestamp}, {send.unix}, {id} or {event.id})", name)
			}
			if lit.Len() > 0 {
				p.parts = append(p.parts, schemePart{kind: schemeLiteral, text: lit.String()})
				lit.Reset()
			}
			p.parts = append(p.parts, schemePart{kind: kind})
			hasBody = hasBody || kind == schemeBody
			p.usesTimestamp = p.usesTimestamp || kind == schemeTimestamp
			p.usesID = p.usesID || kind == schemeID
			i += end + 1
		default:
			lit.WriteByte(c)
			i++
		}
	}
	if lit.Len() > 0 {
		p.parts = append(p.parts, schemePart{kind: schemeLiteral, text: lit.String()})
	}
	if !hasBody {
		return nil, errors.New("lacks {body}: a signature must cover the body")
	}
	return p, nil
}

// writeTo writes the signed bytes of one message to w (a hash, or a buffer).
func (p *schemePayload) writeTo(w io.Writer, id string, unix int64, body []byte) {
	var num [20]byte
	for _, part := range p.parts {
		switch part.kind {
		case schemeLiteral:
			io.WriteString(w, part.text)
		case schemeBody:
			w.Write(body)
		case schemeTimestamp:
			w.Write(strconv.AppendInt(num[:0], unix, 10))
		case schemeID:
			io.WriteString(w, id)
		}
	}
}
