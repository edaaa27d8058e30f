package api

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/hookline/hookline/internal/hookline"
)

// rawMembers are the members whose value is JSON kept as sent (an event's data,
// an event type's example and schema): a \u escape of a lone surrogate is theirs
// to carry, as JSON.stringify writes one, and is delivered as it came.
var rawMembers = map[string]bool{"data": true, "example": true, "schema": true}

// checkText refuses request text that decoding would silently change: bytes
// that are not UTF-8 (RFC 8259 §8.1), and, outside rawMembers, \u escapes of
// unpaired UTF-16 surrogates; encoding/json turns both into U+FFFD. The error
// names the member at fault. Well-formed JSON text costs one scan.
func checkText(body []byte) error {
	if utf8.Valid(body) && !hasSurrogateEscape(body) {
		return nil
	}
	w := textWalk{body: body, dec: json.NewDecoder(bytes.NewReader(body))}
	return w.run()
}

// hasSurrogateEscape reports whether body holds a \u escape in D800–DFFF.
func hasSurrogateEscape(body []byte) bool {
	for i := 0; ; {
		j := bytes.Index(body[i:], []byte(`\u`))
		if j < 0 {
			return false
		}
		i += j + 2
		if _, ok := surrogateAt(body, i-2); ok {
			return true
		}
	}
}

// surrogateAt reads the \uXXXX escape at body[i:] and reports whether it is a
// surrogate.
func surrogateAt(body []byte, i int) (rune, bool) {
	if i+6 > len(body) || body[i] != '\\' || body[i+1] != 'u' {
		return 0, false
	}
	v, err := strconv.ParseUint(string(body[i+2:i+6]), 16, 16)
	if err != nil || v < 0xD800 || v > 0xDFFF {
		return 0, false
	}
	return rune(v), true
}

// textWalk goes through the tokens of a body, tracking the member each belongs
// to, to find the first one with bad text.
type textWalk struct {
	body  []byte
	dec   *json.Decoder
	stack []textFrame
}

// textFrame is one open object or array.
type textFrame struct {
	path      string // the member the container is the value of ("" at the top)
	object    bool
	key       string // in an object: the member whose value comes next
	wantKey   bool
	index     int // in an array: the index of the next element
	rawMember bool
}

func (w *textWalk) run() error {
	for {
		start := w.dec.InputOffset()
		tok, err := w.dec.Token()
		if err != nil {
			return nil // syntax errors are the decoder's to report
		}
		raw := w.body[start:w.dec.InputOffset()]
		top := w.top()
		if top != nil && top.object && top.wantKey {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				w.pop()
				continue
			}
			top.key, top.wantKey = tok.(string), false
			if err := w.check(raw, int(start), w.child(top), top.rawMember); err != nil {
				return err
			}
			continue
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			path, rawMember := "", false
			if top != nil {
				path, rawMember = w.child(top), top.rawMember || top.object && rawMembers[top.key]
			}
			w.stack = append(w.stack, textFrame{path: path, object: tok == json.Delim('{'), wantKey: tok == json.Delim('{'), rawMember: rawMember})
			continue
		case json.Delim('}'), json.Delim(']'):
			w.pop()
			continue
		}
		if top == nil {
			return nil
		}
		rawMember := top.rawMember || top.object && rawMembers[top.key]
		if err := w.check(raw, int(start), w.child(top), rawMember); err != nil {
			return err
		}
		w.next(top)
	}
}

func (w *textWalk) top() *textFrame {
	if len(w.stack) == 0 {
		return nil
	}
	return &w.stack[len(w.stack)-1]
}

// pop closes a container, which was a value of the one around it.
func (w *textWalk) pop() {
	w.stack = w.stack[:len(w.stack)-1]
	if top := w.top(); top != nil {
		w.next(top)
	}
}

// next moves f past the value just read.
func (w *textWalk) next(f *textFrame) {
	if f.object {
		f.wantKey = true
	} else {
		f.index++
	}
}

// child is the name of f's current member or element: "tenant",
// "events[2].tenant", "headers.X-Key".
func (w *textWalk) child(f *textFrame) string {
	name := "[" + strconv.Itoa(f.index) + "]"
	if f.object {
		name = f.key
		if f.path != "" {
			name = "." + name
		}
	}
	return f.path + name
}

// check refuses raw (a token's bytes, at offset start of the body) if it is
// not UTF-8 or, unless rawMember, escapes a lone surrogate.
func (w *textWalk) check(raw []byte, start int, field string, rawMember bool) error {
	if !utf8.Valid(raw) {
		at := start
		for i := 0; i < len(raw); {
			r, n := utf8.DecodeRune(raw[i:])
			if r == utf8.RuneError && n <= 1 {
				at = start + i
				break
			}
			i += n
		}
		return hookline.Invalid(field, "must be valid UTF-8 (byte %d of the request body is not)", at)
	}
	if rawMember {
		return nil
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		if i+1 < len(raw) && raw[i+1] != 'u' {
			i++ // another escape: skip its letter, which may be a backslash
			continue
		}
		hi, ok := surrogateAt(raw, i)
		if !ok {
			i += 5
			continue
		}
		if lo, ok := surrogateAt(raw, i+6); hi < 0xDC00 && ok && lo >= 0xDC00 {
			i += 11 // a pair: one character
			continue
		}
		return hookline.Invalid(field, "holds %s, an unpaired UTF-16 surrogate, at byte %d: text must be valid Unicode", raw[i:i+6], start+i)
	}
	return nil
}
