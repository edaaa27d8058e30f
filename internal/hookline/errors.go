// Package hookline holds Hookline's domain: the nouns of the specification
// (webhook, event, delivery, attempt, event type, API key), their statuses and the
// sentinel errors every layer shares. It has no SQL and no HTTP.
package hookline

import (
	"errors"
	"fmt"
)

// Sentinel errors. Stores and services wrap them with %w; the API maps them to
// status codes in exactly one place.
var (
	ErrNotFound     = errors.New("not found")
	ErrConflict     = errors.New("conflict")
	ErrUnavailable  = errors.New("storage unavailable")
	ErrLimitReached = errors.New("limit reached")
)

// ValidationError says which field of a request is wrong and why. The API turns it
// into a 400 (or 422) problem that names the field.
type ValidationError struct {
	Field   string
	Message string
}

func (e *ValidationError) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return fmt.Sprintf("%s: %s", e.Field, e.Message)
}

// Invalid returns a *ValidationError for field.
func Invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Message: fmt.Sprintf(format, args...)}
}
