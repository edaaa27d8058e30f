package hookline

import (
	"crypto/rand"
	"strings"
	"sync"
	"time"
)

// ID prefixes, one per noun (SPEC §1).
const (
	PrefixWebhook  = "wh_"
	PrefixEvent    = "evt_"
	PrefixDelivery = "dlv_"
	PrefixAttempt  = "att_"
	PrefixAPIKey   = "key_"
)

// crockford is Crockford's base32 alphabet in lower case. Its characters are in
// ascending ASCII order, so the text of two IDs sorts like their bits.
const crockford = "0123456789abcdefghjkmnpqrstvwxyz"

var idState struct {
	sync.Mutex
	lastMS  int64
	entropy [10]byte
}

// NewID returns prefix followed by 26 characters: a 48-bit millisecond clock and 80
// bits of randomness (the ULID layout). IDs made later by this process sort after
// IDs made earlier, even within one millisecond, because the random part is then
// incremented instead of drawn again.
func NewID(prefix string) string {
	ms := time.Now().UnixMilli()

	idState.Lock()
	if ms <= idState.lastMS {
		ms = idState.lastMS
		for i := len(idState.entropy) - 1; i >= 0; i-- {
			idState.entropy[i]++
			if idState.entropy[i] != 0 {
				break
			}
		}
	} else {
		idState.lastMS = ms
		_, _ = rand.Read(idState.entropy[:])
	}
	b := timeBytes(ms)
	copy(b[6:], idState.entropy[:])
	idState.Unlock()
	return prefix + encodeBase32(b)
}

// IDAt returns the lowest ID of prefix that NewID can make at t's millisecond:
// every ID made earlier sorts before it, every ID made at t or later does not.
// Rows can thus be selected by the time their ID was made (a retention purge)
// with the ID's own index.
func IDAt(prefix string, t time.Time) string {
	return prefix + encodeBase32(timeBytes(t.UnixMilli()))
}

// NewIDAt returns a new ID as NewID would have made it at t: for data made
// with another clock, such as tests of retention.
func NewIDAt(prefix string, t time.Time) string {
	b := timeBytes(t.UnixMilli())
	_, _ = rand.Read(b[6:])
	return prefix + encodeBase32(b)
}

// ValidID reports whether s is an ID that NewID could make with prefix: the
// prefix, then 26 characters of the lower-case alphabet, the first of which
// holds only 3 bits. A cursor or filter that is not one cannot name anything.
func ValidID(prefix, s string) bool {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok || len(rest) != 26 || rest[0] > '7' {
		return false
	}
	for i := range len(rest) {
		if strings.IndexByte(crockford, rest[i]) < 0 {
			return false
		}
	}
	return true
}

// timeBytes returns 16 bytes whose first 6 hold ms, big-endian.
func timeBytes(ms int64) [16]byte {
	var b [16]byte
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	return b
}

// encodeBase32 writes 128 bits as 26 characters, most significant first; the first
// character holds only the top 3 bits.
func encodeBase32(b [16]byte) string {
	var hi, lo uint64
	for i := 0; i < 8; i++ {
		hi = hi<<8 | uint64(b[i])
		lo = lo<<8 | uint64(b[i+8])
	}
	var out [26]byte
	for i := 25; i >= 0; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}
