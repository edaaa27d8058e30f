package hookline

import (
	"encoding/json"
	"time"
)

// Profile is a stored wire-format profile: its name and definition (the JSON
// form of docs/profiles.md). Package profile compiles and renders it.
type Profile struct {
	Name       string          `json:"name"`
	Definition json.RawMessage `json:"definition"`
	CreatedAt  time.Time       `json:"created_at"`
	UpdatedAt  time.Time       `json:"updated_at"`
}
