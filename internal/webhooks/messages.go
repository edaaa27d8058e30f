package webhooks

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/profile"
)

// limitError is a limit the caller reached, said for people; errors.Is finds
// hookline.ErrLimitReached in it, which the API and the portal answer 422.
type limitError struct{ msg string }

func (e *limitError) Error() string { return e.msg }
func (e *limitError) Unwrap() error { return hookline.ErrLimitReached }

// webhookLimit is the error of a webhook refused because its tenant has
// limit webhooks already, naming whose limit it is.
func webhookLimit(tenant string, limit int, prof *profile.Profile) error {
	whose := "the server's limit, --max-webhooks-per-tenant"
	if prof.Definition != nil && prof.Definition.Policy.MaxWebhooksPerTenant > 0 {
		whose = fmt.Sprintf("the limit of the %q profile", prof.Name)
	}
	return &limitError{fmt.Sprintf("tenant %q already has %d webhooks, the most it may have (%s); delete one to add another", tenant, limit, whose)}
}

// unknownProfile is the error of a webhook that names a profile the server
// does not have: it says which profiles were loaded from files, since a
// profile missing there is the usual cause, and how profiles are loaded.
func (s *Service) unknownProfile(name string) error {
	var files []string
	for _, p := range s.profiles.FixedProfiles() {
		if p.Source != profile.SourceBuiltIn {
			files = append(files, strconv.Quote(p.Name))
		}
	}
	has := "and no profile from files"
	if len(files) > 0 {
		has = "and, from files, " + strings.Join(files, ", ")
	}
	return hookline.Invalid("profile", "unknown profile %q: this server has the built-in %q %s. "+
		"Profiles are loaded at start from YAML files (serve --profiles DIR, or HOOKLINE_PROFILES; "+
		"formvox.yaml is the profile formvox; the repository's examples/profiles has four) "+
		"or created with POST /v1/profiles; GET /v1/profiles lists them all",
		name, profile.Standard, has)
}

// explainSecret adds to a refused secret which profile the webhook has, the
// profile that decides what a secret must be, and how to choose another: a
// secret meant for another product's format is most often refused because the
// webhook was left with the default profile.
func explainSecret(err error, prof *profile.Profile, tenant string, defaulted DefaultSource) error {
	var ve *hookline.ValidationError
	if !errors.As(err, &ve) || ve.Field != "secret" {
		return err
	}
	msg := strings.TrimSuffix(ve.Message, " (or leave it out to have one generated)")
	whose := fmt.Sprintf("the webhook's profile, %q, needs", prof.Name)
	if defaulted != "" {
		whose = fmt.Sprintf("the %q profile needs, which the webhook has because the request names no \"profile\"%s", prof.Name, whyProfile(prof, tenant, defaulted))
	}
	return hookline.Invalid("secret", "%s. That is what %s. Leave the secret out to have one generated or, "+
		"if the receivers expect another format, set \"profile\" to its name (GET /v1/profiles lists them)", msg, whose)
}
