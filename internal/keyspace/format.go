package keyspace

import (
	"crypto/rand"
	"hash/crc32"
	"math/big"
	"strings"
)

// A key is its key space's prefix, an underscore, and 32 characters of the
// base62 alphabet: 26 random (154 bits) and 6 that spell the CRC-32 of what
// comes before them. The checksum lets garbage and typing errors be refused
// without a lookup, and lets a secret scanner tell a real key from a string
// that only looks like one. FormVox's keys (fvx_ and 32 characters) have
// exactly this shape.
const (
	randomChars   = 26
	checksumChars = 6
	keyChars      = randomChars + checksumChars
)

// Pattern is the regular expression every key matches, published for
// secret scanners: the prefix, an underscore and 32 base62 characters.
const Pattern = `^[a-z][a-z0-9]{1,15}_[0-9A-Za-z]{32}$`

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// NewKey returns a new random key with prefix.
func NewKey(prefix string) string {
	var b strings.Builder
	b.Grow(len(prefix) + 1 + keyChars)
	b.WriteString(prefix)
	b.WriteByte('_')
	max := big.NewInt(int64(len(base62)))
	for range randomChars {
		n, err := rand.Int(rand.Reader, max)
		if err != nil {
			panic(err) // crypto/rand does not fail on supported platforms
		}
		b.WriteByte(base62[n.Int64()])
	}
	b.WriteString(checksum(b.String()))
	return b.String()
}

// checksum is the CRC-32 of s in base62, 6 characters, zero-padded.
func checksum(s string) string {
	v := crc32.ChecksumIEEE([]byte(s))
	var out [checksumChars]byte
	for i := checksumChars - 1; i >= 0; i-- {
		out[i] = base62[v%62]
		v /= 62
	}
	return string(out[:])
}

// ParseKey checks key's shape (Pattern, checked by hand: it runs on every
// verification) and checksum, and returns its prefix; ok is false for
// anything that is not a key any key space could have issued.
func ParseKey(key string) (prefix string, ok bool) {
	under := len(key) - keyChars - 1
	if under < 2 || under > 16 || key[under] != '_' || !lower(key[0]) {
		return "", false
	}
	for i := 1; i < under; i++ {
		if c := key[i]; !lower(c) && !digit(c) {
			return "", false
		}
	}
	for i := under + 1; i < len(key); i++ {
		if c := key[i]; !lower(c) && !digit(c) && (c < 'A' || c > 'Z') {
			return "", false
		}
	}
	cut := len(key) - checksumChars
	if checksum(key[:cut]) != key[cut:] {
		return "", false
	}
	return key[:under], true
}

func lower(c byte) bool { return c >= 'a' && c <= 'z' }
func digit(c byte) bool { return c >= '0' && c <= '9' }

// startChars is how many characters after the prefix a key shows of itself.
const startChars = 4

// Start is what a key shows of itself in reads: its prefix and the first
// characters of its random part, enough to tell keys apart (24 of 154 bits).
func Start(key string) string {
	i := strings.IndexByte(key, '_')
	if i < 0 || len(key) < i+1+startChars {
		return ""
	}
	return key[:i+1+startChars]
}
