package store

import (
	"encoding/json"
	"fmt"
)

// Helpers both drivers use to store and read values the same way.

// EncodeJSON returns v as JSON text, for a column holding a list or a map.
func EncodeJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// EncodeList returns a list as JSON text for a column that is never NULL: []
// when it is nil, as the column's default is.
func EncodeList[T any](v []T) string {
	if v == nil {
		return "[]"
	}
	return EncodeJSON(v)
}

// EncodeMap returns a map as JSON text for a column that is never NULL: {}
// when it is nil.
func EncodeMap[V any](m map[string]V) string {
	if m == nil {
		return "{}"
	}
	return EncodeJSON(m)
}

// EncodeOptional returns *v as JSON text, or nil (NULL) when v is nil, for a
// column where NULL means "none" (a key's own rate limit).
func EncodeOptional[T any](v *T) any {
	if v == nil {
		return nil
	}
	return EncodeJSON(v)
}

// DecodeJSON reads a column written by EncodeJSON; the zero value if it cannot.
func DecodeJSON[T any](s string) T {
	var v T
	_ = json.Unmarshal([]byte(s), &v)
	return v
}

// MaxPageLimit is the most rows a list reads at once: the API's largest
// page, 1000 items, and one more that tells whether another page follows.
const MaxPageLimit = 1001

// PageLimit is the number of rows a list returns for a requested limit: 1 to
// MaxPageLimit, 100 when out of range (the API validates limits before).
func PageLimit(n int) int {
	if n <= 0 || n > MaxPageLimit {
		return 100
	}
	return n
}

// Sealer encrypts values at rest (secrets.Box).
type Sealer interface {
	Seal(plaintext string) (string, error)
	Open(sealed string) (string, error)
}

// SealHeaders returns a webhook's custom headers as they are stored: sealed,
// since they may carry the receiver's credentials (Authorization, an API key),
// as one JSON string, so a jsonb column takes them as well as a text one.
func SealHeaders(box Sealer, h map[string]string) (string, error) {
	sealed, err := box.Seal(EncodeJSON(h))
	if err != nil {
		return "", err
	}
	return EncodeJSON(sealed), nil
}

// OpenHeaders reads a column written by SealHeaders, or the plain JSON object
// that versions before sealing wrote (rewritten sealed on the next update).
func OpenHeaders(box Sealer, col string) (map[string]string, error) {
	var sealed string
	if err := json.Unmarshal([]byte(col), &sealed); err != nil {
		return DecodeJSON[map[string]string](col), nil
	}
	plain, err := box.Open(sealed)
	if err != nil {
		return nil, err
	}
	return DecodeJSON[map[string]string](plain), nil
}

// OpenIdempotencyRecord finishes an IdempotencyRecord as a driver read it,
// with its body still sealed: an empty header is nil, and the body is opened
// (a running record has none, not even a sealed empty one).
func OpenIdempotencyRecord(box Sealer, r *IdempotencyRecord, sealedBody string) error {
	if len(r.Header) == 0 {
		r.Header = nil
	}
	if sealedBody == "" {
		return nil
	}
	opened, err := box.Open(sealedBody)
	if err != nil {
		return fmt.Errorf("idempotency key %q: body: %w", r.Key, err)
	}
	if opened != "" {
		r.Body = []byte(opened)
	}
	return nil
}
