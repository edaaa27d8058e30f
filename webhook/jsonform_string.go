package webhook

import "unicode/utf8"

// jsPlain marks the bytes a string copies as they are: printable ASCII other
// than '"' and '\'.
var jsPlain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

const jsHex = "0123456789abcdef"

// string reads the string at pos (its opening quote) and writes it quoted as
// JSON.stringify does.
func (p *jsParser) string() error {
	src := p.src
	p.pos++
	p.out = append(p.out, '"')
	for {
		start := p.pos
		for p.pos < len(src) && jsPlain[src[p.pos]] {
			p.pos++
		}
		p.out = append(p.out, src[start:p.pos]...)
		if p.pos >= len(src) {
			return p.fail("unterminated string")
		}
		switch c := src[p.pos]; {
		case c == '"':
			p.pos++
			p.out = append(p.out, '"')
			return nil
		case c == '\\':
			if err := p.escape(); err != nil {
				return err
			}
		case c < 0x20:
			return p.fail("control character %#02x in string", c)
		default:
			r, size := utf8.DecodeRune(src[p.pos:])
			if r == utf8.RuneError && size == 1 {
				// Node decodes the body with U+FFFD replacements before JSON.parse sees it.
				p.out = utf8.AppendRune(p.out, utf8.RuneError)
				size = jsInvalidUTF8Len(src[p.pos:])
			} else {
				p.out = append(p.out, src[p.pos:p.pos+size]...)
			}
			p.pos += size
		}
	}
}

// escape reads the escape sequence at pos (its backslash).
func (p *jsParser) escape() error {
	src := p.src
	if p.pos+1 >= len(src) {
		p.pos++
		return p.fail("unterminated string")
	}
	c := src[p.pos+1]
	switch c {
	case '"', '\\', 'b', 'f', 'n', 'r', 't':
		p.out = append(p.out, '\\', c)
	case '/':
		p.out = append(p.out, '/')
	case 'u':
		u, ok := jsHex4(src[p.pos+2:])
		if !ok {
			p.pos += 2
			return p.fail(`invalid \u escape`)
		}
		p.pos += 6
		if u >= 0xd800 && u < 0xdc00 && len(src)-p.pos >= 6 && src[p.pos] == '\\' && src[p.pos+1] == 'u' {
			if lo, ok := jsHex4(src[p.pos+2:]); ok && lo >= 0xdc00 && lo < 0xe000 {
				p.pos += 6
				p.out = utf8.AppendRune(p.out, 0x10000+(u-0xd800)<<10+(lo-0xdc00))
				return nil
			}
		}
		p.out = jsAppendUnit(p.out, u)
		return nil
	default:
		p.pos++
		return p.fail("invalid escape %s", p.describe())
	}
	p.pos += 2
	return nil
}

// jsAppendUnit writes one UTF-16 code unit of a string, escaping what
// JSON.stringify escapes: '"', '\', controls and lone surrogates.
func jsAppendUnit(out []byte, u rune) []byte {
	switch {
	case u == '"' || u == '\\':
		return append(out, '\\', byte(u))
	case u == '\b':
		return append(out, '\\', 'b')
	case u == '\f':
		return append(out, '\\', 'f')
	case u == '\n':
		return append(out, '\\', 'n')
	case u == '\r':
		return append(out, '\\', 'r')
	case u == '\t':
		return append(out, '\\', 't')
	case u < 0x20 || u >= 0xd800 && u < 0xe000:
		return append(out, '\\', 'u', jsHex[u>>12], jsHex[u>>8&0xf], jsHex[u>>4&0xf], jsHex[u&0xf])
	}
	return utf8.AppendRune(out, u)
}

// jsHex4 reads the four hex digits of a \u escape.
func jsHex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var u rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		u = u<<4 | rune(c)
	}
	return u, true
}

// jsInvalidUTF8Len returns how many bytes at the start of b, which are not
// UTF-8, one U+FFFD replaces: the longest prefix of a valid sequence, at least
// one byte (WHATWG Encoding Standard, the UTF-8 decoder Node uses).
func jsInvalidUTF8Len(b []byte) int {
	lo, hi := byte(0x80), byte(0xbf)
	var need int
	switch c := b[0]; {
	case c >= 0xc2 && c <= 0xdf:
		need = 1
	case c == 0xe0:
		need, lo = 2, 0xa0
	case c == 0xed:
		need, hi = 2, 0x9f
	case c >= 0xe1 && c <= 0xef:
		need = 2
	case c == 0xf0:
		need, lo = 3, 0x90
	case c == 0xf4:
		need, hi = 3, 0x8f
	case c >= 0xf1 && c <= 0xf3:
		need = 3
	default:
		return 1
	}
	n := 1
	for ; n <= need && n < len(b); n++ {
		if b[n] < lo || b[n] > hi {
			return n
		}
		lo, hi = 0x80, 0xbf
	}
	return n
}
