package webhook

import (
	"fmt"
	"strconv"
	"sync"
)

// jsParser reads JSON as JSON.parse does and writes what JSON.stringify gives in
// one pass: arrays, strings and numbers go straight to out, and an object is
// rewritten in place when it ends if it has duplicate or array-index keys.
type jsParser struct {
	src     []byte
	pos     int
	out     []byte
	depth   int
	members []jsMember // the members of the objects being read, innermost last

	// Scratch space of jsParser.finishObject.
	first   []int32
	entries []jsEntry
	buf     []byte
}

// jsParsers keeps parsers for their scratch slices, which would otherwise be
// allocated again for every body.
var jsParsers = sync.Pool{New: func() any { return new(jsParser) }}

// release returns p to jsParsers, keeping its scratch space unless a huge body
// made it large.
func (p *jsParser) release() {
	p.src, p.out = nil, nil
	if cap(p.members) > 1<<12 || cap(p.first) > 1<<12 || cap(p.entries) > 1<<12 || cap(p.buf) > 1<<16 {
		*p = jsParser{}
	}
	p.members = p.members[:0]
	jsParsers.Put(p)
}

// jsMember is where one object member sits in out: the quoted key is
// out[start:colon], the value out[colon+1:end].
type jsMember struct {
	start, colon, end int
	index             int64 // the key's array index, or -1
}

func (p *jsParser) fail(format string, args ...any) error {
	return fmt.Errorf("%w: %s at offset %d", ErrInvalidJSON, fmt.Sprintf(format, args...), p.pos)
}

// describe names the byte at pos for an error message.
func (p *jsParser) describe() string {
	if p.pos >= len(p.src) {
		return "end of input"
	}
	if c := p.src[p.pos]; c >= 0x80 {
		return fmt.Sprintf("byte %#02x", c)
	}
	return strconv.QuoteRuneToASCII(rune(p.src[p.pos]))
}

func (p *jsParser) skipSpace() {
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *jsParser) value() error {
	if p.pos >= len(p.src) {
		return p.fail("unexpected end of input")
	}
	switch c := p.src[p.pos]; {
	case c == '"':
		return p.string()
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	case c == 't':
		return p.literal("true")
	case c == 'f':
		return p.literal("false")
	case c == 'n':
		return p.literal("null")
	}
	return p.fail("unexpected %s", p.describe())
}

func (p *jsParser) literal(word string) error {
	if len(p.src)-p.pos < len(word) || string(p.src[p.pos:p.pos+len(word)]) != word {
		return p.fail("invalid literal, want %s", word)
	}
	p.pos += len(word)
	p.out = append(p.out, word...)
	return nil
}

func (p *jsParser) enter() error {
	if p.depth++; p.depth > jsMaxDepth {
		return fmt.Errorf("%w: more than %d levels at offset %d", ErrJSONTooDeep, jsMaxDepth, p.pos)
	}
	return nil
}

func (p *jsParser) array() error {
	if err := p.enter(); err != nil {
		return err
	}
	p.pos++
	p.out = append(p.out, '[')
	p.skipSpace()
	if p.pos < len(p.src) && p.src[p.pos] == ']' {
		p.pos++
		p.out = append(p.out, ']')
		p.depth--
		return nil
	}
	for {
		p.skipSpace()
		if err := p.value(); err != nil {
			return err
		}
		p.skipSpace()
		if p.pos >= len(p.src) {
			return p.fail("unexpected end of input in array")
		}
		switch p.src[p.pos] {
		case ',':
			p.pos++
			p.out = append(p.out, ',')
		case ']':
			p.pos++
			p.out = append(p.out, ']')
			p.depth--
			return nil
		default:
			return p.fail("unexpected %s in array, want , or ]", p.describe())
		}
	}
}

func (p *jsParser) object() error {
	if err := p.enter(); err != nil {
		return err
	}
	p.pos++
	objStart := len(p.out)
	p.out = append(p.out, '{')
	p.skipSpace()
	if p.pos < len(p.src) && p.src[p.pos] == '}' {
		p.pos++
		p.out = append(p.out, '}')
		p.depth--
		return nil
	}
	base := len(p.members)
	anyIndex := false
	for {
		p.skipSpace()
		if p.pos >= len(p.src) || p.src[p.pos] != '"' {
			return p.fail("unexpected %s in object, want a key", p.describe())
		}
		m := jsMember{start: len(p.out)}
		if err := p.string(); err != nil {
			return err
		}
		m.colon = len(p.out)
		m.index = jsArrayIndex(p.out[m.start+1 : m.colon-1])
		anyIndex = anyIndex || m.index >= 0
		p.skipSpace()
		if p.pos >= len(p.src) || p.src[p.pos] != ':' {
			return p.fail("unexpected %s after a key, want :", p.describe())
		}
		p.pos++
		p.out = append(p.out, ':')
		p.skipSpace()
		if err := p.value(); err != nil {
			return err
		}
		m.end = len(p.out)
		p.members = append(p.members, m)
		p.skipSpace()
		if p.pos >= len(p.src) {
			return p.fail("unexpected end of input in object")
		}
		switch p.src[p.pos] {
		case ',':
			p.pos++
			p.out = append(p.out, ',')
		case '}':
			p.pos++
			p.out = append(p.out, '}')
			p.finishObject(objStart, p.members[base:], anyIndex)
			p.members = p.members[:base]
			p.depth--
			return nil
		default:
			return p.fail("unexpected %s in object, want , or }", p.describe())
		}
	}
}

// jsArrayIndex returns the value of a key that JavaScript treats as an array
// index (a canonical decimal integer below 2³²−1), or -1. key is as written in
// out, without the quotes; digits are never escaped there.
func jsArrayIndex(key []byte) int64 {
	if len(key) == 0 || len(key) > 10 || len(key) > 1 && key[0] == '0' {
		return -1
	}
	var n int64
	for _, c := range key {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int64(c-'0')
	}
	if n > 1<<32-2 {
		return -1
	}
	return n
}
