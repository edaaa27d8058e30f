package hookline

import (
	"slices"
	"time"
)

// PrefixPortalSession starts the ids of portal sessions.
const PrefixPortalSession = "ps_"

// Portal capabilities: what a tenant portal session may do beyond viewing.
// A session holds only those its creator granted (least privilege).
const (
	CapView           = "view"            // see webhooks, the delivery log, event types
	CapManageWebhooks = "manage_webhooks" // create, edit, disable, delete webhooks; send tests
	CapSecrets        = "secrets"         // reveal and rotate webhook secrets
	CapRetry          = "retry"           // retry deliveries, recover failed ones
	CapManageKeys     = "manage_keys"     // create and revoke the tenant's API keys
)

// Capabilities lists every portal capability.
var Capabilities = []string{CapView, CapManageWebhooks, CapSecrets, CapRetry, CapManageKeys}

// PortalTheme is the fixed set of theming parameters of a portal session;
// there is no raw CSS.
type PortalTheme struct {
	// Accent is a colour "#rrggbb"; empty for the default.
	Accent string `json:"accent,omitempty"`
	// LogoURL is an https URL of the product's logo; empty for none.
	LogoURL string `json:"logo_url,omitempty"`
	// Mode is "light", "dark" or "auto" (the default: the browser's).
	Mode string `json:"mode,omitempty"`
	// HideNav hides the portal's navigation, for a product that shows one
	// page of it in its own frame.
	HideNav bool `json:"hide_nav,omitempty"`
}

// PortalSession is a tenant portal session. It is created with a single-use
// login token, exchanged once for a session cookie; only hashes of the two
// are stored.
type PortalSession struct {
	ID           string      `json:"id"`
	Tenant       string      `json:"tenant"`
	Capabilities []string    `json:"capabilities"`
	Theme        PortalTheme `json:"theme"`
	// Locale is "en" or "fr"; empty to follow the browser (Accept-Language).
	Locale    string    `json:"locale,omitempty"`
	ExpiresAt time.Time `json:"expires_at"`
	CreatedAt time.Time `json:"created_at"`
	// LoggedInAt is when the login token was exchanged; nil until then.
	LoggedInAt *time.Time `json:"logged_in_at,omitempty"`
	// EndedAt is when the session was ended (DELETE); nil while it lasts.
	EndedAt *time.Time `json:"ended_at,omitempty"`

	TokenHash  []byte `json:"-"` // of the single-use login token
	CookieHash []byte `json:"-"` // of the session cookie, once logged in
}

// Can reports whether the session holds capability c.
func (s *PortalSession) Can(c string) bool { return slices.Contains(s.Capabilities, c) }

// Live reports whether the session may be used at now: not ended, not expired.
func (s *PortalSession) Live(now time.Time) bool {
	return s.EndedAt == nil && now.Before(s.ExpiresAt)
}
