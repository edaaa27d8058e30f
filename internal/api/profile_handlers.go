package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/profile"
)

// profileView is a profile as the API shows it.
type profileView struct {
	Name string `json:"name"`
	// Source is "built-in", "file" or "api"; only "api" profiles can be changed
	// through the API.
	Source     string              `json:"source"`
	Definition *profile.Definition `json:"definition"`
	CreatedAt  *time.Time          `json:"created_at,omitempty"`
	UpdatedAt  *time.Time          `json:"updated_at,omitempty"`
}

// profileInput is the body of POST and PUT /v1/profiles.
type profileInput struct {
	Name       string          `json:"name"`
	Definition json.RawMessage `json:"definition"`
}

func fixedView(p *profile.Profile) profileView {
	src := "file"
	if p.Source == profile.SourceBuiltIn {
		src = profile.SourceBuiltIn
	}
	return profileView{Name: p.Name, Source: src, Definition: p.Definition}
}

func (h *handler) storedView(sp *hookline.Profile) (profileView, error) {
	p, err := h.profiles.CompileStored(sp)
	if err != nil {
		return profileView{}, err
	}
	return profileView{Name: sp.Name, Source: profile.SourceAPI, Definition: p.Definition, CreatedAt: &sp.CreatedAt, UpdatedAt: &sp.UpdatedAt}, nil
}

// shownTo hides, from a key without the admin scope, the values of the
// credential-bearing headers a profile sends (hookline.SensitiveHeader): a
// profile is the product's configuration, which webhooks:read keys, tenant
// keys among them, can read. Admin keys, the only ones that edit profiles, see
// them whole, so an edit of a read never stores the placeholder.
func (v profileView) shownTo(r *http.Request) profileView {
	if v.Definition == nil || apiKey(r).Allows(hookline.ScopeAdmin) {
		return v
	}
	d := *v.Definition
	d.Headers = hookline.MaskHeaders(d.Headers)
	v.Definition = &d
	return v
}

// canEditProfiles: profiles are the product's configuration, like the event type
// catalogue; only an admin key without tenant restriction may change them.
func canEditProfiles(r *http.Request) error { return canEditShared(r, "profiles") }

// canEditShared: what all tenants share (profiles, key spaces) is changed
// only by an admin key without tenant restriction; what names it in the
// refusal.
func canEditShared(r *http.Request, what string) error {
	k := apiKey(r)
	if !k.Allows(hookline.ScopeAdmin) {
		return errStatus(http.StatusForbidden, "forbidden", fmt.Sprintf("changing %s needs the %q scope", what, hookline.ScopeAdmin))
	}
	if k.Tenant != "" {
		return errField(http.StatusForbidden, "tenant", fmt.Sprintf("this API key is limited to tenant %q; %s are shared by all tenants", k.Tenant, what))
	}
	return nil
}

// parseDefinition decodes and compiles a definition, strictly.
func (h *handler) parseDefinition(name string, raw json.RawMessage) (*profile.Definition, json.RawMessage, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil, hookline.Invalid("definition", "is required (see docs/profiles.md)")
	}
	var d profile.Definition
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return nil, nil, hookline.Invalid("definition", "%s", err)
	}
	if _, err := h.profiles.Compile(name, &d); err != nil {
		var ve *hookline.ValidationError
		if errors.As(err, &ve) {
			return nil, nil, hookline.Invalid("definition."+ve.Field, "%s", ve.Message)
		}
		return nil, nil, err
	}
	stored, err := json.Marshal(&d)
	return &d, stored, err
}

func (h *handler) profileList(w http.ResponseWriter, r *http.Request) {
	items := []profileView{}
	for _, p := range h.profiles.FixedProfiles() {
		items = append(items, fixedView(p).shownTo(r))
	}
	stored, err := h.store.ProfileList(r.Context())
	if err != nil {
		h.error(w, r, err)
		return
	}
	for i := range stored {
		v, err := h.storedView(&stored[i])
		if err != nil {
			h.error(w, r, err)
			return
		}
		items = append(items, v.shownTo(r))
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "has_more": false, "next_cursor": "", "prev_cursor": ""})
}

func (h *handler) profileGet(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if p, ok := h.profiles.Fixed(name); ok {
		writeJSON(w, http.StatusOK, fixedView(p).shownTo(r))
		return
	}
	sp, err := h.store.ProfileGet(r.Context(), name)
	if err != nil {
		h.error(w, r, err)
		return
	}
	v, err := h.storedView(sp)
	if err != nil {
		h.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v.shownTo(r))
}

func (h *handler) profileCreate(w http.ResponseWriter, r *http.Request) {
	if err := canEditProfiles(r); err != nil {
		h.error(w, r, err)
		return
	}
	var in profileInput
	if err := decode(w, r, &in, maxBodyBytes); err != nil {
		h.error(w, r, err)
		return
	}
	if err := profile.ValidateName(in.Name); err != nil {
		h.error(w, r, err)
		return
	}
	if _, ok := h.profiles.Fixed(in.Name); ok {
		h.error(w, r, errField(http.StatusConflict, "name", fmt.Sprintf("%q is a built-in or file profile", in.Name)))
		return
	}
	_, stored, err := h.parseDefinition(in.Name, in.Definition)
	if err != nil {
		h.error(w, r, err)
		return
	}
	now := h.now()
	sp := &hookline.Profile{Name: in.Name, Definition: stored, CreatedAt: now, UpdatedAt: now}
	if err := h.store.ProfileCreate(r.Context(), sp); err != nil {
		h.error(w, r, err)
		return
	}
	h.engine.ProfileChanged(in.Name)
	v, err := h.storedView(sp)
	if err != nil {
		h.error(w, r, err)
		return
	}
	writeCreated(w, v, "profiles", v.Name)
}

func (h *handler) profileUpdate(w http.ResponseWriter, r *http.Request) {
	if err := canEditProfiles(r); err != nil {
		h.error(w, r, err)
		return
	}
	name := r.PathValue("name")
	if _, ok := h.profiles.Fixed(name); ok {
		h.error(w, r, errStatus(http.StatusConflict, "read-only", fmt.Sprintf("%q is a built-in or file profile; change its file and restart", name)))
		return
	}
	var in profileInput
	if err := decode(w, r, &in, maxBodyBytes); err != nil {
		h.error(w, r, err)
		return
	}
	if in.Name != "" && in.Name != name {
		h.error(w, r, hookline.Invalid("name", "profiles cannot be renamed"))
		return
	}
	_, stored, err := h.parseDefinition(name, in.Definition)
	if err != nil {
		h.error(w, r, err)
		return
	}
	if err := h.store.ProfileUpdate(r.Context(), &hookline.Profile{Name: name, Definition: stored, UpdatedAt: h.now()}); err != nil {
		h.error(w, r, err)
		return
	}
	h.engine.ProfileChanged(name)
	h.profileGet(w, r)
}

func (h *handler) profileDelete(w http.ResponseWriter, r *http.Request) {
	if err := canEditProfiles(r); err != nil {
		h.error(w, r, err)
		return
	}
	name := r.PathValue("name")
	if _, ok := h.profiles.Fixed(name); ok {
		h.error(w, r, errStatus(http.StatusConflict, "read-only", fmt.Sprintf("%q is a built-in or file profile", name)))
		return
	}
	if err := h.store.ProfileDelete(r.Context(), name); err != nil {
		if errors.Is(err, hookline.ErrConflict) {
			h.error(w, r, errStatus(http.StatusConflict, "in-use", fmt.Sprintf("profile %q is used by webhooks; move them to another profile first", name)))
			return
		}
		h.error(w, r, err)
		return
	}
	h.engine.ProfileChanged(name)
	w.WriteHeader(http.StatusNoContent)
}
