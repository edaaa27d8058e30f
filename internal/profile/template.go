package profile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// A text template is literal text and {placeholders}; "{{" and "}}" are literal
// braces.
type textTemplate []segment

type segment struct {
	literal string
	ph      *placeholder // nil for literal text
}

// placeholder is one {name}, resolved when the template is parsed.
type placeholder struct {
	name string   // canonical name, e.g. "event.type", "data"
	path []string // for data.a.b: ["a", "b"]
}

// placeholderNames maps every accepted name (and alias) to its canonical name.
var placeholderNames = map[string]string{
	"event.id":        "event.id",
	"id":              "event.id",
	"event.type":      "event.type",
	"event":           "event.type",
	"type":            "event.type",
	"event.tenant":    "event.tenant",
	"tenant":          "event.tenant",
	"event.timestamp": "event.timestamp",
	// Timestamp formats (timeFormats): the event's time and the send time.
	"event.timestamp.rfc3339":        "event.timestamp",
	"event.timestamp.rfc3339_offset": "event.timestamp.rfc3339_offset",
	"event.timestamp.unix":           "event.timestamp.unix",
	"event.timestamp.unix_ms":        "event.timestamp.unix_ms",
	"event.timestamp.http":           "event.timestamp.http",
	"webhook.id":                     "webhook.id",
	"delivery.id":                    "delivery.id",
	"attempt":                        "attempt",
	"data":                           "data",
	"send.unix":                      "send.unix",
	"timestamp":                      "send.unix",
	"send.rfc3339":                   "send.rfc3339",
	"send.rfc3339_offset":            "send.rfc3339_offset",
	"send.unix_ms":                   "send.unix_ms",
	"send.http":                      "send.http",
	"body":                           "body",
}

// parseText parses a template; allowed reports whether a canonical name may be
// used where this template is.
func parseText(s string, allowed func(name string) bool) (textTemplate, error) {
	var t textTemplate
	var lit strings.Builder
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == '{' && i+1 < len(s) && s[i+1] == '{':
			lit.WriteByte('{')
			i += 2
		case c == '}' && i+1 < len(s) && s[i+1] == '}':
			lit.WriteByte('}')
			i += 2
		case c == '}':
			return nil, fmt.Errorf("unmatched '}' at byte %d (write '}}' for a literal brace)", i)
		case c == '{':
			end := strings.IndexByte(s[i+1:], '}')
			if end < 0 {
				return nil, fmt.Errorf("unclosed '{' at byte %d (write '{{' for a literal brace)", i)
			}
			ph, err := parsePlaceholder(s[i+1 : i+1+end])
			if err != nil {
				return nil, err
			}
			if allowed != nil && !allowed(ph.name) {
				return nil, fmt.Errorf("{%s} cannot be used here", s[i+1:i+1+end])
			}
			if lit.Len() > 0 {
				t = append(t, segment{literal: lit.String()})
				lit.Reset()
			}
			t = append(t, segment{ph: ph})
			i += end + 2
		default:
			lit.WriteByte(c)
			i++
		}
	}
	if lit.Len() > 0 {
		t = append(t, segment{literal: lit.String()})
	}
	return t, nil
}

func parsePlaceholder(name string) (*placeholder, error) {
	name = strings.TrimSpace(name)
	if rest, ok := strings.CutPrefix(name, "data."); ok {
		path := strings.Split(rest, ".")
		for _, p := range path {
			if p == "" {
				return nil, fmt.Errorf("{%s}: empty step in the data path", name)
			}
		}
		return &placeholder{name: "data", path: path}, nil
	}
	canonical, ok := placeholderNames[name]
	if !ok {
		return nil, fmt.Errorf("unknown placeholder {%s} (see docs/profiles.md for the list)", name)
	}
	return &placeholder{name: canonical}, nil
}

// single returns the placeholder when the template is exactly one placeholder.
func (t textTemplate) single() *placeholder {
	if len(t) == 1 && t[0].ph != nil {
		return t[0].ph
	}
	return nil
}

// values are what placeholders are filled with for one attempt.
type values struct {
	m      *Message
	body   []byte
	paths  map[string]json.RawMessage // data lookups done so far
	sentAt time.Time
}

// text appends the placeholder's value as text: strings without quotes, other
// JSON values as their JSON text.
func (v *values) text(b []byte, ph *placeholder) ([]byte, error) {
	switch ph.name {
	case "data":
		raw, err := v.data(ph.path)
		if err != nil {
			return nil, err
		}
		if len(raw) > 0 && raw[0] == '"' {
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return nil, err
			}
			return append(b, s...), nil
		}
		return append(b, raw...), nil
	case "body":
		return append(b, v.body...), nil
	}
	return v.scalar(b, ph.name, false), nil
}

// json appends the placeholder's value as a JSON value.
func (v *values) json(b []byte, ph *placeholder) ([]byte, error) {
	switch ph.name {
	case "data":
		raw, err := v.data(ph.path)
		if err != nil {
			return nil, err
		}
		return append(b, raw...), nil
	case "body":
		return nil, errors.New("{body} is only for the signature payload")
	}
	return v.scalar(b, ph.name, true), nil
}

// scalar appends a placeholder other than data and body; quoted wraps strings
// in JSON quotes.
func (v *values) scalar(b []byte, name string, quoted bool) []byte {
	e := v.m.Event
	var s string
	switch name {
	case "attempt":
		return strconv.AppendInt(b, int64(v.m.Attempt), 10)
	case "event.id":
		s = e.ID
	case "event.type":
		s = e.Type
	case "event.tenant":
		s = e.Tenant
	case "webhook.id":
		s = v.m.Webhook.ID
	case "delivery.id":
		s = v.m.DeliveryID
	default:
		return appendTime(b, name, e.Timestamp, v.sentAt, quoted)
	}
	if quoted {
		return appendJSONString(b, s)
	}
	return append(b, s...)
}

// Layouts of the RFC 3339 forms: the event's time with its fraction unless zero
// (milliseconds, as stored), the send time to the second; "Z" or "+00:00".
const (
	layoutEventZ      = "2006-01-02T15:04:05.999999999Z07:00"
	layoutEventOffset = "2006-01-02T15:04:05.999999999-07:00"
	layoutSendZ       = "2006-01-02T15:04:05Z07:00"
	layoutSendOffset  = "2006-01-02T15:04:05-07:00"
)

// appendTime appends one of the time placeholders: event.timestamp[.format] or
// send.format. Unix forms are numbers; the others strings, quoted when asked
// (they hold nothing JSON escapes). Formats in place: no allocation.
func appendTime(b []byte, name string, event, send time.Time, quoted bool) []byte {
	var layout string
	t := send.UTC()
	switch name {
	case "event.timestamp.unix":
		return strconv.AppendInt(b, event.Unix(), 10)
	case "event.timestamp.unix_ms":
		return strconv.AppendInt(b, event.UnixMilli(), 10)
	case "send.unix":
		return strconv.AppendInt(b, send.Unix(), 10)
	case "send.unix_ms":
		return strconv.AppendInt(b, send.UnixMilli(), 10)
	case "event.timestamp":
		t, layout = event.UTC(), layoutEventZ
	case "event.timestamp.rfc3339_offset":
		t, layout = event.UTC(), layoutEventOffset
	case "event.timestamp.http":
		t, layout = event.UTC(), http.TimeFormat
	case "send.rfc3339":
		layout = layoutSendZ
	case "send.rfc3339_offset":
		layout = layoutSendOffset
	case "send.http":
		layout = http.TimeFormat
	default:
		return b
	}
	if quoted {
		b = append(b, '"')
	}
	b = t.AppendFormat(b, layout)
	if quoted {
		b = append(b, '"')
	}
	return b
}

// data returns the event's data, or the member at path inside it (null when
// absent).
func (v *values) data(path []string) (json.RawMessage, error) {
	if len(path) == 0 {
		return v.m.Event.Data, nil
	}
	key := strings.Join(path, ".")
	if raw, ok := v.paths[key]; ok {
		return raw, nil
	}
	raw, err := lookup(v.m.Event.Data, path)
	if err != nil {
		return nil, err
	}
	if v.paths == nil {
		v.paths = map[string]json.RawMessage{}
	}
	v.paths[key] = raw
	return raw, nil
}

var jsonNull = json.RawMessage("null")

// lookup finds the value at path in a JSON document: object members by name (the
// last of duplicates, as JSON.parse keeps), array elements by index. Anything
// absent is null.
func lookup(doc json.RawMessage, path []string) (json.RawMessage, error) {
	cur := doc
	for _, step := range path {
		cur = bytes.TrimSpace(cur)
		if len(cur) == 0 {
			return jsonNull, nil
		}
		switch cur[0] {
		case '{':
			var members []struct {
				key string
				val json.RawMessage
			}
			dec := json.NewDecoder(bytes.NewReader(cur))
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			for dec.More() {
				tok, err := dec.Token()
				if err != nil {
					return nil, err
				}
				var val json.RawMessage
				if err := dec.Decode(&val); err != nil {
					return nil, err
				}
				members = append(members, struct {
					key string
					val json.RawMessage
				}{tok.(string), val})
			}
			found := jsonNull
			for _, m := range members {
				if m.key == step {
					found = m.val
				}
			}
			cur = found
		case '[':
			i, err := strconv.Atoi(step)
			if err != nil || i < 0 {
				return jsonNull, nil
			}
			var elems []json.RawMessage
			if err := json.Unmarshal(cur, &elems); err != nil {
				return nil, err
			}
			if i >= len(elems) {
				return jsonNull, nil
			}
			cur = elems[i]
		default:
			return jsonNull, nil
		}
	}
	return cur, nil
}

// render appends the template's text.
func (t textTemplate) render(b []byte, v *values) ([]byte, error) {
	var err error
	for _, s := range t {
		if s.ph == nil {
			b = append(b, s.literal...)
			continue
		}
		if b, err = v.text(b, s.ph); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// appendJSONString appends s as a JSON string, escaping only what JSON requires
// (no HTML escaping: '<', '>' and '&' stay as they are).
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
