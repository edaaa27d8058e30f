package webhook_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookline/hookline/webhook"
)

// jsCases hold what Node 20 prints for
// JSON.stringify(JSON.parse(Buffer.from(in).toString())); TestECMAScriptAgainstNode
// checks them again when node is installed.
var jsCases = []struct {
	name, in, want string
}{
	{"whitespace", " {\n\t\"a\" : [ 1 , 2 ] ,\r\n \"b\":{ } }\n", `{"a":[1,2],"b":{}}`},
	{"one point zero", `[1.0,-1.50,0.10,100]`, `[1,-1.5,0.1,100]`},
	{"minus zero", `[-0,-0.0,-0e5,0e-5]`, `[0,0,0,0]`},
	{"exponent 21", `[1e21,1e20,123456789012345678901]`, `[1e+21,100000000000000000000,123456789012345680000]`},
	{"exponent -7", `[1e-7,1e-6,0.000001,0.0000012,123e-20]`, `[1e-7,0.000001,0.000001,0.0000012,1.23e-18]`},
	{"uppercase exponent", `[1E3,1e+3,2.5E-10]`, `[1000,1000,2.5e-10]`},
	{"big integer", `12345678901234567890`, `12345678901234567000`},
	{"2^53+1", `[9007199254740993,-9007199254740993]`, `[9007199254740992,-9007199254740992]`},
	{"16 digits", `[1234567890123456,9999999999999999]`, `[1234567890123456,10000000000000000]`},
	{"shortest digits", `[0.30000000000000004,0.1e1,3.14159265358979323846]`, `[0.30000000000000004,1,3.141592653589793]`},
	{"overflow", `[1e400,-1e400,1.7976931348623159e308]`, `[null,null,null]`},
	{"largest and smallest", `[1.7976931348623157e308,5e-324,2.4e-324,1e-400]`, `[1.7976931348623157e+308,5e-324,0,0]`},
	{"escapes written", `"\"\\\/\b\f\n\r\t"`, `"\"\\/\b\f\n\r\t"`},
	{"control characters", `"\u0000\u0001\u001F\u007f\u0080"`, "\"\\u0000\\u0001\\u001f\x7f\u0080\""},
	{"unicode escapes", `"\u00e9\u00E9\u2028\u2029\ufeff"`, "\"éé\u2028\u2029\ufeff\""},
	{"surrogate pair", `"\ud83d\ude00\uD83D\uDE00"`, `"😀😀"`},
	{"lone surrogates", `["\ud83d","\uDE00","\ude00\ud83d","\ud83dx"]`, `["\ud83d","\ude00","\ude00\ud83d","\ud83dx"]`},
	{"raw unicode", `"😀 € \u2028"`, "\"😀 € \u2028\""},
	{"slashes", `{"url":"https:\/\/example.com/a/b"}`, `{"url":"https://example.com/a/b"}`},
	{"duplicate keys", `{"a":1,"b":2,"a":3}`, `{"a":3,"b":2}`},
	{"duplicate escaped key", `{"a":1,"\u0061":2}`, `{"a":2}`},
	{"integer keys first", `{"b":1,"10":2,"2":3,"a":4,"0":5}`, `{"0":5,"2":3,"10":2,"b":1,"a":4}`},
	{"not integer keys", `{"z":0,"01":1,"-1":2,"1.0":3,"4294967295":4,"4294967294":5}`, `{"4294967294":5,"z":0,"01":1,"-1":2,"1.0":3,"4294967295":4}`},
	{"escaped integer key", `{"x":1,"\u0031":2}`, `{"1":2,"x":1}`},
	{"__proto__", `{"__proto__":{"x":1},"a":2}`, `{"__proto__":{"x":1},"a":2}`},
	{"invalid UTF-8", "\"a\xffb\xe2\x82c\xed\xa0\x80\"", "\"a\uFFFDb\uFFFDc\uFFFD\uFFFD\uFFFD\""},
	{"top-level literal", ` true `, `true`},
}

func TestECMAScriptJSON(t *testing.T) {
	t.Parallel()
	for _, tc := range jsCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := webhook.ECMAScriptJSON([]byte(tc.in))
			if err != nil {
				t.Fatalf("ECMAScriptJSON(%q): %v", tc.in, err)
			}
			if string(got) != tc.want {
				t.Errorf("ECMAScriptJSON(%q)\ngot  %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestECMAScriptJSONErrors(t *testing.T) {
	t.Parallel()
	deep := strings.Repeat("[", 10001) + strings.Repeat("]", 10001)
	tests := []struct {
		name, in string
		want     error
	}{
		{"empty", ``, webhook.ErrInvalidJSON},
		{"spaces only", " \n", webhook.ErrInvalidJSON},
		{"byte order mark", "\ufeff{}", webhook.ErrInvalidJSON},
		{"trailing comma", `[1,]`, webhook.ErrInvalidJSON},
		{"two values", `1 2`, webhook.ErrInvalidJSON},
		{"leading zero", `01`, webhook.ErrInvalidJSON},
		{"bare minus", `-`, webhook.ErrInvalidJSON},
		{"no fraction digits", `1.`, webhook.ErrInvalidJSON},
		{"no exponent digits", `1e+`, webhook.ErrInvalidJSON},
		{"NaN", `NaN`, webhook.ErrInvalidJSON},
		{"raw tab in string", "\"a\tb\"", webhook.ErrInvalidJSON},
		{"bad escape", `"\x"`, webhook.ErrInvalidJSON},
		{"short unicode escape", `"\u12"`, webhook.ErrInvalidJSON},
		{"unterminated string", `"abc`, webhook.ErrInvalidJSON},
		{"backslash at end", `"abc\`, webhook.ErrInvalidJSON},
		{"unquoted key", `{a:1}`, webhook.ErrInvalidJSON},
		{"missing colon", `{"a" 1}`, webhook.ErrInvalidJSON},
		{"truncated literal", `tru`, webhook.ErrInvalidJSON},
		{"non-breaking space", "[\u00a01]", webhook.ErrInvalidJSON},
		{"too deep", deep, webhook.ErrJSONTooDeep},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := webhook.ECMAScriptJSON([]byte(tc.in))
			if !errors.Is(err, tc.want) {
				t.Errorf("ECMAScriptJSON(%.40q) = %q, %v; want error %v", tc.in, got, err, tc.want)
			}
		})
	}
	ok := strings.Repeat("[", 10000) + strings.Repeat("]", 10000)
	if _, err := webhook.ECMAScriptJSON([]byte(ok)); err != nil {
		t.Errorf("10000 levels: got %v, want no error", err)
	}
}

// TestECMAScriptCorpus compares ECMAScriptJSON with the committed Node outputs:
// testdata/ecmascript/NAME.json.golden, or NAME.json.error where JSON.parse throws.
func TestECMAScriptCorpus(t *testing.T) {
	t.Parallel()
	files := jsCorpusFiles(t)
	if len(files) < 60 {
		t.Fatalf("got %d corpus files, want at least 60", len(files))
	}
	for _, name := range files {
		t.Run(strings.TrimSuffix(filepath.Base(name), ".json"), func(t *testing.T) {
			t.Parallel()
			want, wantErr := jsReadGolden(t, name)
			got, err := webhook.ECMAScriptJSON(jsReadFile(t, name))
			switch {
			case wantErr != "" && !errors.Is(err, webhook.ErrInvalidJSON):
				t.Errorf("got %q, %v; want ErrInvalidJSON (node: %s)", got, err, wantErr)
			case wantErr == "" && err != nil:
				t.Errorf("got error %v, want %q", err, want)
			case !bytes.Equal(got, want):
				t.Errorf("got  %q\nwant %q", got, want)
			}
		})
	}
}

func jsCorpusFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "ecmascript", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func jsReadFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// jsReadGolden returns the committed Node output for a corpus input, or the name
// of the error Node threw.
func jsReadGolden(t *testing.T, name string) (out []byte, errName string) {
	t.Helper()
	if b, err := os.ReadFile(name + ".error"); err == nil {
		return nil, strings.TrimSpace(string(b))
	}
	out, err := os.ReadFile(name + ".golden")
	if err != nil && !*jsUpdateGolden {
		t.Fatalf("no Node output for %s (run go test -run TestECMAScriptCorpusNode ./webhook/ -args -update-ecmascript): %v", name, err)
	}
	return out, ""
}

func TestEscapeSlashes(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"none", `{"a":1}`, `{"a":1}`},
		{"url", `{"url":"https://example.com/a"}`, `{"url":"https:\/\/example.com\/a"}`},
		{"already escaped", `["a\/b","c/d"]`, `["a\/b","c\/d"]`},
		{"escaped backslash before slash", `["a\\/b"]`, `["a\\\/b"]`},
		{"escaped quote", `["\"/","/"]`, `["\"\/","\/"]`},
		{"key", `{"a/b":"/"}`, `{"a\/b":"\/"}`},
		{"empty", ``, ``},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := webhook.EscapeSlashes([]byte(tc.in)); string(got) != tc.want {
				t.Errorf("EscapeSlashes(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
	in := []byte(`"/"`)
	webhook.EscapeSlashes(in)
	if string(in) != `"/"` {
		t.Errorf("EscapeSlashes changed its argument to %q", in)
	}
}

func TestCompactJSON(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"whitespace", " {\n\t\"a\" : [ 1.0 , 1e3 ] ,\r\n \"b\":{ } }\n", `{"a":[1.0,1e3],"b":{}}`},
		{"kept as published", `{"b":1,"a":"\u00e9\/ ","b":0.10,"2":-0}`, `{"b":1,"a":"\u00e9\/ ","b":0.10,"2":-0}`},
		{"spaces in strings", `[" a ", "\t"]`, `[" a ","\t"]`},
		{"unicode", "{ \"k\" : \"\u2028 😀\" }", "{\"k\":\"\u2028 😀\"}"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := webhook.CompactJSON([]byte(tc.in))
			if err != nil {
				t.Fatalf("CompactJSON(%q): %v", tc.in, err)
			}
			if string(got) != tc.want {
				t.Errorf("CompactJSON(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
	for _, in := range []string{``, `{"a":1,}`, `[1 2]`, "\ufeff{}", `{"a":01}`} {
		if got, err := webhook.CompactJSON([]byte(in)); !errors.Is(err, webhook.ErrInvalidJSON) {
			t.Errorf("CompactJSON(%q) = %q, %v; want ErrInvalidJSON", in, got, err)
		}
	}
}

// jsBenchPayload is a 2 KB webhook body of the kind profiles re-serialise.
var jsBenchPayload = []byte(`{
  "id": "evt_01HX3K9Q2T7Y4Z8W6V5U1R0P9N",
  "type": "order.completed",
  "created": 1714979289,
  "api_version": "2024-05-01",
  "livemode": true,
  "data": {
    "order": {
      "id": "ord_8J2KD93LS0",
      "number": 10042,
      "currency": "EUR",
      "total": 149.90,
      "subtotal": 129.0,
      "tax": 20.90,
      "discount": 0.0,
      "weight_kg": 1.25e0,
      "customer": {
        "id": "cus_4F8H2J",
        "name": "Zoë Ångström-Müller",
        "email": "zoe.angstrom@example.se",
        "phone": "+46 70 123 45 67",
        "locale": "sv-SE",
        "marketing_consent": false,
        "address": {"line1": "Drottninggatan 1", "line2": null, "city": "Stockholm", "postal_code": "111 51", "country": "SE"}
      },
      "items": [
        {"sku": "TSHIRT-BLK-M", "name": "T-shirt “Classic” — black, M", "quantity": 2, "unit_price": 29.50, "image": "https://cdn.example.com/img/tshirt/black/m.jpg"},
        {"sku": "MUG-WHT", "name": "Mug 🐧 350 ml", "quantity": 1, "unit_price": 12.0, "image": "https://cdn.example.com/img/mug/white.jpg"},
        {"sku": "BOOK-9780134190440", "name": "The Go Programming Language", "quantity": 1, "unit_price": 58.00, "image": "https://cdn.example.com/img/books/9780134190440.jpg"}
      ],
      "shipping": {"method": "express", "carrier": "PostNord", "tracking_url": "https://tracking.example.com/se/track?id=00370733741234567890&lang=sv", "eta": "2024-05-08"},
      "notes": "Leave at the door.\nRing twice. \"Fragile\" \\ handle with care",
      "metadata": {"campaign": "spring/2024", "ref": "newsletter", "ab_bucket": "b", "2": "second", "1": "first"}
    }
  },
  "links": {"self": "https://api.example.com/v1/events/evt_01HX3K9Q2T7Y4Z8W6V5U1R0P9N", "order": "https://api.example.com/v1/orders/ord_8J2KD93LS0"},
  "attempt": 1,
  "ratio": 0.1,
  "big": 12345678901234567890
}`)

func BenchmarkECMAScriptJSON(b *testing.B) {
	b.SetBytes(int64(len(jsBenchPayload)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := webhook.ECMAScriptJSON(jsBenchPayload); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCompactJSON(b *testing.B) {
	b.SetBytes(int64(len(jsBenchPayload)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := webhook.CompactJSON(jsBenchPayload); err != nil {
			b.Fatal(err)
		}
	}
}

// TestECMAScriptJSONShortDecimals checks the fast path for numbers without an
// exponent against the general one, which "e0" selects.
func TestECMAScriptJSONShortDecimals(t *testing.T) {
	t.Parallel()
	var toks []string
	for _, intPart := range []string{"0", "1", "10", "100", "120", "9", "123456789", "12345678901234", "123456789012345", "1234567890123456"} {
		for _, frac := range []string{"", ".0", ".00", ".5", ".50", ".05", ".000001", ".0000010", ".0000001", ".00000012", ".1000000", ".000000", ".123456", ".0000000000001"} {
			for _, sign := range []string{"", "-"} {
				toks = append(toks, sign+intPart+frac)
			}
		}
	}
	for _, tok := range toks {
		got, err := webhook.ECMAScriptJSON([]byte(tok))
		want, err2 := webhook.ECMAScriptJSON([]byte(tok + "e0"))
		if err != nil || err2 != nil || !bytes.Equal(got, want) {
			t.Errorf("ECMAScriptJSON(%s) = %s, %v; want %s, %v as for %se0", tok, got, err, want, err2, tok)
		}
	}
}
