package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

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
	k, secret, err := createKey(r.Context(), h.store, in.Name, in.Scopes, tenant, in.RateLimit, h.now())
	if err != nil {
		h.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, apiKeyCreated{APIKey: k, Key: secret})
}

func (h *handler) apiKeyList(w http.ResponseWriter, r *http.Request) {
	lp, err := listParams(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	list, err := h.store.APIKeyList(r.Context(), store.APIKeyListParams{ListParams: lp, Tenant: listTenant(r)})
	if err != nil {
		h.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newPage(list, lp.Limit, func(k hookline.APIKey) string { return k.ID }))
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
	if err := h.store.APIKeyDelete(r.Context(), id); err != nil {
		h.error(w, r, err)
		return
	}
	h.keys.forget(id)
	w.WriteHeader(http.StatusNoContent)
}

// createKey issues a key and stores its hash; it returns the key text, which is
// never stored.
func createKey(ctx context.Context, s store.Store, name string, scopes []string, tenant string, rateLimit int, now time.Time) (*hookline.APIKey, string, error) {
	secret := newKeySecret()
	k := &hookline.APIKey{
		ID: hookline.NewID(hookline.PrefixAPIKey), Name: name, Scopes: scopes, Tenant: tenant, RateLimit: rateLimit,
		Prefix: secret[:10], Hash: hashKey(secret), CreatedAt: now.UTC(),
	}
	if err := s.APIKeyCreate(ctx, k); err != nil {
		return nil, "", err
	}
	return k, secret, nil
}

// Bootstrap gives an empty database its first admin key: adminKey when set (from
// HOOKLINE_ADMIN_KEY), otherwise a generated one. It returns the generated key,
// to be printed once, or "" when none was generated or the database has keys.
func Bootstrap(ctx context.Context, s store.Store, adminKey string, now time.Time) (generated string, err error) {
	n, err := s.APIKeyCount(ctx)
	if err != nil || n > 0 {
		return "", err
	}
	if adminKey != "" {
		k := &hookline.APIKey{
			ID: hookline.NewID(hookline.PrefixAPIKey), Name: "bootstrap admin (HOOKLINE_ADMIN_KEY)",
			Scopes: []string{hookline.ScopeAdmin}, Prefix: adminKey[:min(10, len(adminKey))], Hash: hashKey(adminKey), CreatedAt: now.UTC(),
		}
		if err := s.APIKeyCreate(ctx, k); err != nil && !errors.Is(err, store.ErrConflict) {
			return "", err // a conflict: another node starting at the same time installed it
		}
		return "", nil
	}
	_, secret, err := createKey(ctx, s, "bootstrap admin", []string{hookline.ScopeAdmin}, "", 0, now)
	return secret, err
}
