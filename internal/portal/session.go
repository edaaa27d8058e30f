package portal

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

// Session lengths: a portal session lasts DefaultExpiry unless its creator
// says, from MinExpiry to MaxExpiry.
const (
	DefaultExpiry = time.Hour
	MinExpiry     = time.Minute
	MaxExpiry     = 7 * 24 * time.Hour
)

// CreateParams asks for a portal session of a tenant.
type CreateParams struct {
	Tenant    string
	ExpiresIn time.Duration // 0: DefaultExpiry
	// Capabilities beyond viewing; view is always granted.
	Capabilities []string
	Theme        hookline.PortalTheme
	Locale       string // "", "en" or "fr"
}

var accentRE = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// validate checks p and returns the capabilities the session holds.
func (p *CreateParams) validate() ([]string, error) {
	if err := hookline.ValidateTenant("tenant", p.Tenant); err != nil {
		return nil, err
	}
	if p.ExpiresIn == 0 {
		p.ExpiresIn = DefaultExpiry
	}
	if p.ExpiresIn < MinExpiry || p.ExpiresIn > MaxExpiry {
		return nil, hookline.Invalid("expires_in", "must be between 1m and 7d")
	}
	caps := []string{hookline.CapView}
	for i, c := range p.Capabilities {
		if !slices.Contains(hookline.Capabilities, c) {
			return nil, hookline.Invalid("capabilities["+strconv.Itoa(i)+"]", "%q is not a capability; they are %v", c, hookline.Capabilities)
		}
		if !slices.Contains(caps, c) {
			caps = append(caps, c)
		}
	}
	t := &p.Theme
	if t.Accent != "" && !accentRE.MatchString(t.Accent) {
		return nil, hookline.Invalid("theme.accent", "must be a colour #rrggbb")
	}
	if t.LogoURL != "" {
		u, err := url.Parse(t.LogoURL)
		if err != nil || u.Scheme != "https" || u.Host == "" || len(t.LogoURL) > 2048 {
			return nil, hookline.Invalid("theme.logo_url", "must be an https URL of at most 2048 bytes")
		}
	}
	switch t.Mode {
	case "", "light", "dark", "auto":
	default:
		return nil, hookline.Invalid("theme.mode", `must be "light", "dark" or "auto"`)
	}
	switch p.Locale {
	case "", "en", "fr":
	default:
		return nil, hookline.Invalid("locale", `must be "en" or "fr" (or absent, to follow the browser)`)
	}
	return caps, nil
}

// tokenPrefix starts a portal login token, so that one found in a log or a
// chat can be recognised.
const tokenPrefix = "hlp_"

// secret returns 256 random bits, URL-safe.
func secret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// CreateSession stores a new session and returns it with its login token,
// which appears in its login URL only.
func (p *Portal) CreateSession(ctx context.Context, cp CreateParams) (*hookline.PortalSession, string, error) {
	caps, err := cp.validate()
	if err != nil {
		return nil, "", err
	}
	now := p.now().UTC().Truncate(time.Millisecond)
	token := tokenPrefix + secret()
	s := &hookline.PortalSession{
		ID: hookline.NewID(hookline.PrefixPortalSession), Tenant: cp.Tenant, Capabilities: caps, Theme: cp.Theme,
		Locale: cp.Locale, ExpiresAt: now.Add(cp.ExpiresIn), CreatedAt: now, TokenHash: p.hasher.Hash(token),
	}
	if err := p.store.PortalSessionCreate(ctx, s); err != nil {
		return nil, "", fmt.Errorf("portal: create session: %w", err)
	}
	return s, token, nil
}

// EndSession ends a session at once; its cookie no longer works.
func (p *Portal) EndSession(ctx context.Context, id string) error {
	return p.store.PortalSessionEnd(ctx, id, p.now())
}

// EndTenant ends every session of tenant and says how many.
func (p *Portal) EndTenant(ctx context.Context, tenant string) (int, error) {
	return p.store.PortalSessionEndTenant(ctx, tenant, p.now())
}

// Session returns a session by id.
func (p *Portal) Session(ctx context.Context, id string) (*hookline.PortalSession, error) {
	return p.store.PortalSessionGet(ctx, id)
}

// LoginPath is the path of a session's login URL, with its token.
func LoginPath(token string) string { return "/portal/login?token=" + url.QueryEscape(token) }
