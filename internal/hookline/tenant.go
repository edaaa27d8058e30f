package hookline

import "time"

// TenantDefaults are what a tenant's new webhooks get when their request
// leaves a field out. Profile is the profile of a webhook created without
// "profile"; the server's default (serve --default-profile) applies to a
// tenant that has none.
type TenantDefaults struct {
	Tenant    string    `json:"tenant"`
	Profile   string    `json:"profile"`
	UpdatedAt time.Time `json:"updated_at"`
}
