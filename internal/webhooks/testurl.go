package webhooks

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/hookline/hookline/internal/delivery"
	"github.com/hookline/hookline/internal/hookline"
)

// TestURLInput is the body of POST /v1/webhook-tests: a target to check
// before it is saved as a webhook.
type TestURLInput struct {
	URL       *string `json:"url"`
	Profile   *string `json:"profile"`
	Secret    *string `json:"secret"`
	EventType *string `json:"event_type"`
	Tenant    *string `json:"tenant"`
}

// TestURLResult is what TestURL sent and how the target answered.
type TestURLResult struct {
	Attempt *hookline.Attempt
	// Profile is the profile the request was rendered with: the one asked
	// for, else the tenant's default.
	Profile string
	// Secret is the secret that signed it, when TestURL generated one (the
	// input gave none); empty otherwise.
	Secret string
}

// TestURL sends one test event now to a URL that no webhook of tenant has
// yet, rendered and signed as a webhook with in's profile (the tenant's
// default when left out) and secret (generated in the profile's format when
// left out) would be, through the same address guard, timeout and test-send
// bound as Test. The input is checked as a webhook's would be on create; a
// refused one sends nothing. Nothing is stored.
func (s *Service) TestURL(ctx context.Context, tenant string, in *TestURLInput) (*TestURLResult, error) {
	if in.URL == nil {
		return nil, hookline.Invalid("url", "is required")
	}
	wh := &hookline.Webhook{Tenant: tenant, URL: strings.TrimSpace(*in.URL), Active: true}
	var defaulted DefaultSource
	if in.Profile != nil && *in.Profile != "" {
		wh.Profile = *in.Profile
	} else {
		name, source, err := s.DefaultProfile(ctx, tenant)
		if err != nil {
			return nil, err
		}
		wh.Profile, defaulted = name, source
	}
	prof, err := s.profiles.Get(ctx, wh.Profile)
	if errors.Is(err, hookline.ErrNotFound) {
		return nil, s.unknownProfile(wh.Profile)
	}
	if err != nil {
		return nil, err
	}
	if in.Secret != nil {
		wh.Secret = *in.Secret
	}
	generated := wh.Secret == ""
	if err := validate(wh, prof); err != nil {
		return nil, explainSecret(err, prof, tenant, defaulted)
	}
	te := delivery.TestEvent{}
	if in.EventType != nil && *in.EventType != "" && *in.EventType != hookline.EventWebhookTest {
		t, err := s.store.EventTypeGet(ctx, *in.EventType)
		if errors.Is(err, hookline.ErrNotFound) {
			return nil, hookline.Invalid("event_type", "%q is not in the event catalogue", *in.EventType)
		}
		if err != nil {
			return nil, err
		}
		te = delivery.TestEvent{Type: t.Name, Data: t.Example}
		if len(te.Data) == 0 {
			te.Data = json.RawMessage(`{}`)
		}
	}
	a, err := s.engine.TestUnsaved(ctx, wh, te)
	if err != nil {
		return nil, err
	}
	res := &TestURLResult{Attempt: a, Profile: wh.Profile}
	if generated {
		res.Secret = wh.Secret
	}
	return res, nil
}
