package store

import "encoding/json"

// Helpers both drivers use to store and read values the same way.

// EncodeJSON returns v as JSON text, for a column holding a list or a map.
func EncodeJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// DecodeJSON reads a column written by EncodeJSON; the zero value if it cannot.
func DecodeJSON[T any](s string) T {
	var v T
	_ = json.Unmarshal([]byte(s), &v)
	return v
}

// PageLimit is the number of rows a list returns for a requested limit: 1 to
// 1000, 100 when out of range (the API validates limits before).
func PageLimit(n int) int {
	if n <= 0 || n > 1000 {
		return 100
	}
	return n
}
