package webhook_test

import (
	"fmt"

	"github.com/hookline/hookline/webhook"
)

// A receiver written in JavaScript often verifies JSON.stringify(req.body)
// instead of the raw body. Signing the ECMAScriptJSON form makes those receivers
// compute the same bytes: numbers, escapes, duplicate keys and key order all
// come out as JavaScript writes them.
func ExampleECMAScriptJSON() {
	published := []byte(`{
		"event": "order.paid",
		"total": 10.50,
		"ratio": 1e-7,
		"big": 12345678901234567890,
		"note": "caf\u00e9 \ud83d\ude00 https:\/\/example.com",
		"items": {"10": "ten", "2": "two", "b": 1, "a": 2, "b": 3}
	}`)
	body, err := webhook.ECMAScriptJSON(published)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s\n", body)
	// Output:
	// {"event":"order.paid","total":10.5,"ratio":1e-7,"big":12345678901234567000,"note":"café 😀 https://example.com","items":{"2":"two","10":"ten","b":3,"a":2}}
}

// EscapeSlashes writes "/" as "\/", as PHP's json_encode does by default, for
// receivers that re-encode the payload with it before verifying (with
// JSON_UNESCAPED_UNICODE, since json_encode otherwise escapes non-ASCII too).
func ExampleEscapeSlashes() {
	body, err := webhook.ECMAScriptJSON([]byte(`{"url": "https://example.com/a/b"}`))
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s\n", webhook.EscapeSlashes(body))
	// Output: {"url":"https:\/\/example.com\/a\/b"}
}

// CompactJSON only removes whitespace: what the publisher wrote stays as written.
func ExampleCompactJSON() {
	body, err := webhook.CompactJSON([]byte(`{ "total": 10.50, "note": "caf\u00e9", "a": 1, "a": 2 }`))
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s\n", body)
	// Output: {"total":10.50,"note":"caf\u00e9","a":1,"a":2}
}
