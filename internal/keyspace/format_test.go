package keyspace

import (
	"regexp"
	"strings"
	"testing"
)

func TestNewKeyParses(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 1000 {
		k := NewKey("fvx")
		if !regexp.MustCompile(Pattern).MatchString(k) || len(k) != len("fvx_")+32 {
			t.Fatalf("%q does not have the published shape", k)
		}
		if p, ok := ParseKey(k); !ok || p != "fvx" {
			t.Fatalf("ParseKey(%q) = %q, %v", k, p, ok)
		}
		if seen[k] {
			t.Fatalf("%q came twice", k)
		}
		seen[k] = true
	}
}

// Every change of one character, and what only looks like a key, is refused
// without a lookup.
func TestParseKeyRefusesGarbage(t *testing.T) {
	t.Parallel()
	k := NewKey("frm")
	for i := range k {
		for _, c := range []byte{'0', 'a', 'Z', '_', '-'} {
			if c == k[i] {
				continue
			}
			bad := k[:i] + string(c) + k[i+1:]
			if p, ok := ParseKey(bad); ok && p+k[len(p):] == bad {
				// A changed prefix letter keeps a valid shape but breaks the checksum.
				t.Errorf("ParseKey(%q), one character off %q: accepted", bad, k)
			}
		}
	}
	for _, bad := range []string{"", "fvx_", "fvx", "_" + k[4:], "f1x" + k[3:], "1vx" + k[3:], strings.Repeat("a", 17) + k[3:], "fvx_v3eaAuWwIvgUe2NQMcy826smmlFdX0Jd", strings.Repeat("a", 40),
		"FVX_" + k[4:], k + "0", k[:len(k)-1], "f_" + k[4:], "hl_" + k[4:]} {
		if _, ok := ParseKey(bad); ok {
			t.Errorf("ParseKey(%q): accepted", bad)
		}
	}
	if got := Start(k); got != k[:8] {
		t.Errorf("Start(%q) = %q, want %q", k, got, k[:8])
	}
}

func TestDuration(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"30d": "30d", "24h": "1d", "1h": "1h", "90m": "90m", "90s": "90s", "1h30m": "90m", "1.5s": "1.5s", "0s": "0s"} {
		d, err := ParseDuration(in)
		if err != nil || d.String() != want {
			t.Errorf("%q: got %q, %v; want %q", in, d.String(), err, want)
		}
	}
	for _, bad := range []string{"", "1x", "-1d", "1.5d", "d"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// ParseKey, written by hand, agrees with the published Pattern on every
// shape a fuzzer finds.
func FuzzParseKeyPattern(f *testing.F) {
	f.Add(NewKey("frm"))
	f.Add("fvx_v3eaAuWwIvgUe2NQMcy826smmlFdX0Jd")
	f.Add("a_" + strings.Repeat("Z", 32))
	f.Fuzz(func(t *testing.T, s string) {
		_, ok := ParseKey(s)
		if ok && !regexp.MustCompile(Pattern).MatchString(s) {
			t.Fatalf("ParseKey accepts %q, which Pattern does not match", s)
		}
		if !ok && regexp.MustCompile(Pattern).MatchString(s) {
			cut := len(s) - checksumChars
			if checksum(s[:cut]) == s[cut:] {
				t.Fatalf("ParseKey refuses %q, which matches Pattern with a valid checksum", s)
			}
		}
	})
}
