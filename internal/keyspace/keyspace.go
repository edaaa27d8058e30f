// Package keyspace is the "API" half of a product's "API & Webhooks" page:
// the keys a product hands to its customers so they can call the product's
// own API. A key space is one product API: a key prefix, a catalogue of
// permissions and defaults for new keys. Keys are issued for a tenant, shown
// once, stored as hashes, and verified on each request of the product's API
// (valid, expired, revoked, lacking a permission, over their rate limit).
package keyspace

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

// Keyspace is one product API whose keys Hookline issues and verifies.
type Keyspace struct {
	// Name identifies it in the API (/v1/keyspaces/{name}).
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Prefix starts each of its keys ("fvx" makes fvx_…); unique among key
	// spaces, so a key says which one it belongs to.
	Prefix string `json:"prefix"`
	// Permissions is the catalogue keys are granted from.
	Permissions []Permission `json:"permissions"`
	// RateLimit is the default limit of new keys; nil for none.
	RateLimit *RateLimit `json:"rate_limit,omitempty"`
	// KeyExpiry is how long new keys live by default; 0 for ever.
	KeyExpiry Duration `json:"key_expiry,omitempty"`
	// Source is "api" for a key space made through the API, or the file it
	// was loaded from (which the API cannot change).
	Source string `json:"source"`
	// CreatedAt and UpdatedAt are those of a key space of the API; a file's
	// has none.
	CreatedAt time.Time `json:"created_at,omitzero"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// Permission is one entry of a key space's catalogue.
type Permission struct {
	Name        string `json:"name" yaml:"name"`
	Description string `json:"description,omitempty" yaml:"description"`
}

// RateLimit is how many requests a key may make per window: a token bucket
// of Limit tokens refilled at Limit per Window, so a key may use its whole
// allowance at once and then goes at the average rate. Per says whose
// allowance it is: each key's own ("key"), or one shared by all the keys of
// a tenant in the key space ("tenant"), so that more keys do not mean more
// requests.
type RateLimit struct {
	Limit  int      `json:"limit" yaml:"limit"`
	Window Duration `json:"window" yaml:"window"`
	Per    string   `json:"per,omitempty" yaml:"per"`
}

// Whose allowance a rate limit counts.
const (
	PerKey    = "key"
	PerTenant = "tenant"
)

// Source of a key space made through the API.
const SourceAPI = "api"

// Limits of a key space.
const (
	maxPermissions  = 200
	maxDescription  = 1024
	maxRateLimit    = 1_000_000_000
	minWindow       = time.Second
	maxWindow       = 366 * 24 * time.Hour
	maxKeyExpiry    = 100 * 366 * 24 * time.Hour
	maxPermissionCh = 64
)

var (
	nameRE       = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)
	prefixRE     = regexp.MustCompile(`^[a-z][a-z0-9]{1,15}$`)
	permissionRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:/-]*$`)
)

// ValidateName checks a key space's name.
func ValidateName(name string) error {
	if !nameRE.MatchString(name) {
		return hookline.Invalid("name", "must be 1 to 64 lower-case letters, digits, '-' or '_', starting with a letter or digit")
	}
	return nil
}

// Validate checks a key space and puts its defaults in place (a rate limit
// counted per key unless it says otherwise).
func (k *Keyspace) Validate() error {
	if err := ValidateName(k.Name); err != nil {
		return err
	}
	if len(k.Description) > maxDescription {
		return hookline.Invalid("description", "must be at most %d bytes", maxDescription)
	}
	if !prefixRE.MatchString(k.Prefix) {
		return hookline.Invalid("prefix", "must be 2 to 16 lower-case letters or digits, starting with a letter (keys are %s_…)", "prefix")
	}
	if k.Prefix == "hl" {
		return hookline.Invalid("prefix", "hl is the prefix of Hookline's own API keys")
	}
	if len(k.Permissions) == 0 {
		return hookline.Invalid("permissions", "must name at least one permission")
	}
	if len(k.Permissions) > maxPermissions {
		return hookline.Invalid("permissions", "must have at most %d permissions", maxPermissions)
	}
	seen := map[string]bool{}
	for i, p := range k.Permissions {
		field := "permissions[" + strconv.Itoa(i) + "]"
		if len(p.Name) > maxPermissionCh || !permissionRE.MatchString(p.Name) {
			return hookline.Invalid(field+".name", "must be 1 to %d letters, digits, '_', '.', ':', '/' or '-', starting with a letter or digit (%q)", maxPermissionCh, p.Name)
		}
		if seen[p.Name] {
			return hookline.Invalid(field+".name", "%q is in the catalogue twice", p.Name)
		}
		seen[p.Name] = true
		if len(p.Description) > maxDescription {
			return hookline.Invalid(field+".description", "must be at most %d bytes", maxDescription)
		}
	}
	if err := k.RateLimit.validate("rate_limit"); err != nil {
		return err
	}
	if k.KeyExpiry < 0 || time.Duration(k.KeyExpiry) > maxKeyExpiry {
		return hookline.Invalid("key_expiry", "must be between 0 (keys do not expire) and 100 years")
	}
	return nil
}

// validate checks a rate limit (nil is none) and fills in Per.
func (r *RateLimit) validate(field string) error {
	if r == nil {
		return nil
	}
	if r.Limit < 1 || r.Limit > maxRateLimit {
		return hookline.Invalid(field+".limit", "must be between 1 and %d", maxRateLimit)
	}
	if w := time.Duration(r.Window); w < minWindow || w > maxWindow {
		return hookline.Invalid(field+".window", "must be between 1s and 366d")
	}
	switch r.Per {
	case "":
		r.Per = PerKey
	case PerKey, PerTenant:
	default:
		return hookline.Invalid(field+".per", "must be %q or %q", PerKey, PerTenant)
	}
	return nil
}

// Has reports whether the catalogue holds permission name.
func (k *Keyspace) Has(name string) bool {
	return slices.ContainsFunc(k.Permissions, func(p Permission) bool { return p.Name == name })
}

// Expand resolves the permissions asked for a key against the catalogue, in
// catalogue order: a name must be in it; "*" is all of it, and a name ending
// in "*" ("campaigns:*", "read_*") every permission that starts with what
// comes before. One that matches nothing is an error naming it.
func (k *Keyspace) Expand(asked []string, field string) ([]string, error) {
	want := map[string]bool{}
	for i, a := range asked {
		matched := false
		for _, p := range k.Permissions {
			if a == p.Name || strings.HasSuffix(a, "*") && strings.HasPrefix(p.Name, strings.TrimSuffix(a, "*")) {
				want[p.Name], matched = true, true
			}
		}
		if !matched {
			return nil, hookline.Invalid(fmt.Sprintf("%s[%d]", field, i), "%q is not a permission of key space %q (its catalogue: %s)", a, k.Name, k.catalogue())
		}
	}
	out := []string{}
	for _, p := range k.Permissions {
		if want[p.Name] {
			out = append(out, p.Name)
		}
	}
	return out, nil
}

func (k *Keyspace) catalogue() string {
	names := make([]string, len(k.Permissions))
	for i, p := range k.Permissions {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
}

// Duration is a time.Duration written as Go writes one ("90s", "1h30m") or
// in days ("30d").
type Duration time.Duration

// ParseDuration reads a Duration.
func ParseDuration(s string) (Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 || n > 100*366 {
			return 0, fmt.Errorf("%q: days must be a whole number from 0 to 36600", s)
		}
		return Duration(time.Duration(n) * 24 * time.Hour), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration such as 90s, 1h or 30d", s)
	}
	return Duration(d), nil
}

// String writes a whole number of days, hours, minutes or seconds in that
// unit ("30d", "1h", "90s"), and other durations as Go does.
func (d Duration) String() string {
	t := time.Duration(d)
	for _, u := range []struct {
		d      time.Duration
		suffix string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
		if t >= u.d && t%u.d == 0 {
			return strconv.FormatInt(int64(t/u.d), 10) + u.suffix
		}
	}
	return t.String()
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
