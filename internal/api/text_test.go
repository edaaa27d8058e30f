package api

import (
	"errors"
	"strings"
	"testing"

	"github.com/hookline/hookline/internal/hookline"
)

func TestCheckText(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, body, field string // field "" means accepted
	}{
		{"plain", `{"tenant":"acme","data":{"a":"é✓"}}`, ""},
		{"escapes", `{"tenant":"a\"b\\u\n","description":"\u00e9\ud83d\ude00"}`, ""},
		{"invalid UTF-8 in tenant", "{\"tenant\":\"ac\xffme\"}", "tenant"},
		{"invalid UTF-8 in a key", "{\"ten\xc3ant\":\"x\"}", "ten\uFFFDant"},
		{"invalid UTF-8 in data", "{\"data\":{\"a\":[1,\"\xfe\"]}}", "data.a[1]"},
		{"lone high surrogate in id", `{"id":"evt-\ud800"}`, "id"},
		{"lone low surrogate in description", `{"tenant":"ok","description":"x\udc00y"}`, "description"},
		{"reversed pair", `{"tenant":"\udc00\ud800"}`, "tenant"},
		{"high surrogate then another escape", `{"tenant":"\ud800\n"}`, "tenant"},
		{"lone surrogate in data is data's", `{"data":{"s":"\ud800","\udfff":1}}`, ""},
		{"lone surrogate in an example", `{"name":"a.b","example":["\ud800"]}`, ""},
		{"batch item", `{"events":[{"type":"a.b","data":{}},{"type":"a.b","tenant":"\udbff","data":{}}]}`, "events[1].tenant"},
		{"header value", `{"url":"x","headers":{"X-Key":"\ud800"}}`, "headers.X-Key"},
		{"escaped backslash before u", `{"tenant":"\\ud800"}`, ""},
		{"syntax errors are not its business", "{\"tenant\":\"\xff", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := checkText([]byte(c.body))
			if c.field == "" {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				return
			}
			var ve *hookline.ValidationError
			if !errors.As(err, &ve) || ve.Field != c.field {
				t.Fatalf("got %v, want a validation error naming %q", err, c.field)
			}
			if !strings.Contains(ve.Message, "byte") {
				t.Errorf("message %q does not say where", ve.Message)
			}
		})
	}
}
