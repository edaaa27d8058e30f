package webhook

// This file holds the JSON body forms of a profile (docs/profiles.md, "JSON form"):
// the bytes a publisher sent, compacted, or re-serialised the way a JavaScript
// receiver does it, and optionally with slashes escaped.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Errors of ECMAScriptJSON and CompactJSON, wrapped with the offset and cause, so
// test them with errors.Is.
var (
	// ErrInvalidJSON means the body is not one JSON value: what JSON.parse
	// rejects with a SyntaxError.
	ErrInvalidJSON = errors.New("webhook: invalid JSON")
	// ErrJSONTooDeep means arrays and objects nest more than 10000 levels.
	ErrJSONTooDeep = errors.New("webhook: JSON nested too deeply")
)

// jsMaxDepth bounds the nesting ECMAScriptJSON accepts, as encoding/json does.
// The ECMAScript algorithms have no limit; Node 20's JSON.stringify runs out of
// stack (RangeError) at about 4180 levels with the default stack size, so a body
// near this limit cannot be re-serialised by a JavaScript receiver anyway.
const jsMaxDepth = 10000

// ECMAScriptJSON returns the bytes JavaScript's JSON.stringify(JSON.parse(text))
// gives for src read as a UTF-8 string, as Node.js and browsers compute it:
//
//   - No whitespace between tokens.
//   - Numbers are read as IEEE 754 doubles and written as Number.prototype.toString
//     writes them: the fewest digits that read back to the same double, "1.0" →
//     "1", "-0" → "0", "1e21" → "1e+21", "1e-7" → "1e-7", "0.000001" as is,
//     12345678901234567890 → "12345678901234567000"; a number too large for a
//     double (1e400) becomes Infinity, which JSON.stringify writes as null.
//   - Strings escape only `"`, `\` and control characters (\b \f \n \r \t, the
//     others as \u00xx); everything else is written as UTF-8, including "/",
//     U+2028 and U+2029. Escaped surrogate pairs become the character they encode;
//     a lone surrogate (\ud800) stays escaped, in lower-case hex.
//   - Objects keep one member per key: the last value, at the place of the key's
//     first occurrence. Keys that are array indices ("0", "7", "4294967294", but
//     not "01", "-1" or "4294967295") come first in ascending numeric order, then
//     the other keys in the order they first appear. "__proto__" is an ordinary key.
//
// Bytes that are not UTF-8 are replaced with U+FFFD the way Node decodes a
// Buffer (the WHATWG Encoding Standard: one U+FFFD per maximal invalid
// subsequence), which is what a receiver gets from JSON.parse(body.toString()).
// A leading byte order mark is an error, as in that JSON.parse (decoders that
// strip it, like TextDecoder, see a different text). Errors wrap ErrInvalidJSON
// or ErrJSONTooDeep; the result is always valid UTF-8.
func ECMAScriptJSON(src []byte) ([]byte, error) {
	p := jsParsers.Get().(*jsParser)
	defer p.release()
	p.src, p.pos, p.depth = src, 0, 0
	p.out = make([]byte, 0, len(src)+16)
	p.skipSpace()
	if err := p.value(); err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos < len(src) {
		return nil, p.fail("unexpected %s after the top-level value", p.describe())
	}
	return p.out, nil
}

// EscapeSlashes returns a copy of the JSON text b with every "/" written as "\/",
// as PHP's json_encode does by default and as JavaScript's
// text.replace(/\//g, "\\/") does to the output of JSON.stringify. A slash that b
// already escapes stays "\/". b is not checked to be JSON.
func EscapeSlashes(b []byte) []byte {
	n := bytes.Count(b, []byte{'/'})
	out := make([]byte, 0, len(b)+n)
	inString, escaped := false, false
	for _, c := range b {
		switch {
		case escaped:
			escaped = false
		case c == '\\':
			escaped = inString
		case c == '"':
			inString = !inString
		case c == '/':
			out = append(out, '\\')
		}
		out = append(out, c)
	}
	return out
}

// CompactJSON returns src with the whitespace between tokens removed; key order,
// duplicate keys, number spellings (1.0, 0.10, 1e3) and string escapes stay
// exactly as in src. It fails with ErrInvalidJSON if src is not one JSON value.
func CompactJSON(src []byte) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(len(src))
	if err := json.Compact(&buf, src); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidJSON, err)
	}
	return buf.Bytes(), nil
}
