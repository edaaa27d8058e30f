package webhook_test

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"testing"
)

// jsCheckStringified reports where b departs from the form JSON.stringify
// writes: no whitespace; strings escaping only '"', '\' and controls, control
// escapes in their short form where there is one, \u escapes in lower case and
// only for other controls and lone surrogates; numbers without "+", "-0",
// leading or trailing zeros, exponents where Number::toString writes none, or
// more digits than the shortest that read back;
// objects without duplicate keys and with array indices first in ascending order.
func jsCheckStringified(b []byte) error {
	c := &jsChecker{b: b}
	if err := c.value(); err != nil {
		return err
	}
	if c.i != len(b) {
		return c.errorf("trailing bytes")
	}
	return nil
}

type jsChecker struct {
	b []byte
	i int
}

func (c *jsChecker) errorf(format string, args ...any) error {
	return fmt.Errorf("offset %d: %s", c.i, fmt.Sprintf(format, args...))
}

func (c *jsChecker) value() error {
	if c.i >= len(c.b) {
		return c.errorf("missing value")
	}
	switch c.b[c.i] {
	case '{':
		return c.object()
	case '[':
		c.i++
		for n := 0; c.i < len(c.b) && c.b[c.i] != ']'; n++ {
			if n > 0 && !c.eat(',') {
				return c.errorf("want , in array")
			}
			if err := c.value(); err != nil {
				return err
			}
		}
		if !c.eat(']') {
			return c.errorf("want ]")
		}
		return nil
	case '"':
		_, err := c.string()
		return err
	}
	for _, lit := range []string{"true", "false", "null"} {
		if bytes.HasPrefix(c.b[c.i:], []byte(lit)) {
			c.i += len(lit)
			return nil
		}
	}
	return c.number()
}

func (c *jsChecker) eat(b byte) bool {
	if c.i < len(c.b) && c.b[c.i] == b {
		c.i++
		return true
	}
	return false
}

func (c *jsChecker) object() error {
	c.i++
	seen := map[string]bool{}
	lastIndex, sawName := int64(-1), false
	for n := 0; c.i < len(c.b) && c.b[c.i] != '}'; n++ {
		if n > 0 && !c.eat(',') {
			return c.errorf("want , in object")
		}
		key, err := c.string()
		if err != nil {
			return err
		}
		if seen[key] {
			return c.errorf("duplicate key %s", key)
		}
		seen[key] = true
		k := key[1 : len(key)-1]
		if v, err := strconv.ParseUint(k, 10, 32); err == nil && strconv.FormatUint(v, 10) == k && v < math.MaxUint32 {
			if sawName || int64(v) <= lastIndex {
				return c.errorf("array index %s out of order", key)
			}
			lastIndex = int64(v)
		} else {
			sawName = true
		}
		if !c.eat(':') {
			return c.errorf("want :")
		}
		if err := c.value(); err != nil {
			return err
		}
	}
	if !c.eat('}') {
		return c.errorf("want }")
	}
	return nil
}

// string returns the quoted string at i as written.
func (c *jsChecker) string() (string, error) {
	start := c.i
	if !c.eat('"') {
		return "", c.errorf("want a string")
	}
	prevHigh := false // the last thing was an escaped high surrogate
	for c.i < len(c.b) {
		ch := c.b[c.i]
		c.i++
		switch {
		case ch == '"':
			return string(c.b[start:c.i]), nil
		case ch < 0x20:
			return "", c.errorf("raw control %#x", ch)
		case ch != '\\':
			prevHigh = false
			continue
		}
		if c.i >= len(c.b) {
			return "", c.errorf("unterminated escape")
		}
		esc := c.b[c.i]
		c.i++
		switch esc {
		case '"', '\\', 'b', 'f', 'n', 'r', 't':
			prevHigh = false
			continue
		case 'u':
		default:
			return "", c.errorf(`escape \%c`, esc)
		}
		if c.i+4 > len(c.b) {
			return "", c.errorf("short \\u")
		}
		hex := string(c.b[c.i : c.i+4])
		c.i += 4
		u, err := strconv.ParseUint(hex, 16, 16)
		switch {
		case err != nil || hex != fmt.Sprintf("%04x", u):
			return "", c.errorf(`\u%s not lower-case hex`, hex)
		case u == '\b' || u == '\f' || u == '\n' || u == '\r' || u == '\t':
			return "", c.errorf(`\u%s has a short form`, hex)
		case u >= 0xdc00 && u < 0xe000 && prevHigh:
			return "", c.errorf(`escaped surrogate pair ending \u%s`, hex)
		case u >= 0x20 && (u < 0xd800 || u >= 0xe000):
			return "", c.errorf(`\u%s needs no escape`, hex)
		}
		prevHigh = u >= 0xd800 && u < 0xdc00
	}
	return "", c.errorf("unterminated string")
}

func (c *jsChecker) number() error {
	start := c.i
	for c.i < len(c.b) && bytes.IndexByte([]byte("+-.0123456789e"), c.b[c.i]) >= 0 {
		c.i++
	}
	tok := string(c.b[start:c.i])
	f, err := strconv.ParseFloat(tok, 64)
	if err != nil || math.IsInf(f, 0) {
		return c.errorf("number %q: %v", tok, err)
	}
	mant, exp, hasExp := tok, "", false
	if e := bytes.IndexByte([]byte(tok), 'e'); e >= 0 {
		mant, exp, hasExp = tok[:e], tok[e+1:], true
	}
	digits := bytes.TrimLeft([]byte(mant), "-")
	intPart, frac, hasFrac := bytes.Cut(digits, []byte("."))
	abs := math.Abs(f)
	switch {
	case f == 0 && tok != "0":
		return c.errorf("zero spelt %q", tok)
	case f == 0:
		return nil
	case len(intPart) > 1 && intPart[0] == '0':
		return c.errorf("leading zero in %q", tok)
	case hasFrac && (len(frac) == 0 || frac[len(frac)-1] == '0'):
		return c.errorf("trailing zero in %q", tok)
	case hasExp && (len(exp) < 2 || exp[0] != '+' && exp[0] != '-' || exp[1] == '0'):
		return c.errorf("exponent spelt %q", tok)
	case hasExp && (len(intPart) != 1 || intPart[0] == '0'):
		return c.errorf("exponent form %q not d.ddd", tok)
	case hasExp != (f != 0 && (abs >= 1e21 || abs < 1e-6)):
		return c.errorf("%q: exponent form is for below 1e-6 and from 1e21", tok)
	case jsDigits(intPart, frac) != jsShortest(abs):
		return c.errorf("%q: want the digits %s", tok, jsShortest(abs))
	}
	return nil
}

// jsDigits returns the significant digits of a decimal: no leading or trailing zeros.
func jsDigits(intPart, frac []byte) string {
	return string(bytes.Trim(append(append([]byte(nil), intPart...), frac...), "0"))
}

// jsShortest returns the fewest significant digits that read back as f.
func jsShortest(f float64) string {
	mant, _, _ := bytes.Cut(strconv.AppendFloat(nil, f, 'e', -1, 64), []byte("e"))
	return string(bytes.ReplaceAll(mant, []byte("."), nil))
}

// TestJSCheckStringified makes sure the fuzz oracle rejects what JSON.stringify
// never writes.
func TestJSCheckStringified(t *testing.T) {
	t.Parallel()
	good := []string{`{"0":1,"2":[1.5,-2,1e+21,1e-7,0.000001,0],"b":"\u001f\ud83d\"\\","a":null}`, `12345678901234567000`, `"\ude00\ud83d"`}
	for _, s := range good {
		if err := jsCheckStringified([]byte(s)); err != nil {
			t.Errorf("jsCheckStringified(%q): %v", s, err)
		}
	}
	bad := []string{` 1`, `1.0`, `-0`, `01`, `1e21`, `1E+21`, `1e+021`, `0.0000001`, `10e+21`, `0.30000000000000005`,
		`12345678901234567890`, `"\u000a"`, `"\u00e9"`, `"\u001F"`, `"\/"`, `"\ud83d\ude00"`, "\"\t\"",
		`{"a":1,"a":2}`, `{"b":1,"1":2}`, `{"2":1,"1":2}`, `[1,]`}
	for _, s := range bad {
		if err := jsCheckStringified([]byte(s)); err == nil {
			t.Errorf("jsCheckStringified(%q) = nil, want an error", s)
		}
	}
}
