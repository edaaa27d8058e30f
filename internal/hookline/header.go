package hookline

import "strings"

// MaskedValue stands in for the value of a credential-bearing header wherever
// it is shown without being asked for: webhook reads, attempt logs. Sent back
// unchanged in a webhook update, it keeps the stored value.
const MaskedValue = "[redacted]"

// sensitiveHeaderWords are the name fragments that mark a header as carrying a
// credential ("Authorization", "X-Api-Key", "X-Auth-Token", "Cookie", …).
var sensitiveHeaderWords = []string{"auth", "token", "secret", "key", "password", "passwd", "credential", "session", "cookie"}

// SensitiveHeader reports whether a header of that name (any case) is treated as
// a credential: its value is masked in reads and logs and is never stored in an
// attempt row.
func SensitiveHeader(name string) bool {
	n := strings.ToLower(name)
	for _, w := range sensitiveHeaderWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// MaskHeaders returns h with the value of every sensitive header replaced by
// MaskedValue; h itself is not changed. It returns h when nothing is masked.
func MaskHeaders(h map[string]string) map[string]string {
	var out map[string]string
	for k := range h {
		if !SensitiveHeader(k) {
			continue
		}
		if out == nil {
			out = make(map[string]string, len(h))
			for k2, v2 := range h {
				out[k2] = v2
			}
		}
		out[k] = MaskedValue
	}
	if out == nil {
		return h
	}
	return out
}
