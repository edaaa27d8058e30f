package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/keyring"
	"github.com/hookline/hookline/internal/keyspace"
)

// The product's own API keys (package keyspace): key spaces, their keys, and
// verification for the product's API servers.

// keyspaceInput is the body of POST /v1/keyspaces and PATCH
// /v1/keyspaces/{name}.
type keyspaceInput struct {
	Name        string              `json:"name"`
	Description *string             `json:"description"`
	Prefix      string              `json:"prefix"`
	Permissions []permissionInput   `json:"permissions"`
	RateLimit   *keyspace.RateLimit `json:"rate_limit"`
	KeyExpiry   *keyspace.Duration  `json:"key_expiry"`
}

// permissionInput is a catalogue entry: a name, or {"name", "description"}.
type permissionInput keyspace.Permission

func (p *permissionInput) UnmarshalJSON(b []byte) error {
	var name string
	if err := json.Unmarshal(b, &name); err == nil {
		*p = permissionInput{Name: name}
		return nil
	}
	type plain keyspace.Permission
	var v plain
	if err := strictUnmarshal(b, &v); err != nil {
		return errors.New(`a permission is a name, or an object {"name", "description"}`)
	}
	*p = permissionInput(v)
	return nil
}

// strictUnmarshal decodes b into v, refusing unknown fields.
func strictUnmarshal(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func permissionsOf(in []permissionInput) []keyspace.Permission {
	out := make([]keyspace.Permission, len(in))
	for i, p := range in {
		out[i] = keyspace.Permission(p)
	}
	return out
}

// canEditKeyspaces: key spaces are the product's configuration, like
// profiles.
func canEditKeyspaces(r *http.Request) error { return canEditShared(r, "key spaces") }

// keyringError maps the key ring's own errors.
func keyringError(err error) error {
	if errors.Is(err, keyring.ErrReadOnly) {
		return errStatus(http.StatusConflict, "read-only", err.Error())
	}
	return err
}

func (h *handler) keyspaceList(w http.ResponseWriter, r *http.Request) {
	list, err := h.ring.Keyspaces(r.Context())
	if err != nil {
		h.error(w, r, err)
		return
	}
	if list == nil {
		list = []keyspace.Keyspace{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": list, "has_more": false, "next_cursor": "", "prev_cursor": ""})
}

func (h *handler) keyspaceGet(w http.ResponseWriter, r *http.Request) {
	ks, err := h.ring.Keyspace(r.Context(), r.PathValue("name"))
	if err != nil {
		h.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ks)
}

func (h *handler) keyspaceCreate(w http.ResponseWriter, r *http.Request) {
	if err := canEditKeyspaces(r); err != nil {
		h.error(w, r, err)
		return
	}
	var in keyspaceInput
	if err := decode(w, r, &in, maxBodyBytes); err != nil {
		h.error(w, r, err)
		return
	}
	ks := &keyspace.Keyspace{Name: in.Name, Prefix: in.Prefix, Permissions: permissionsOf(in.Permissions), RateLimit: in.RateLimit}
	if in.Description != nil {
		ks.Description = *in.Description
	}
	if in.KeyExpiry != nil {
		ks.KeyExpiry = *in.KeyExpiry
	}
	if err := h.ring.CreateKeyspace(r.Context(), ks); err != nil {
		if errors.Is(err, hookline.ErrConflict) {
			err = errStatus(http.StatusConflict, "conflict", fmt.Sprintf("a key space already has the name %q or the prefix %q", in.Name, in.Prefix))
		}
		h.error(w, r, err)
		return
	}
	writeCreated(w, ks, "keyspaces", ks.Name)
}

// keyspacePatch changes what is sent of a stored key space: description,
// permissions, rate_limit and key_expiry (null removes any of them but
// permissions, which must not be empty). The name and prefix stay.
func (h *handler) keyspacePatch(w http.ResponseWriter, r *http.Request) {
	if err := canEditKeyspaces(r); err != nil {
		h.error(w, r, err)
		return
	}
	name := r.PathValue("name")
	ks, err := h.ring.Keyspace(r.Context(), name)
	if err != nil {
		h.error(w, r, err)
		return
	}
	// The body is read once, then decoded twice: strictly, and as a map that
	// tells a field sent as null from one not sent.
	var body json.RawMessage
	if err := decode(w, r, &body, maxBodyBytes); err != nil {
		h.error(w, r, err)
		return
	}
	var raw map[string]json.RawMessage
	var in keyspaceInput
	if err := json.Unmarshal(body, &raw); err != nil {
		h.error(w, r, errStatus(http.StatusBadRequest, "bad-request", "request body must be a JSON object"))
		return
	}
	if err := strictUnmarshal(body, &in); err != nil {
		h.error(w, r, decodeError(err))
		return
	}
	if in.Name != "" && in.Name != name {
		h.error(w, r, hookline.Invalid("name", "key spaces cannot be renamed"))
		return
	}
	// A field sent changes; sent as null, it goes back to none: no
	// description, no default limit, keys that do not expire by default.
	next := *ks
	next.Prefix = in.Prefix
	if _, ok := raw["description"]; ok {
		next.Description = ""
		if in.Description != nil {
			next.Description = *in.Description
		}
	}
	if _, ok := raw["permissions"]; ok {
		next.Permissions = permissionsOf(in.Permissions)
	}
	if _, ok := raw["rate_limit"]; ok {
		next.RateLimit = in.RateLimit
	}
	if _, ok := raw["key_expiry"]; ok {
		next.KeyExpiry = 0
		if in.KeyExpiry != nil {
			next.KeyExpiry = *in.KeyExpiry
		}
	}
	if err := h.ring.UpdateKeyspace(r.Context(), &next); err != nil {
		h.error(w, r, keyringError(err))
		return
	}
	writeJSON(w, http.StatusOK, &next)
}

func (h *handler) keyspaceDelete(w http.ResponseWriter, r *http.Request) {
	if err := canEditKeyspaces(r); err != nil {
		h.error(w, r, err)
		return
	}
	if err := h.ring.DeleteKeyspace(r.Context(), r.PathValue("name")); err != nil {
		h.error(w, r, keyringError(err))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// keyInput is the body of POST /v1/keyspaces/{name}/keys.
type keyInput struct {
	Tenant      string              `json:"tenant"`
	Name        string              `json:"name"`
	Permissions []string            `json:"permissions"`
	Resources   []string            `json:"resources"`
	Meta        map[string]string   `json:"meta"`
	RateLimit   *keyspace.RateLimit `json:"rate_limit"`
	ExpiresAt   *timeInput          `json:"expires_at"`
}

// issuedKey is a key's record with the key itself: the answer that creates
// it, and the only one that shows it.
type issuedKey struct {
	*keyspace.Key
	Secret string `json:"key"`
}

func (h *handler) keyCreate(w http.ResponseWriter, r *http.Request) {
	ks, err := h.ring.Keyspace(r.Context(), r.PathValue("name"))
	if err != nil {
		h.error(w, r, err)
		return
	}
	var in keyInput
	if err := decode(w, r, &in, maxBodyBytes); err != nil {
		h.error(w, r, err)
		return
	}
	tenant, err := scopedTenant(r, in.Tenant)
	if err != nil {
		h.error(w, r, err)
		return
	}
	if len(in.Permissions) == 0 {
		h.error(w, r, hookline.Invalid("permissions", "must grant at least one permission of the catalogue (or \"*\" for all)"))
		return
	}
	secret, k, err := h.ring.Issue(r.Context(), ks, keyring.IssueParams{
		Tenant: tenant, Name: in.Name, Permissions: in.Permissions, Resources: in.Resources,
		Meta: in.Meta, RateLimit: in.RateLimit, ExpiresAt: in.ExpiresAt.timePtr(),
	})
	if err != nil {
		h.error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeCreated(w, issuedKey{Key: k, Secret: secret}, "keyspaces", ks.Name, "keys", k.ID)
}

func (h *handler) keyList(w http.ResponseWriter, r *http.Request) {
	ks, err := h.ring.Keyspace(r.Context(), r.PathValue("name"))
	if err != nil {
		h.error(w, r, err)
		return
	}
	lp, err := listParams(r, idCursor(keyring.PrefixKey))
	if err != nil {
		h.error(w, r, err)
		return
	}
	list, err := h.ring.Keys(r.Context(), ks, listTenant(r), lp)
	if err != nil {
		h.error(w, r, err)
		return
	}
	writePage(h, w, r, list, lp, func(k keyspace.Key) string { return k.ID })
}

func (h *handler) keyGet(w http.ResponseWriter, r *http.Request) {
	ks, err := h.ring.Keyspace(r.Context(), r.PathValue("name"))
	if err != nil {
		h.error(w, r, err)
		return
	}
	k, err := h.ring.Key(r.Context(), ks, r.PathValue("id"), apiKey(r).Tenant)
	if err != nil {
		h.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, k)
}

func (h *handler) keyRevoke(w http.ResponseWriter, r *http.Request) {
	ks, err := h.ring.Keyspace(r.Context(), r.PathValue("name"))
	if err != nil {
		h.error(w, r, err)
		return
	}
	k, err := h.ring.Revoke(r.Context(), ks, r.PathValue("id"), apiKey(r).Tenant)
	if err != nil {
		h.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, k)
}

// rollInput is the body of POST /v1/keyspaces/{name}/keys/{id}/roll.
type rollInput struct {
	GracePeriod *keyspace.Duration `json:"grace_period"`
}

// defaultGrace is how long a rolled key stays valid beside its successor
// when the request does not say.
const defaultGrace = 24 * time.Hour

func (h *handler) keyRoll(w http.ResponseWriter, r *http.Request) {
	ks, err := h.ring.Keyspace(r.Context(), r.PathValue("name"))
	if err != nil {
		h.error(w, r, err)
		return
	}
	var in rollInput
	if r.ContentLength != 0 {
		if err := decode(w, r, &in, maxBodyBytes); err != nil {
			h.error(w, r, err)
			return
		}
	}
	grace := defaultGrace
	if in.GracePeriod != nil {
		grace = time.Duration(*in.GracePeriod)
	}
	secret, k, old, err := h.ring.Roll(r.Context(), ks, r.PathValue("id"), apiKey(r).Tenant, grace)
	if err != nil {
		if errors.Is(err, hookline.ErrConflict) {
			err = errStatus(http.StatusConflict, "conflict", err.Error())
		}
		h.error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeCreated(w, map[string]any{"key": issuedKey{Key: k, Secret: secret}, "previous": old}, "keyspaces", ks.Name, "keys", k.ID)
}

// verifyInput is the body of POST /v1/keys/verify.
type verifyInput struct {
	Key         string   `json:"key"`
	Keyspace    string   `json:"keyspace"`
	Permissions []string `json:"permissions"`
	Resource    string   `json:"resource"`
}

// maxVerifyBody bounds a verification request: a key and a few names.
const maxVerifyBody = 16 << 10

// keyVerify answers 200 for every well-formed request: whether the key is
// valid is in the body, with the code that says why not.
func (h *handler) keyVerify(w http.ResponseWriter, r *http.Request) {
	var in verifyInput
	if err := decode(w, r, &in, maxVerifyBody); err != nil {
		h.error(w, r, err)
		return
	}
	if in.Key == "" {
		h.error(w, r, errField(http.StatusBadRequest, "key", "is required: the key the request to your API carried"))
		return
	}
	v, err := h.ring.Verify(r.Context(), keyring.VerifyRequest{
		Key: in.Key, Keyspace: in.Keyspace, Permissions: in.Permissions, Resource: in.Resource, Tenant: apiKey(r).Tenant,
	})
	if err != nil {
		h.error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, v)
}
