package hookline

import (
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
	ScopeAdmin           = "admin"
)

// Scopes lists every scope a key may hold.
var Scopes = []string{
	ScopeWebhooksRead, ScopeWebhooksWrite, ScopeEventsRead, ScopeEventsWrite,
	ScopeDeliveriesRead, ScopeDeliveriesWrite, ScopeEventTypesRead, ScopeEventTypesWrite,
	ScopeAPIKeysAdmin, ScopeAdmin,
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
	// Prefix is the first characters of the key, so a person can tell keys apart.
	Prefix    string    `json:"prefix"`
	Hash      []byte    `json:"-"`
	CreatedAt time.Time `json:"created_at"`
}

// Allows reports whether the key holds scope (or admin).
func (k *APIKey) Allows(scope string) bool {
	return slices.Contains(k.Scopes, ScopeAdmin) || slices.Contains(k.Scopes, scope)
}

// SeesTenant reports whether the key may see objects of tenant.
func (k *APIKey) SeesTenant(tenant string) bool {
	return k.Tenant == "" || k.Tenant == tenant
}
