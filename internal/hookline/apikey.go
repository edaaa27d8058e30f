package hookline

import (
	"fmt"
	"slices"
	"time"
)

// API key scopes (SPEC §2). ScopeAdmin grants all of them.
const (
	ScopeWebhooksRead    = "webhooks:read"
	ScopeWebhooksWrite   = "webhooks:write"
	ScopeEventsRead      = "events:read"
	ScopeEventsWrite     = "events:write"
	ScopeDeliveriesRead  = "deliveries:read"
	ScopeDeliveriesWrite = "deliveries:write"
	ScopeEventTypesRead  = "event-types:read"
	ScopeEventTypesWrite = "event-types:write"
	ScopeAPIKeysAdmin    = "api-keys:admin"
	// The product's own API keys (key spaces): read and manage them, and
	// verify them (what the product's API servers hold).
	ScopeKeysRead   = "keys:read"
	ScopeKeysWrite  = "keys:write"
	ScopeKeysVerify = "keys:verify"
	ScopeAdmin      = "admin"
)

// Scopes lists every scope a key may hold.
var Scopes = []string{
	ScopeWebhooksRead, ScopeWebhooksWrite, ScopeEventsRead, ScopeEventsWrite,
	ScopeDeliveriesRead, ScopeDeliveriesWrite, ScopeEventTypesRead, ScopeEventTypesWrite,
	ScopeAPIKeysAdmin, ScopeKeysRead, ScopeKeysWrite, ScopeKeysVerify, ScopeAdmin,
}

// APIKey is a bearer credential. Only a hash of the key is stored; the key itself
// is shown once, when it is created.
type APIKey struct {
	ID     string   `json:"id"`
	Name   string   `json:"name"`
	Scopes []string `json:"scopes"`
	// Tenant, when set, limits the key to that tenant's objects.
	Tenant string `json:"tenant,omitempty"`
	// RateLimit is requests per hour; 0 means the server's default for the kind
	// of key (tenant-limited keys limited, others unlimited).
	RateLimit int `json:"rate_limit,omitempty"`
	// Prefix is the key's format prefix and a few characters after it ("hl_3xQa"),
	// so a person can tell keys apart; empty for a key chosen by the operator.
	Prefix string `json:"prefix"`
	// Hash is what is stored of the key; HashVersion says how it was computed
	// (apikey.Hasher).
	Hash        []byte    `json:"-"`
	HashVersion int       `json:"-"`
	CreatedAt   time.Time `json:"created_at"`
}

// Allows reports whether the key holds scope (or admin).
func (k *APIKey) Allows(scope string) bool {
	return slices.Contains(k.Scopes, ScopeAdmin) || slices.Contains(k.Scopes, scope)
}

// EffectiveRateLimit is the key's hourly request limit: its own, or for a
// tenant-limited key without one tenantDefault; 0 means unlimited.
func (k *APIKey) EffectiveRateLimit(tenantDefault int) int {
	if k.RateLimit == 0 && k.Tenant != "" {
		return tenantDefault
	}
	return k.RateLimit
}

// Covers reports whether k may act on other (delete it, or have created it):
// k sees other's tenant, holds every scope other holds, and has a rate limit no
// tighter than other's. A key can never reach for more than it has by acting
// on a stronger key. When it may not, the error says why and names the field at
// fault.
func (k *APIKey) Covers(other *APIKey, tenantDefault int) error {
	if !k.SeesTenant(other.Tenant) {
		return Invalid("tenant", "this API key is limited to tenant %q", k.Tenant)
	}
	for _, s := range other.Scopes {
		if !k.Allows(s) {
			return Invalid("scopes", "a key that this API key creates or deletes may hold only scopes it holds itself, and %q is not one", s)
		}
	}
	mine, theirs := k.EffectiveRateLimit(tenantDefault), other.EffectiveRateLimit(tenantDefault)
	if mine > 0 && (theirs == 0 || theirs > mine) {
		return Invalid("rate_limit", "this API key is limited to %d requests per hour, and a key it creates or deletes may have no higher limit (this one: %s)", mine, limitText(theirs))
	}
	return nil
}

func limitText(n int) string {
	if n == 0 {
		return "none"
	}
	return fmt.Sprintf("%d", n)
}

// SeesTenant reports whether the key may see objects of tenant.
func (k *APIKey) SeesTenant(tenant string) bool {
	return k.Tenant == "" || k.Tenant == tenant
}
