package keyspace

import (
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

// Key is a key of a key space, as stored and read: never the key itself,
// which its creator sees once.
type Key struct {
	ID       string `json:"id"`
	Keyspace string `json:"keyspace"`
	Tenant   string `json:"tenant"`
	Name     string `json:"name"`
	// Start is the key's prefix and first characters ("fvx_v3ea").
	Start       string            `json:"start"`
	Permissions []string          `json:"permissions"`
	Resources   []string          `json:"resources,omitempty"`
	Meta        map[string]string `json:"meta,omitempty"`
	// RateLimit overrides the key space's default; nil for the default.
	RateLimit  *RateLimit `json:"rate_limit,omitempty"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	// Hash is what is stored of the key (Hasher).
	Hash []byte `json:"-"`
}

// Limits of a key.
const (
	maxKeyName   = 200
	maxResources = 100
	maxResource  = 256
	maxMeta      = 50
	maxMetaKey   = 64
	maxMetaValue = 512
)

// resourceRE: a resource is a name the product gives one of its objects,
// such as form:123 or folder/reports.
var resourceRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:/@-]*$`)

// Validate checks what a key's creator chose: its name, resources, meta and
// rate limit. Permissions are checked by the key space (Expand).
func (k *Key) Validate() error {
	if k.Name == "" || len(k.Name) > maxKeyName {
		return hookline.Invalid("name", "must be 1 to %d bytes", maxKeyName)
	}
	if len(k.Resources) > maxResources {
		return hookline.Invalid("resources", "must be at most %d", maxResources)
	}
	for i, r := range k.Resources {
		if len(r) > maxResource || !resourceRE.MatchString(r) {
			return hookline.Invalid("resources["+strconv.Itoa(i)+"]", "must be 1 to %d letters, digits, '_', '.', ':', '/', '@' or '-', starting with a letter or digit (such as form:123)", maxResource)
		}
	}
	if len(k.Meta) > maxMeta {
		return hookline.Invalid("meta", "must have at most %d keys", maxMeta)
	}
	for key, v := range k.Meta {
		if key == "" || len(key) > maxMetaKey || len(v) > maxMetaValue {
			return hookline.Invalid("meta", "keys must be 1 to %d bytes and values at most %d (%q)", maxMetaKey, maxMetaValue, key)
		}
	}
	return k.RateLimit.validate("rate_limit")
}

// Verification codes: what a verification says of a key.
const (
	CodeValid       = "VALID"
	CodeNotFound    = "NOT_FOUND"
	CodeRevoked     = "REVOKED"
	CodeExpired     = "EXPIRED"
	CodeForbidden   = "FORBIDDEN"
	CodeRateLimited = "RATE_LIMITED"
)

// Judge says what a key is worth at now for a request that needs every one
// of permissions and, if not empty, resource: CodeValid, or why not. The
// rate limit is the caller's to count, after this says valid.
func (k *Key) Judge(now time.Time, permissions []string, resource string) string {
	switch {
	case k.RevokedAt != nil && !now.Before(*k.RevokedAt):
		return CodeRevoked
	case k.ExpiresAt != nil && !now.Before(*k.ExpiresAt):
		return CodeExpired
	}
	for _, p := range permissions {
		if !contains(k.Permissions, p) {
			return CodeForbidden
		}
	}
	if resource != "" && len(k.Resources) > 0 && !contains(k.Resources, resource) {
		return CodeForbidden
	}
	return CodeValid
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Limit is the rate limit that applies to k in ks: its own, or the key
// space's default; nil for none.
func (k *Key) Limit(ks *Keyspace) *RateLimit {
	if k.RateLimit != nil {
		return k.RateLimit
	}
	return ks.RateLimit
}

// Bucket names the allowance a request with k counts against.
func (k *Key) Bucket(r *RateLimit) string {
	if r.Per == PerTenant {
		return fmt.Sprintf("ks:%s:t:%s", k.Keyspace, k.Tenant)
	}
	return "ks:key:" + k.ID
}
