// Package profile turns an event into the HTTP request a webhook receives — body
// envelope, headers, signature — and holds the delivery policy that goes with it
// (SPEC §4). A profile is data: the built-in Standard Webhooks profile is written
// in the same language as the ones users load from YAML or create through the API.
package profile

import (
	_ "embed"
)

// Standard is the name of the built-in default profile.
const Standard = "standard"

//go:embed standard.yaml
var standardYAML []byte

// StandardDefinition returns the built-in profile's definition.
func StandardDefinition() *Definition {
	d, err := ParseYAML(standardYAML)
	if err != nil {
		panic("profile: the built-in standard profile does not parse: " + err.Error())
	}
	return d
}
