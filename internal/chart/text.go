package chart

import (
	"strings"
	"unicode/utf8"
)

const (
	fontSize     = 11.0 // of all text, in viewBox units
	maxLabelRune = 20   // x labels longer than this are cut, with "…"
	maxNameRune  = 40   // legend names longer than this are cut, with "…"
)

// escape appends s to b as XML text or attribute value: markup characters
// become references, and characters XML does not allow (most control
// characters) become U+FFFD, as invalid UTF-8 already does when decoded.
func escape(b *strings.Builder, s string) {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '"':
			b.WriteString("&#34;")
		case r == '\'':
			b.WriteString("&#39;")
		case !xmlChar(r):
			b.WriteRune(utf8.RuneError)
		default:
			b.WriteRune(r)
		}
	}
}

// xmlChar reports whether r may appear in an XML 1.0 document.
func xmlChar(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' ||
		r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}

// truncate cuts s to n runes, the last being "…".
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i, k := 0, 0
	for k < n-1 {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		k++
	}
	return s[:i] + "…"
}

// textWidth estimates the drawn width of s, erring wide, from the widths of
// a typical sans-serif font: no font metrics are at hand on the server.
func textWidth(s string) float64 {
	em := 0.0
	for _, r := range s {
		switch {
		case strings.ContainsRune(" !'(),./:;I[]fijlrt|", r):
			em += 0.35
		case r == 'm' || r == 'w' || r == 'M' || r == 'W' || r == '@' || r == '%':
			em += 0.9
		case 'A' <= r && r <= 'Z' || '0' <= r && r <= '9':
			em += 0.65
		case r < 0x1100:
			em += 0.6
		case wide(r):
			em += 1
		default:
			em += 0.65
		}
	}
	return em * fontSize
}

// wide reports whether r is drawn a full em wide: CJK, Hangul, fullwidth
// forms and emoji.
func wide(r rune) bool {
	return r >= 0x1100 && r <= 0x115F || r >= 0x2E80 && r <= 0xA4CF ||
		r >= 0xAC00 && r <= 0xD7A3 || r >= 0xF900 && r <= 0xFAFF ||
		r >= 0xFE30 && r <= 0xFE4F || r >= 0xFF00 && r <= 0xFF60 ||
		r >= 0xFFE0 && r <= 0xFFE6 || r >= 0x1F300 && r <= 0x1FAFF ||
		r >= 0x20000 && r <= 0x3FFFD
}
