// Package apikey issues the bearer keys of Hookline's own API, hashes them for
// storage and installs the operator's admin key. Keys are shown once, when they
// are made; the database keeps an HMAC of each, never the key.
package apikey

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strings"
	"sync"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

// Prefix starts every API key Hookline generates.
const Prefix = "hl_"

// displayChars is how many characters after Prefix a key's display prefix
// shows: enough to tell keys apart, 24 bits of a 256-bit key.
const displayChars = 4

// HashVersion is the version of the hashes Hasher makes. Version 0 is the bare
// SHA-256 of earlier releases, which Upgrade rehashes.
const HashVersion = 1

// Purpose is what the pepper of a deployment is derived for, from its secret
// key (secrets.Box.Derive).
const Purpose = "api-key pepper v1"

// Hasher hashes keys for storage: HMAC-SHA256 with a server-side pepper over
// the key's SHA-256. A copy of the database alone, without the pepper, cannot
// test a guess of a key, however short an operator-chosen key is.
type Hasher struct {
	pepper []byte
	macs   sync.Pool // of hash.Hash: HMACs keyed with pepper, reset after use
}

// NewHasher returns a Hasher with pepper, which must be secret, at least 32
// bytes and the same on every node of a deployment.
func NewHasher(pepper []byte) (*Hasher, error) {
	if len(pepper) < 32 {
		return nil, fmt.Errorf("apikey: pepper must be at least 32 bytes, got %d", len(pepper))
	}
	return &Hasher{pepper: pepper}, nil
}

// Hash returns what is stored of key.
func (h *Hasher) Hash(key string) []byte {
	sum := sha256.Sum256([]byte(key))
	return h.upgrade(sum[:])
}

// upgrade turns a version-0 hash (the key's SHA-256) into the current one,
// which is why the current one is an HMAC of the SHA-256 and not of the key.
func (h *Hasher) upgrade(legacy []byte) []byte {
	m, _ := h.macs.Get().(hash.Hash)
	if m == nil {
		m = hmac.New(sha256.New, h.pepper) // keyed once, reused: hashing runs on every verification
	}
	m.Write(legacy)
	sum := m.Sum(nil)
	m.Reset()
	h.macs.Put(m)
	return sum
}

// New returns a new random key: Prefix and 256 random bits.
func New() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return Prefix + base64.RawURLEncoding.EncodeToString(b)
}

// DisplayPrefix is what a key shows of itself in lists: the format prefix and
// a few characters of a generated key; nothing of a key chosen by the operator,
// whose length and alphabet are unknown.
func DisplayPrefix(key string) string {
	if strings.HasPrefix(key, Prefix) && len(key) >= len(Prefix)+32 {
		return key[:len(Prefix)+displayChars]
	}
	return ""
}

// CreateParams describe a key to issue.
type CreateParams struct {
	Name      string
	Scopes    []string
	Tenant    string
	RateLimit int
	Now       time.Time
}

// Create issues a key and stores its hash; it returns the key text, which is
// never stored and cannot be shown again.
func Create(ctx context.Context, s store.Store, h *Hasher, p CreateParams) (*hookline.APIKey, string, error) {
	key := New()
	k := &hookline.APIKey{
		ID: hookline.NewID(hookline.PrefixAPIKey), Name: p.Name, Scopes: p.Scopes, Tenant: p.Tenant, RateLimit: p.RateLimit,
		Prefix: DisplayPrefix(key), Hash: h.Hash(key), HashVersion: HashVersion, CreatedAt: p.Now.UTC().Truncate(time.Millisecond),
	}
	if err := s.APIKeyCreate(ctx, k); err != nil {
		return nil, "", err
	}
	return k, key, nil
}

// EnsureAdmin makes sure the operator's admin key (HOOKLINE_ADMIN_KEY) is
// stored as an admin key, whatever else the database holds: while the setting
// is set, the key works, even after someone deleted it. It reports whether it
// had to store the key.
func EnsureAdmin(ctx context.Context, s store.Store, h *Hasher, adminKey string, now time.Time) (installed bool, err error) {
	_, installed, err = EnsureAdminKey(ctx, s, h, adminKey, now)
	return installed, err
}

// EnsureAdminKey is EnsureAdmin that also returns the stored key, whose ID
// a server can log at start without showing the key itself.
func EnsureAdminKey(ctx context.Context, s store.Store, h *Hasher, adminKey string, now time.Time) (*hookline.APIKey, bool, error) {
	hash := h.Hash(adminKey)
	k, err := s.APIKeyGetByHash(ctx, hash)
	if err == nil {
		return k, false, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, false, err
	}
	k = &hookline.APIKey{
		ID: hookline.NewID(hookline.PrefixAPIKey), Name: "operator admin (HOOKLINE_ADMIN_KEY)", Scopes: []string{hookline.ScopeAdmin},
		Prefix: DisplayPrefix(adminKey), Hash: hash, HashVersion: HashVersion, CreatedAt: now.UTC().Truncate(time.Millisecond),
	}
	if err := s.APIKeyCreate(ctx, k); err != nil {
		if !errors.Is(err, store.ErrConflict) {
			return nil, false, err
		}
		// Another node installed it at the same time.
		k, err = s.APIKeyGetByHash(ctx, hash)
		return k, false, err
	}
	return k, true, nil
}

// Bootstrap prepares the keys of a starting server, whose store has been
// upgraded (Upgrade; the command line's openStore does it for every command):
// with adminKey set, it makes sure that key is stored (EnsureAdmin); otherwise
// it gives an empty database a generated admin key, which it returns to be
// printed once ("" when none was generated).
func Bootstrap(ctx context.Context, s store.Store, h *Hasher, adminKey string, now time.Time) (generated string, err error) {
	if adminKey != "" {
		_, err := EnsureAdmin(ctx, s, h, adminKey, now)
		return "", err
	}
	n, err := s.APIKeyCount(ctx)
	if err != nil || n > 0 {
		return "", err
	}
	_, key, err := Create(ctx, s, h, CreateParams{Name: "bootstrap admin", Scopes: []string{hookline.ScopeAdmin}, Now: now})
	return key, err
}

// Upgrade rehashes every key whose hash is of an older version, and returns how
// many it changed. It is safe to run on several nodes at once.
func Upgrade(ctx context.Context, s store.Store, h *Hasher) (int, error) {
	n := 0
	p := store.APIKeyListParams{ListParams: store.ListParams{Limit: 1000}}
	for {
		keys, err := s.APIKeyList(ctx, p)
		if err != nil {
			return n, err
		}
		for _, k := range keys {
			if k.HashVersion != 0 {
				continue
			}
			ok, err := s.APIKeyUpgradeHash(ctx, store.APIKeyUpgradeHashParams{
				ID: k.ID, OldHash: k.Hash, Hash: h.upgrade(k.Hash), HashVersion: HashVersion,
			})
			if err != nil {
				return n, fmt.Errorf("apikey: rehash key %s: %w", k.ID, err)
			}
			if ok {
				n++
			}
		}
		if len(keys) < p.Limit {
			return n, nil
		}
		p.Cursor = keys[len(keys)-1].ID
	}
}
