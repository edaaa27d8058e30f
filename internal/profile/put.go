package profile

import "github.com/hookline/hookline/internal/hookline"

// Values of Definition.Put.
const (
	// PutReplace: a PUT replaces the webhook; fields left out take their
	// defaults (the secret and the profile are kept).
	PutReplace = "replace"
	// PutPartial: a PUT changes the fields given and keeps the others, as a
	// PATCH does.
	PutPartial = "partial"
)

func checkPut(v string) error {
	if v != "" && v != PutReplace && v != PutPartial {
		return hookline.Invalid("put", "must be replace or partial, not %q", v)
	}
	return nil
}

// PartialPut reports whether a PUT of the profile's webhooks changes only the
// fields it gives (Definition.Put is "partial").
func (p *Profile) PartialPut() bool {
	return p.Definition != nil && p.Definition.Put == PutPartial
}
