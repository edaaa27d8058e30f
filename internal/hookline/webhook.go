package hookline

import (
	"net/url"
	"strings"
	"time"
)

// TenantOps is the reserved tenant whose events are Hookline's own operational
// events (webhook.disabled, delivery.failed). The product subscribes its ops
// endpoint to them like to any other tenant's events.
const TenantOps = "_ops"

// Operational event types, published in TenantOps.
const (
	EventWebhookDisabled = "webhook.disabled"
	EventDeliveryFailed  = "delivery.failed"
	EventWebhookTest     = "webhook.test"
)

// Webhook is a subscription: where to send which events of one tenant, and how.
type Webhook struct {
	ID          string   `json:"id"`
	Tenant      string   `json:"tenant"`
	URL         string   `json:"url"`
	Description string   `json:"description"`
	Events      []string `json:"events"`
	Secret      string   `json:"secret,omitempty"`
	// PreviousSecret is the secret a rotation replaced; it keeps signing (next to
	// Secret) until PreviousSecretUntil.
	PreviousSecret      string     `json:"previous_secret,omitempty"`
	PreviousSecretUntil *time.Time `json:"previous_secret_expires_at,omitempty"`
	// PublicKey is the whpk_ key receivers verify with, for ed25519 profiles.
	PublicKey string            `json:"public_key,omitempty"`
	Active    bool              `json:"active"`
	Profile   string            `json:"profile"`
	Headers   map[string]string `json:"headers"`
	Metadata  map[string]string `json:"metadata"`
	Ordered   bool              `json:"ordered"`
	// DisabledReason says why Hookline turned the webhook off (410 Gone, the
	// auto-disable rule); empty when it is active or was turned off by a user.
	DisabledReason string     `json:"disabled_reason,omitempty"`
	FailedStreak   int        `json:"failed_streak"`
	LastSuccessAt  *time.Time `json:"last_success_at,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
}

// Matches reports whether the webhook's event filter accepts eventType.
func (w *Webhook) Matches(eventType string) bool {
	return MatchEventFilter(w.Events, eventType)
}

// MatchEventFilter reports whether eventType matches one of the patterns. An empty
// list or "*" accepts everything; otherwise "*" stands for exactly one dot-separated
// segment ("response.*" accepts "response.created", not "response.a.b").
func MatchEventFilter(patterns []string, eventType string) bool {
	if len(patterns) == 0 {
		return true
	}
	for _, p := range patterns {
		if p == "*" || p == eventType || matchSegments(p, eventType) {
			return true
		}
	}
	return false
}

func matchSegments(pattern, name string) bool {
	for {
		pi := strings.IndexByte(pattern, '.')
		ni := strings.IndexByte(name, '.')
		if (pi < 0) != (ni < 0) {
			return false
		}
		ps, ns := pattern, name
		if pi >= 0 {
			ps, ns = pattern[:pi], name[:ni]
		}
		if ps != "*" && ps != ns {
			return false
		}
		if pi < 0 {
			return true
		}
		pattern, name = pattern[pi+1:], name[ni+1:]
	}
}

// ValidateEventPattern checks one entry of a webhook's event filter.
func ValidateEventPattern(p string) error {
	if p == "*" {
		return nil
	}
	if p == "" || len(p) > 200 {
		return Invalid("events", "an event filter must be 1 to 200 characters")
	}
	for _, seg := range strings.Split(p, ".") {
		if seg == "*" {
			continue
		}
		if err := validateNameSegment(seg); err != nil {
			return Invalid("events", "%q: %s", p, err.(*ValidationError).Message)
		}
	}
	return nil
}

// ValidateEventType checks an event type name such as "response.created".
func ValidateEventType(field, name string) error {
	if name == "" || len(name) > 200 {
		return Invalid(field, "must be 1 to 200 characters")
	}
	for _, seg := range strings.Split(name, ".") {
		if err := validateNameSegment(seg); err != nil {
			return Invalid(field, "%q: %s", name, err.(*ValidationError).Message)
		}
	}
	return nil
}

func validateNameSegment(seg string) error {
	if seg == "" {
		return Invalid("", "empty segment between dots")
	}
	for _, r := range seg {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return Invalid("", "segments may hold letters, digits, '_' and '-' only")
		}
	}
	return nil
}

// ValidateTenant checks a tenant name. TenantOps is accepted: the product may
// subscribe to operational events.
func ValidateTenant(field, tenant string) error {
	if tenant == "" {
		return Invalid(field, "must not be empty")
	}
	if len(tenant) > 200 {
		return Invalid(field, "must be at most 200 characters")
	}
	for _, r := range tenant {
		if r < 0x20 || r == 0x7f {
			return Invalid(field, "must not contain control characters")
		}
	}
	return nil
}

// ValidateURL checks a webhook target: absolute http(s) URL with a host and no
// credentials. Whether its address may be reached is decided at dial time.
func ValidateURL(field, raw string) error {
	if raw == "" {
		return Invalid(field, "is required")
	}
	if len(raw) > 2048 {
		return Invalid(field, "must be at most 2048 characters")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return Invalid(field, "is not a valid URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return Invalid(field, "must start with http:// or https://")
	}
	if u.Hostname() == "" {
		return Invalid(field, "must name a host")
	}
	if u.User != nil {
		return Invalid(field, "must not carry credentials; use headers instead")
	}
	return nil
}
