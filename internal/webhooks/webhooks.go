// Package webhooks manages webhooks — the subscriptions of tenants — for the
// REST API and the portal alike: one place that validates a webhook against
// its profile, creates, changes, rotates, tests and deletes it, and tells the
// delivery engine. Who may touch which webhook (an API key's tenant, a portal
// session's) is the caller's to check; the root package webhook, by contrast,
// is the signing and verifying library receivers use.
package webhooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/delivery"
	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/profile"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/webhook"
)

// Service manages webhooks.
type Service struct {
	store    store.Store
	engine   *delivery.Engine
	profiles *profile.Registry
	// maxPerTenant is the server's limit of webhooks per tenant; a profile
	// may set its own.
	maxPerTenant int
	// defaultProfile is the server's default profile (--default-profile).
	defaultProfile string
	now            func() time.Time
}

// Options configure a Service.
type Options struct {
	Store  store.Store
	Engine *delivery.Engine
	// Profiles are the wire-format profiles; the engine's when nil.
	Profiles *profile.Registry
	// MaxPerTenant is how many webhooks a tenant may have, unless its
	// profile says.
	MaxPerTenant int
	// DefaultProfile is the profile of a webhook created without one in a
	// tenant that has no default of its own; standard when empty.
	DefaultProfile string
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// New returns a Service.
func New(o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Profiles == nil {
		o.Profiles = o.Engine.Profiles()
	}
	if o.DefaultProfile == "" {
		o.DefaultProfile = profile.Standard
	}
	return &Service{store: o.Store, engine: o.Engine, profiles: o.Profiles, maxPerTenant: o.MaxPerTenant, defaultProfile: o.DefaultProfile, now: o.Now}
}

// Input is what a caller sets on a webhook: the body of POST, PUT and PATCH
// /v1/webhooks, and the portal's form. Pointers tell a field left out (an
// update keeps it) from one set to its zero value.
type Input struct {
	URL         *string            `json:"url"`
	Events      *[]string          `json:"events"`
	Tenant      *string            `json:"tenant"`
	Secret      *string            `json:"secret"`
	Active      *bool              `json:"active"`
	Description *string            `json:"description"`
	Profile     *string            `json:"profile"`
	Headers     *map[string]string `json:"headers"`
	Metadata    *map[string]string `json:"metadata"`
	Ordered     *bool              `json:"ordered"`
}

// stamp is the service's clock at the store's precision.
func (s *Service) stamp() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

// Get returns webhook id if it belongs to tenant ("" for any tenant); a
// webhook of another tenant is hookline.ErrNotFound, as if it did not exist.
func (s *Service) Get(ctx context.Context, tenant, id string) (*hookline.Webhook, error) {
	wh, err := s.store.WebhookGet(ctx, id)
	if err != nil {
		return nil, err
	}
	if tenant != "" && wh.Tenant != tenant {
		return nil, hookline.ErrNotFound
	}
	return wh, nil
}

// Create creates a webhook of tenant from in, which must give its URL.
func (s *Service) Create(ctx context.Context, tenant string, in *Input) (*hookline.Webhook, error) {
	if in.URL == nil {
		return nil, hookline.Invalid("url", "is required")
	}
	if in.Headers != nil {
		if err := unmaskHeaders(*in.Headers, nil); err != nil {
			return nil, err
		}
	}
	now := s.stamp()
	wh := &hookline.Webhook{ID: hookline.NewID(hookline.PrefixWebhook), Tenant: tenant, Active: true, CreatedAt: now, UpdatedAt: now}
	prof, err := s.apply(ctx, in, wh)
	if err != nil {
		return nil, err
	}
	limit := prof.Policy.MaxWebhooksPerTenant
	if limit == 0 {
		limit = s.maxPerTenant
	}
	if err := s.store.WebhookCreate(ctx, store.WebhookCreateParams{Webhook: wh, MaxPerTenant: limit}); err != nil {
		if errors.Is(err, hookline.ErrLimitReached) {
			return nil, webhookLimit(tenant, limit, prof)
		}
		return nil, err
	}
	s.engine.WebhookChanged(wh.ID, wh.Tenant)
	return wh, nil
}

// Update changes wh as in says and returns it as stored. With replace (PUT),
// fields left out take their defaults, but the secret and the profile are kept
// unless given; otherwise (PATCH, or a PUT to a webhook whose profile declares
// put: partial) fields left out are kept.
func (s *Service) Update(ctx context.Context, wh *hookline.Webhook, in *Input, replace bool) (*hookline.Webhook, error) {
	if in.Tenant != nil && *in.Tenant != wh.Tenant {
		return nil, hookline.Invalid("tenant", "a webhook cannot move to another tenant; create a new one")
	}
	if in.Headers != nil {
		if err := unmaskHeaders(*in.Headers, wh.Headers); err != nil {
			return nil, err
		}
	}
	if replace {
		// A profile may give PUT partial semantics (the page it reproduces
		// documents a PUT of some fields): then it changes what it gives.
		prof, err := s.profiles.Get(ctx, wh.Profile)
		if err != nil && !errors.Is(err, hookline.ErrNotFound) {
			return nil, err
		}
		replace = prof == nil || !prof.PartialPut()
	}
	if replace {
		if in.URL == nil {
			return nil, hookline.Invalid("url", "is required (PUT replaces the webhook; use PATCH to change some fields)")
		}
		// The profile is kept like the secret: a PUT that leaves it out must
		// not switch the wire format (and the signature) under the receiver.
		*wh = hookline.Webhook{ID: wh.ID, Tenant: wh.Tenant, Profile: wh.Profile, Secret: wh.Secret, PreviousSecret: wh.PreviousSecret,
			PreviousSecretUntil: wh.PreviousSecretUntil, Active: true, CreatedAt: wh.CreatedAt}
	}
	wh.UpdatedAt = s.stamp()
	if _, err := s.apply(ctx, in, wh); err != nil {
		return nil, err
	}
	if err := s.store.WebhookUpdate(ctx, wh); err != nil {
		return nil, err
	}
	s.engine.WebhookChanged(wh.ID, wh.Tenant)
	return s.store.WebhookGet(ctx, wh.ID)
}

// SetActive turns wh on or off.
func (s *Service) SetActive(ctx context.Context, wh *hookline.Webhook, active bool) (*hookline.Webhook, error) {
	return s.Update(ctx, wh, &Input{Active: &active}, false)
}

// Delete deletes wh and cancels its pending deliveries.
func (s *Service) Delete(ctx context.Context, wh *hookline.Webhook) error {
	if err := s.store.WebhookDelete(ctx, wh.ID); err != nil {
		return err
	}
	s.engine.WebhookChanged(wh.ID, wh.Tenant)
	return nil
}

// MaxGracePeriod is the longest a rotated-out secret keeps signing.
const MaxGracePeriod = 7 * 24 * time.Hour

// DefaultGracePeriod is how long a rotated-out secret keeps signing unless
// the caller says.
const DefaultGracePeriod = 24 * time.Hour

var errGracePeriod = hookline.Invalid("grace_period", "must be a duration from 0s to 168h, such as 24h")

// ParseGracePeriod reads a grace period as RotateSecret takes it, from its
// text (a Go duration, "24h"): nil for "", the default; a
// *hookline.ValidationError of grace_period for one that does not parse or
// is out of range, so that a caller can refuse it before anything else.
func ParseGracePeriod(s string) (*time.Duration, error) {
	if s == "" {
		return nil, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 || d > MaxGracePeriod {
		return nil, errGracePeriod
	}
	return &d, nil
}

// RotateSecret gives wh a new secret (generated by its profile when secret
// is empty); the old one keeps signing next to it for grace (nil: the
// default). A profile whose signature header carries one signature (no
// separator) cannot send the old secret's next to the new one: its webhooks
// get no grace, and asking for one is refused (see CarriesGrace).
func (s *Service) RotateSecret(ctx context.Context, wh *hookline.Webhook, secret string, grace *time.Duration) (*hookline.Webhook, error) {
	if grace != nil && (*grace < 0 || *grace > MaxGracePeriod) {
		return nil, errGracePeriod
	}
	prof, err := s.profiles.Get(ctx, wh.Profile)
	if err != nil {
		return nil, err
	}
	d := DefaultGracePeriod
	if grace != nil {
		d = *grace
	}
	if !CarriesGrace(prof) {
		if d > 0 && grace != nil {
			return nil, hookline.Invalid("grace_period", "%s; send 0s or leave it out", NoGraceReason(prof))
		}
		d = 0
	}
	if secret == "" {
		if secret, err = prof.NewSecret(); err != nil {
			return nil, err
		}
	} else if err := prof.ValidateSecret(secret); err != nil {
		return nil, explainSecret(err, prof, wh.Tenant, "")
	}
	now := s.stamp()
	wh.PreviousSecret, wh.PreviousSecretUntil = "", nil
	if d > 0 {
		until := now.Add(d)
		wh.PreviousSecret, wh.PreviousSecretUntil = wh.Secret, &until
	}
	wh.Secret, wh.UpdatedAt = secret, now
	if err := s.store.WebhookUpdate(ctx, wh); err != nil {
		return nil, err
	}
	s.engine.WebhookChanged(wh.ID, wh.Tenant)
	return wh, nil
}

// CarriesGrace reports whether prof's requests can carry the signatures of
// two secrets, so that a rotated-out secret keeps signing for a grace period:
// only when its signature has a separator (standard's " "). With one
// signature per header, receivers holding the old secret would have to be
// told the new one at once anyway.
func CarriesGrace(prof *profile.Profile) bool {
	sc := prof.Scheme()
	return sc != nil && sc.Separator != ""
}

// NoGraceReason says, for people, why prof's webhooks get no grace period
// when their secret is rotated; empty when they do.
func NoGraceReason(prof *profile.Profile) string {
	if CarriesGrace(prof) {
		return ""
	}
	if prof.Scheme() == nil {
		return fmt.Sprintf("the %q profile sends unsigned requests, so there is no old signature to keep sending", prof.Name)
	}
	return fmt.Sprintf("the %q profile's signature header (%s) carries one signature, so only the new secret can sign: "+
		"the old one stops at once, and the receivers need the new secret right away", prof.Name, prof.Scheme().Header)
}

// NoGraceReason returns why wh's profile gives no grace on rotation, empty
// when it does (see the function NoGraceReason).
func (s *Service) NoGraceReason(ctx context.Context, wh *hookline.Webhook) (string, error) {
	prof, err := s.profiles.Get(ctx, wh.Profile)
	if err != nil {
		return "", err
	}
	return NoGraceReason(prof), nil
}

// Test sends wh one test event now and returns the attempt, which the
// webhook's log also shows. With an event type of the catalogue, the event
// is of that type with the type's example as its data; otherwise it is a
// webhook.test with the profile's test data.
func (s *Service) Test(ctx context.Context, wh *hookline.Webhook, eventType string) (*hookline.Attempt, error) {
	if eventType == "" || eventType == hookline.EventWebhookTest {
		return s.engine.Test(ctx, wh, delivery.TestEvent{})
	}
	t, err := s.store.EventTypeGet(ctx, eventType)
	if errors.Is(err, hookline.ErrNotFound) {
		return nil, hookline.Invalid("event_type", "%q is not in the event catalogue", eventType)
	}
	if err != nil {
		return nil, err
	}
	data := t.Example
	if len(data) == 0 {
		data = json.RawMessage(`{}`)
	}
	return s.engine.Test(ctx, wh, delivery.TestEvent{Type: t.Name, Data: data})
}

// apply copies the fields of in that are set onto w and validates the result
// against its profile, which it returns.
func (s *Service) apply(ctx context.Context, in *Input, w *hookline.Webhook) (*profile.Profile, error) {
	if in.URL != nil {
		w.URL = strings.TrimSpace(*in.URL)
	}
	if in.Events != nil {
		w.Events = *in.Events
	}
	if in.Secret != nil {
		w.Secret = *in.Secret
	}
	if in.Active != nil {
		w.Active = *in.Active
	}
	if in.Description != nil {
		w.Description = *in.Description
	}
	if in.Profile != nil {
		w.Profile = *in.Profile
	}
	if in.Headers != nil {
		w.Headers = *in.Headers
	}
	if in.Metadata != nil {
		w.Metadata = *in.Metadata
	}
	if in.Ordered != nil {
		w.Ordered = *in.Ordered
	}
	var defaulted DefaultSource
	if w.Profile == "" {
		name, source, err := s.DefaultProfile(ctx, w.Tenant)
		if err != nil {
			return nil, err
		}
		w.Profile, defaulted = name, source
	}
	prof, err := s.profiles.Get(ctx, w.Profile)
	if errors.Is(err, hookline.ErrNotFound) {
		if defaulted != "" {
			return nil, hookline.Invalid("profile", "the request names no profile, and the default%s, %q, is not one this server has; name one, or change the default",
				whyProfile(nil, w.Tenant, defaulted), w.Profile)
		}
		return nil, s.unknownProfile(w.Profile)
	}
	if err != nil {
		return nil, err
	}
	if err := validate(w, prof); err != nil {
		return nil, explainSecret(err, prof, w.Tenant, defaulted)
	}
	return prof, nil
}

// reservedHeaders are set by Hookline and may not be overridden per webhook.
var reservedHeaders = map[string]bool{
	"host": true, "content-length": true, "content-type": true, "transfer-encoding": true,
	"connection": true, "te": true, "upgrade": true, "trailer": true, "expect": true,
	webhook.HeaderID: true, webhook.HeaderTimestamp: true, webhook.HeaderSignature: true,
}

// Limits on a webhook's custom headers and metadata, which every read of it
// returns: they bound the size of a webhook, and so of a page of them.
const (
	MaxEventFilters  = 100
	maxHeaders       = 20
	maxHeadersBytes  = 16 << 10 // names and values together; one value is at most 4096 bytes
	maxMetadataKeys  = 50
	maxMetadataKey   = 64
	maxMetadataValue = 512
	maxDescription   = 1000
)

// validate checks w against its profile, filling in what defaults: empty
// lists and maps, and a secret the profile generates.
func validate(w *hookline.Webhook, prof *profile.Profile) error {
	if err := hookline.ValidateURL("url", w.URL); err != nil {
		return err
	}
	if w.Events == nil {
		w.Events = []string{}
	}
	if len(w.Events) > MaxEventFilters {
		return hookline.Invalid("events", "at most %d filters", MaxEventFilters)
	}
	for _, p := range w.Events {
		if err := hookline.ValidateEventPattern(p); err != nil {
			return err
		}
	}
	if w.Secret == "" {
		secret, err := prof.NewSecret()
		if err != nil {
			return err
		}
		w.Secret = secret
	} else if err := prof.ValidateSecret(w.Secret); err != nil {
		return err
	}
	if len(w.Description) > maxDescription {
		return hookline.Invalid("description", "at most %d characters", maxDescription)
	}
	if w.Headers == nil {
		w.Headers = map[string]string{}
	}
	if len(w.Headers) > maxHeaders {
		return hookline.Invalid("headers", "at most %d headers", maxHeaders)
	}
	size := 0
	for k, v := range w.Headers {
		if size += len(k) + len(v); size > maxHeadersBytes {
			return hookline.Invalid("headers", "at most %d bytes of names and values in all", maxHeadersBytes)
		}
		if !validHeaderName(k) {
			return hookline.Invalid("headers", "%q is not a valid header name", k)
		}
		if reservedHeaders[strings.ToLower(k)] || prof.Scheme() != nil && strings.EqualFold(k, prof.Scheme().Header) {
			return hookline.Invalid("headers", "%q is set by Hookline and cannot be overridden", k)
		}
		if strings.ContainsAny(v, "\r\n\x00") || len(v) > 4096 {
			return hookline.Invalid("headers", "the value of %q must be one line of at most 4096 bytes", k)
		}
	}
	if w.Metadata == nil {
		w.Metadata = map[string]string{}
	}
	if len(w.Metadata) > maxMetadataKeys {
		return hookline.Invalid("metadata", "at most %d keys", maxMetadataKeys)
	}
	for k, v := range w.Metadata {
		if k == "" || len(k) > maxMetadataKey {
			return hookline.Invalid("metadata", "keys must be 1 to %d bytes; %.20q… is not", maxMetadataKey, k)
		}
		if len(v) > maxMetadataValue {
			return hookline.Invalid("metadata", "the value of %q must be at most %d bytes", k, maxMetadataValue)
		}
	}
	return nil
}

func validHeaderName(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!#$%&'*+-.^_`|~", r)) {
			return false
		}
	}
	return true
}

// unmaskHeaders puts back the stored value of every header that in sends as
// hookline.MaskedValue, the placeholder reads show: a webhook read, changed and
// sent back whole keeps its credentials. A placeholder for a header the webhook
// does not have is refused.
func unmaskHeaders(in map[string]string, stored map[string]string) error {
	for k, v := range in {
		if v != hookline.MaskedValue {
			continue
		}
		old, ok := stored[k]
		if !ok {
			return hookline.Invalid("headers", "the value of %q is %s, the placeholder reads show for hidden values, and the webhook has no such header to keep; send the real value", k, hookline.MaskedValue)
		}
		in[k] = old
	}
	return nil
}

// Retry makes delivery d due now, whatever its state: a failed delivery is
// tried again, a pending one at once.
func (s *Service) Retry(ctx context.Context, d *hookline.Delivery) (*hookline.Delivery, error) {
	d, err := s.store.DeliveryRetry(ctx, store.DeliveryRetryParams{ID: d.ID, Now: s.stamp()})
	if err != nil {
		return nil, err
	}
	s.engine.Notify()
	return d, nil
}
