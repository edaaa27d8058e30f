package webhook

import (
	"math"
	"strconv"
)

// number reads the number at pos and writes it as JavaScript prints the double
// it denotes.
func (p *jsParser) number() error {
	src, start := p.src, p.pos
	isDigit := func() bool { return p.pos < len(src) && src[p.pos] >= '0' && src[p.pos] <= '9' }
	if src[p.pos] == '-' {
		p.pos++
	}
	switch {
	case p.pos < len(src) && src[p.pos] == '0':
		p.pos++
	case isDigit():
		for isDigit() {
			p.pos++
		}
	default:
		return p.fail("invalid number, want a digit after -")
	}
	dot, exp := -1, false
	if p.pos < len(src) && src[p.pos] == '.' {
		dot = p.pos
		p.pos++
		if !isDigit() {
			return p.fail("invalid number, want a digit after .")
		}
		for isDigit() {
			p.pos++
		}
	}
	if p.pos < len(src) && (src[p.pos] == 'e' || src[p.pos] == 'E') {
		exp = true
		p.pos++
		if p.pos < len(src) && (src[p.pos] == '+' || src[p.pos] == '-') {
			p.pos++
		}
		if !isDigit() {
			return p.fail("invalid number, want a digit in the exponent")
		}
		for isDigit() {
			p.pos++
		}
	}
	tok := src[start:p.pos]
	if !exp && len(tok) <= 16 && jsAppendShortDecimal(&p.out, tok, dot-start) {
		return nil
	}
	// Syntax was checked above; the only error left is ErrRange, where
	// ParseFloat returns ±Inf or the nearest double, as JavaScript does.
	f, _ := strconv.ParseFloat(string(tok), 64)
	p.out = jsAppendFloat(p.out, f)
	return nil
}

// jsAppendShortDecimal writes a number without exponent and of at most 15
// digits, where that is simple, and reports whether it did. Such a decimal is
// the only one of at most 15 digits that reads as its double, so
// Number::toString prints its digits again, less trailing zeros in the
// fraction; only a 0.000000ddd value takes an exponent. dot is the position of
// the "." in tok, or negative.
func jsAppendShortDecimal(out *[]byte, tok []byte, dot int) bool {
	neg := tok[0] == '-'
	digits := len(tok)
	if neg {
		digits--
	}
	if dot < 0 {
		if digits > 15 {
			return false
		}
		if neg && len(tok) == 2 && tok[1] == '0' {
			tok = tok[1:] // -0
		}
		*out = append(*out, tok...)
		return true
	}
	if digits-1 > 15 {
		return false
	}
	end := len(tok)
	for tok[end-1] == '0' {
		end--
	}
	if end == dot+1 {
		end = dot // x.000 is the integer x
	}
	if dot == len(tok)-digits+1 && tok[dot-1] == '0' { // 0.ddd
		if end == dot {
			*out = append(*out, '0') // 0.0 and -0.0
			return true
		}
		if end-dot-1 > 6 && string(tok[dot+1:dot+7]) == "000000" {
			return false // below 1e-6: exponent form
		}
	}
	*out = append(*out, tok[:end]...)
	return true
}

// jsAppendFloat writes f as JSON.stringify does: Number::toString (ECMA-262
// §6.1.6.1.20) for finite values, null for infinities and NaN.
func jsAppendFloat(out []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 0) || math.IsNaN(f):
		return append(out, "null"...)
	case f == 0:
		return append(out, '0')
	case f < 0:
		out = append(out, '-')
		f = -f
	}
	// The shortest digits that read back as f, the closest to f if several are
	// shortest: the same choice ECMAScript requires.
	var buf [32]byte
	e := strconv.AppendFloat(buf[:0], f, 'e', -1, 64) // d[.ddd]e±xx
	var digits [20]byte
	k := 0
	i := 0
	for ; e[i] != 'e'; i++ {
		if e[i] != '.' {
			digits[k] = e[i]
			k++
		}
	}
	exp, _ := strconv.Atoi(string(e[i+1:]))
	n := exp + 1 // f = 0.digits × 10ⁿ
	d := digits[:k]
	switch {
	case k <= n && n <= 21:
		out = append(out, d...)
		for range n - k {
			out = append(out, '0')
		}
	case 0 < n && n <= 21:
		out = append(out, d[:n]...)
		out = append(out, '.')
		out = append(out, d[n:]...)
	case -6 < n && n <= 0:
		out = append(out, '0', '.')
		for range -n {
			out = append(out, '0')
		}
		out = append(out, d...)
	default:
		out = append(out, d[0])
		if k > 1 {
			out = append(out, '.')
			out = append(out, d[1:]...)
		}
		out = append(out, 'e')
		if n-1 >= 0 {
			out = append(out, '+')
		}
		out = strconv.AppendInt(out, int64(n-1), 10)
	}
	return out
}
