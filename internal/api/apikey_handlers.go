package api

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/hookline/hookline/internal/apikey"
	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

// apiKeyInput is the body of POST /v1/api-keys.
type apiKeyInput struct {
	Name      string   `json:"name"`
	Scopes    []string `json:"scopes"`
	Tenant    string   `json:"tenant"`
	RateLimit int      `json:"rate_limit"`
}

// apiKeyCreated is the 201 answer: the only time the key itself is shown.
type apiKeyCreated struct {
	*hookline.APIKey
	Key string `json:"key"`
}

func (h *handler) apiKeyCreate(w http.ResponseWriter, r *http.Request) {
	var in apiKeyInput
	if err := decode(w, r, &in, maxBodyBytes); err != nil {
		h.error(w, r, err)
		return
	}
	caller := apiKey(r)
	in.Name = strings.TrimSpace(in.Name)
	switch {
	case in.Name == "" || len(in.Name) > 200:
		h.error(w, r, hookline.Invalid("name", "must be 1 to 200 characters"))
		return
	case len(in.Scopes) == 0:
		h.error(w, r, hookline.Invalid("scopes", "name at least one scope (%s)", strings.Join(hookline.Scopes, ", ")))
		return
	case in.RateLimit < 0:
		h.error(w, r, hookline.Invalid("rate_limit", "must be a positive number of requests per hour, or 0 for the default"))
		return
	}
	for _, s := range in.Scopes {
		if !slices.Contains(hookline.Scopes, s) {
			h.error(w, r, hookline.Invalid("scopes", "unknown scope %q (known: %s)", s, strings.Join(hookline.Scopes, ", ")))
			return
		}
		// A key can hand out only what it holds itself.
		if !caller.Allows(s) {
			h.error(w, r, errField(http.StatusForbidden, "scopes", fmt.Sprintf("this API key cannot grant %q, which it does not hold", s)))
			return
		}
	}
	tenant := in.Tenant
	if caller.Tenant != "" {
		if tenant != "" && tenant != caller.Tenant {
			h.error(w, r, errField(http.StatusForbidden, "tenant", fmt.Sprintf("this API key is limited to tenant %q", caller.Tenant)))
			return
		}
		tenant = caller.Tenant
	} else if tenant != "" {
		if err := hookline.ValidateTenant("tenant", tenant); err != nil {
			h.error(w, r, err)
			return
		}
	}
	want := &hookline.APIKey{Scopes: in.Scopes, Tenant: tenant, RateLimit: in.RateLimit}
	if mine, theirs := caller.EffectiveRateLimit(h.cfg.TenantKeyRateLimit), want.EffectiveRateLimit(h.cfg.TenantKeyRateLimit); in.RateLimit == 0 && mine > 0 && (theirs == 0 || theirs > mine) {
		// Asked for the default, which would be more than a rate-limited caller has:
		// the new key inherits the caller's limit instead.
		want.RateLimit = mine
	}
	// A key can never make one that reaches further than itself.
	if err := caller.Covers(want, h.cfg.TenantKeyRateLimit); err != nil {
		h.error(w, r, forbidden(err))
		return
	}
	k, secret, err := apikey.Create(r.Context(), h.store, h.hasher, apikey.CreateParams{
		Name: in.Name, Scopes: in.Scopes, Tenant: tenant, RateLimit: want.RateLimit, Now: h.now(),
	})
	if err != nil {
		h.error(w, r, err)
		return
	}
	writeCreated(w, apiKeyCreated{APIKey: k, Key: secret}, "api-keys", k.ID)
}

func (h *handler) apiKeyList(w http.ResponseWriter, r *http.Request) {
	lp, err := listParams(r, idCursor(hookline.PrefixAPIKey))
	if err != nil {
		h.error(w, r, err)
		return
	}
	list, err := h.store.APIKeyList(r.Context(), store.APIKeyListParams{ListParams: lp, Tenant: listTenant(r)})
	if err != nil {
		h.error(w, r, err)
		return
	}
	writePage(h, w, r, list, lp, func(k hookline.APIKey) string { return k.ID })
}

func (h *handler) apiKeyDelete(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	k, err := h.store.APIKeyGet(r.Context(), id)
	if err != nil {
		h.error(w, r, err)
		return
	}
	if err := visible(r, k.Tenant); err != nil {
		h.error(w, r, err)
		return
	}
	// A key may delete only keys it covers: with api-keys:admin alone, it cannot
	// remove an admin key and lock the operator out.
	if err := apiKey(r).Covers(k, h.cfg.TenantKeyRateLimit); err != nil {
		h.error(w, r, forbidden(err))
		return
	}
	if h.cfg.AdminKey != "" && bytes.Equal(k.Hash, h.hasher.Hash(h.cfg.AdminKey)) {
		h.error(w, r, errStatus(http.StatusConflict, "conflict",
			"this key is the server's HOOKLINE_ADMIN_KEY, which works as long as that setting is set; unset it on every node and restart them, then delete the key"))
		return
	}
	if err := h.store.APIKeyDelete(r.Context(), id); err != nil {
		h.error(w, r, err)
		return
	}
	h.forgetKey(id)
	w.WriteHeader(http.StatusNoContent)
}

// forbidden turns a refusal that names its field into a 403 problem.
func forbidden(err error) error {
	var ve *hookline.ValidationError
	if errors.As(err, &ve) {
		return errField(http.StatusForbidden, ve.Field, ve.Message)
	}
	return err
}
