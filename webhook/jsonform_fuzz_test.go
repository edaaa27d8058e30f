package webhook_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"unicode/utf8"

	"github.com/hookline/hookline/webhook"
)

// FuzzECMAScriptJSON checks what holds without Node (TestECMAScriptAgainstNode
// compares with Node itself):
//   - ECMAScriptJSON accepts exactly what encoding/json's Valid accepts;
//   - its output is in JSON.stringify's form (jsCheckStringified) and valid UTF-8;
//   - it is idempotent, and unchanged by CompactJSON;
//   - CompactJSON of the input gives the same ECMAScriptJSON output;
//   - encoding/json reads the same values from input and output, numbers
//     compared as doubles (for valid UTF-8 without \uD8xx–\uDFxx escapes, where
//     encoding/json's U+FFFD replacements would merge keys JavaScript keeps apart);
//   - a number without exponent gives what the same number with "e0" gives;
//   - EscapeSlashes of the output is its .replace(/\//g, "\\/") and reads back the same.
func FuzzECMAScriptJSON(f *testing.F) {
	for _, tc := range jsCases {
		f.Add([]byte(tc.in))
	}
	for _, n := range []string{"10.0", "-0.0", "0.0000010", "120.50", "123456789012345.0", "1234567890123456"} {
		f.Add([]byte(n))
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "ecmascript", "*.json"))
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := webhook.ECMAScriptJSON(in)
		if valid := json.Valid(in); valid != (err == nil) {
			t.Fatalf("ECMAScriptJSON(%q): error %v, but json.Valid says %v", in, err, valid)
		}
		if err != nil {
			if !errors.Is(err, webhook.ErrInvalidJSON) && !errors.Is(err, webhook.ErrJSONTooDeep) {
				t.Fatalf("ECMAScriptJSON(%q): error %v wraps no sentinel", in, err)
			}
			return
		}
		if !utf8.Valid(out) {
			t.Fatalf("ECMAScriptJSON(%q) = %q, not UTF-8", in, out)
		}
		if err := jsCheckStringified(out); err != nil {
			t.Fatalf("ECMAScriptJSON(%q) = %q: %v", in, out, err)
		}
		if again, err := webhook.ECMAScriptJSON(out); err != nil || !bytes.Equal(again, out) {
			t.Fatalf("not idempotent: %q → %q → %q, %v", in, out, again, err)
		}
		if c, err := webhook.CompactJSON(out); err != nil || !bytes.Equal(c, out) {
			t.Fatalf("CompactJSON(%q) = %q, %v; want it unchanged", out, c, err)
		}
		compact, err := webhook.CompactJSON(in)
		if err != nil {
			t.Fatalf("CompactJSON(%q): %v", in, err)
		}
		if viaCompact, err := webhook.ECMAScriptJSON(compact); err != nil || !bytes.Equal(viaCompact, out) {
			t.Fatalf("ECMAScriptJSON(CompactJSON(%q)) = %q, %v; want %q", in, viaCompact, err, out)
		}
		if utf8.Valid(in) && !bytes.Contains(in, []byte(`\ud`)) && !bytes.Contains(in, []byte(`\uD`)) {
			if err := jsSameValues(jsDecode(t, in), jsDecode(t, out)); err != nil {
				t.Fatalf("ECMAScriptJSON(%q) = %q: %v", in, out, err)
			}
		}
		if tok := bytes.TrimSpace(in); jsPlainNumber(tok) {
			// The general number path, which an exponent selects, must agree.
			viaExp, err := webhook.ECMAScriptJSON(append(tok[:len(tok):len(tok)], "e0"...))
			if err != nil || !bytes.Equal(viaExp, out) {
				t.Fatalf("ECMAScriptJSON(%se0) = %q, %v; want %q", tok, viaExp, err, out)
			}
		}
		escaped := webhook.EscapeSlashes(out)
		if want := bytes.ReplaceAll(out, []byte("/"), []byte(`\/`)); !bytes.Equal(escaped, want) {
			t.Fatalf("EscapeSlashes(%q) = %q, want %q", out, escaped, want)
		}
		if !reflect.DeepEqual(jsDecode(t, escaped), jsDecode(t, out)) {
			t.Fatalf("EscapeSlashes(%q) = %q reads back differently", out, escaped)
		}
	})
}

// FuzzEscapeSlashes checks that EscapeSlashes only inserts backslashes before
// slashes, and on JSON leaves the values alone and is idempotent.
func FuzzEscapeSlashes(f *testing.F) {
	for _, s := range []string{`{"a":"/"}`, `["\/","\\/","\"/"]`, `/`, `"\`, `\/`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out := webhook.EscapeSlashes(in)
		i, j := 0, 0
		for ; i < len(in) && j < len(out); j++ {
			switch {
			case in[i] == out[j]:
				i++
			case in[i] != '/' || out[j] != '\\':
				t.Fatalf("EscapeSlashes(%q) = %q changes more than slashes", in, out)
			}
		}
		if i != len(in) || j != len(out) {
			t.Fatalf("EscapeSlashes(%q) = %q changes more than slashes", in, out)
		}
		if !json.Valid(in) {
			return
		}
		if again := webhook.EscapeSlashes(out); !bytes.Equal(again, out) {
			t.Fatalf("not idempotent: %q → %q → %q", in, out, again)
		}
		if !reflect.DeepEqual(jsDecode(t, in), jsDecode(t, out)) {
			t.Fatalf("EscapeSlashes(%q) = %q reads back differently", in, out)
		}
	})
}

// jsPlainNumber reports whether b is a JSON number without an exponent.
func jsPlainNumber(b []byte) bool {
	return json.Valid(b) && len(b) > 0 && (b[0] == '-' || b[0] >= '0' && b[0] <= '9') &&
		!bytes.ContainsAny(b, "eE")
}

func jsDecode(t *testing.T, b []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("encoding/json cannot read %q: %v", b, err)
	}
	return v
}

// jsSameValues compares what encoding/json read from an input and from its
// ECMAScriptJSON output: numbers must be the same double, and a number beyond
// the doubles must have become null.
func jsSameValues(in, out any) error {
	switch in := in.(type) {
	case json.Number:
		f, _ := strconv.ParseFloat(string(in), 64)
		if math.IsInf(f, 0) {
			if out != nil {
				return fmt.Errorf("%s: got %v, want null", in, out)
			}
			return nil
		}
		n, ok := out.(json.Number)
		if g, _ := strconv.ParseFloat(string(n), 64); !ok || g != f {
			return fmt.Errorf("%s: got %v, want %v", in, out, f)
		}
	case map[string]any:
		m, ok := out.(map[string]any)
		if !ok || len(m) != len(in) {
			return fmt.Errorf("got %v, want %v", out, in)
		}
		for k, v := range in {
			if err := jsSameValues(v, m[k]); err != nil {
				return fmt.Errorf("%q: %w", k, err)
			}
		}
	case []any:
		a, ok := out.([]any)
		if !ok || len(a) != len(in) {
			return fmt.Errorf("got %v, want %v", out, in)
		}
		for i := range in {
			if err := jsSameValues(in[i], a[i]); err != nil {
				return fmt.Errorf("[%d]: %w", i, err)
			}
		}
	default:
		if in != out {
			return fmt.Errorf("got %#v, want %#v", out, in)
		}
	}
	return nil
}
