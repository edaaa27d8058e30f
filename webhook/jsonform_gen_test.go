package webhook_test

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"unicode/utf8"
)

// jsGen writes random JSON documents aimed at the corners of JSON.parse and
// JSON.stringify. Sizes are bounded: depth 5, 12 members (sometimes 40), short
// strings.
type jsGen struct {
	r *rand.Rand
	b []byte
}

func jsNewGen(seed uint64) *jsGen {
	return &jsGen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// document returns one document; about one in ten is broken on purpose.
func (g *jsGen) document() []byte {
	g.b = g.b[:0]
	g.space()
	switch g.r.IntN(5) {
	case 0:
		g.value(0)
	case 1:
		g.array(0)
	default:
		g.object(0)
	}
	g.space()
	doc := append([]byte(nil), g.b...)
	if g.r.IntN(10) == 0 {
		doc = g.mutate(doc)
	}
	return doc
}

func (g *jsGen) mutate(doc []byte) []byte {
	i := g.r.IntN(len(doc) + 1)
	switch g.r.IntN(3) {
	case 0: // delete a byte
		if i < len(doc) {
			return append(doc[:i], doc[i+1:]...)
		}
		return doc
	case 1: // insert one
		ins := []byte(",:[]{}\"\\0-.eE+ \x00\x1f\xff\xef\xbb\xbfu")
		c := ins[g.r.IntN(len(ins))]
		return append(doc[:i], append([]byte{c}, doc[i:]...)...)
	}
	return doc[:i] // truncate
}

func (g *jsGen) pick(options ...string) string { return options[g.r.IntN(len(options))] }

func (g *jsGen) space() {
	for g.r.IntN(4) == 0 {
		g.b = append(g.b, g.pick(" ", "\t", "\n", "\r", "  ")...)
	}
}

func (g *jsGen) value(depth int) {
	k := g.r.IntN(10)
	if depth >= 5 && k < 4 {
		k += 4
	}
	switch {
	case k < 2:
		g.object(depth)
	case k < 4:
		g.array(depth)
	case k < 6:
		g.string()
	case k < 9:
		g.number()
	default:
		g.b = append(g.b, g.pick("true", "false", "null")...)
	}
}

func (g *jsGen) object(depth int) {
	n := g.r.IntN(6)
	if g.r.IntN(8) == 0 {
		n = 9 + g.r.IntN(32) // past the small-object path of ECMAScriptJSON
	}
	g.b = append(g.b, '{')
	for i := range n {
		if i > 0 {
			g.b = append(g.b, ',')
		}
		g.space()
		g.key()
		g.space()
		g.b = append(g.b, ':')
		g.space()
		g.value(depth + 1)
		g.space()
	}
	g.space()
	g.b = append(g.b, '}')
}

// jsGenKeys collide often, so duplicates are common; several spell one key.
var jsGenKeys = []string{
	`"a"`, `"b"`, `"\u0061"`, `"id"`, `"__proto__"`, `"constructor"`, `""`, `"0"`, `"1"`, `"2"`,
	`"10"`, `"\u0031"`, `"\u0031\u0030"`, `"01"`, `"00"`, `"-1"`, `"-0"`, `"1.0"`, `"1e3"`, `" 1"`,
	`"4294967294"`, `"4294967295"`, `"4294967296"`, `"2147483648"`, `"9007199254740993"`,
	`"é"`, `"\u00e9"`, `"😀"`, `"\ud83d\ude00"`, `"\ud83d"`, `"\ude00"`, `"a/b"`, `"a\/b"`, "\"\xff\"", `"\uFFFD"`,
}

func (g *jsGen) key() {
	switch g.r.IntN(3) {
	case 0:
		g.string()
	case 1:
		g.b = strconv.AppendInt(append(g.b, '"'), int64(g.r.IntN(40)), 10)
		g.b = append(g.b, '"')
	default:
		g.b = append(g.b, jsGenKeys[g.r.IntN(len(jsGenKeys))]...)
	}
}

func (g *jsGen) array(depth int) {
	n := g.r.IntN(6)
	g.b = append(g.b, '[')
	for i := range n {
		if i > 0 {
			g.b = append(g.b, ',')
		}
		g.space()
		g.value(depth + 1)
		g.space()
	}
	g.b = append(g.b, ']')
}

func (g *jsGen) string() {
	g.b = append(g.b, '"')
	for range g.r.IntN(8) {
		g.char()
	}
	g.b = append(g.b, '"')
}

func (g *jsGen) hex4(u int) {
	const lower, upper = "0123456789abcdef", "0123456789ABCDEF"
	digits := lower
	if g.r.IntN(3) == 0 {
		digits = upper
	}
	g.b = append(g.b, '\\', 'u', digits[u>>12&0xf], digits[u>>8&0xf], digits[u>>4&0xf], digits[u&0xf])
}

func (g *jsGen) char() {
	switch g.r.IntN(16) {
	case 0, 1, 2, 3:
		g.b = append(g.b, byte(' '+g.r.IntN(95)))
		if g.b[len(g.b)-1] == '"' || g.b[len(g.b)-1] == '\\' {
			g.b = append(g.b[:len(g.b)-1], '\\', g.b[len(g.b)-1])
		}
	case 4:
		g.b = append(g.b, g.pick(`\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`, "/", "\x7f")...)
	case 5:
		g.hex4(g.r.IntN(0x20)) // a control character
	case 6:
		g.hex4(g.r.IntN(0x10000)) // any code unit, surrogates too
	case 7:
		g.hex4(0xd800 + g.r.IntN(0x800)) // a lone or paired surrogate
	case 8: // an escaped pair
		r := 0x10000 + g.r.IntN(0x100000)
		g.hex4(0xd800 + (r-0x10000)>>10)
		g.hex4(0xdc00 + (r-0x10000)&0x3ff)
	case 9, 10:
		r := rune(0x80 + g.r.IntN(0x10ff80))
		if !utf8.ValidRune(r) {
			r = '\u2028'
		}
		g.b = utf8.AppendRune(g.b, r)
	case 11:
		g.b = append(g.b, g.pick("é", "😀", "\u2028", "\u2029", "\ufeff", "\ufffd", "日本", "👨‍👩‍👧")...)
	case 12: // bytes that are not UTF-8
		g.b = append(g.b, g.pick("\xff", "\x80", "\xc0\xaf", "\xe2\x82", "\xed\xa0\x80", "\xf0\x9f\x98", "\xf4\x90\x80\x80", "\xe0\x9f\xbf", "\xc3")...)
	default:
		g.b = append(g.b, g.pick("a", "b", "k", "/", "https://x.io/a?b=c", " ")...)
	}
}

func (g *jsGen) number() {
	switch g.r.IntN(9) {
	case 0:
		g.b = strconv.AppendInt(g.b, g.r.Int64N(2001)-1000, 10)
	case 1: // 1 to 30 digits
		if g.r.IntN(2) == 0 {
			g.b = append(g.b, '-')
		}
		g.b = append(g.b, byte('1'+g.r.IntN(9)))
		for range g.r.IntN(30) {
			g.b = append(g.b, byte('0'+g.r.IntN(10)))
		}
	case 2: // a random double at full precision
		f := math.Float64frombits(g.r.Uint64())
		if math.IsNaN(f) || math.IsInf(f, 0) {
			f = 0
		}
		g.b = strconv.AppendFloat(g.b, f, g.pick("e", "g")[0], -1+g.r.IntN(2)*(18+g.r.IntN(10)), 64)
	case 3: // a decimal at any exponent, spelt in every way
		if g.r.IntN(3) == 0 {
			g.b = append(g.b, '-')
		}
		g.b = append(g.b, byte('0'+g.r.IntN(10)))
		if g.b[len(g.b)-1] == '0' && g.r.IntN(2) == 0 {
			g.b = append(g.b, '.')
			for range 1 + g.r.IntN(8) {
				g.b = append(g.b, '0')
			}
		}
		if g.r.IntN(2) == 0 {
			g.b = append(g.b, '.')
			for range 1 + g.r.IntN(20) {
				g.b = append(g.b, byte('0'+g.r.IntN(10)))
			}
		}
		g.b = append(g.b, g.pick("e", "E")...)
		g.b = append(g.b, g.pick("", "+", "-")...)
		g.b = strconv.AppendInt(g.b, int64(g.r.IntN(340)), 10)
	case 4:
		g.b = append(g.b, g.pick("1e21", "1e-7", "0.000001", "1.0", "-0", "-0.0", "5e-324", "2.4703282292062328e-324",
			"1.7976931348623157e308", "1.7976931348623159e308", "1e400", "9007199254740993", "0.1", "123e-20",
			"12345678901234567890", "1e+21", "999999999999999999999", "0.30000000000000004", "4294967295", "1E0")...)
	case 5: // around the layout boundaries of Number::toString
		d := g.r.Float64() * 10
		e := g.pick("-8", "-7", "-6", "-5", "19", "20", "21", "22")
		g.b = strconv.AppendFloat(g.b, d, 'f', g.r.IntN(17), 64)
		g.b = append(g.b, 'e')
		g.b = append(g.b, e...)
	case 6: // a long digit string
		g.b = append(g.b, "0."...)
		g.b = append(g.b, strings.Repeat("0", g.r.IntN(330))...)
		for range 1 + g.r.IntN(40) {
			g.b = append(g.b, byte('0'+g.r.IntN(10)))
		}
	case 7: // a decimal without exponent, often with zeros
		g.b = append(g.b, g.pick("", "", "-")...)
		g.b = append(g.b, g.pick("0", "1", "10", "100", "7", "120", "123456789012345", "1234567890123456", "99999999999999")...)
		if g.r.IntN(4) > 0 {
			g.b = append(g.b, '.')
			for range 1 + g.r.IntN(9) {
				g.b = append(g.b, g.pick("0", "0", "0", "1", "5", "9")...)
			}
		}
	default:
		g.b = strconv.AppendFloat(g.b, g.r.NormFloat64()*math.Pow(10, float64(g.r.IntN(44)-22)), 'g', -1, 64)
	}
}
