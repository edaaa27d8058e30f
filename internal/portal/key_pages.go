package portal

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/keyring"
	"github.com/hookline/hookline/internal/keyspace"
	"github.com/hookline/hookline/internal/store"
)

// keyspaceKeys is a key space with the tenant's keys of it.
type keyspaceKeys struct {
	Keyspace keyspace.Keyspace
	Keys     []keyspace.Key
}

// keyListData is the page of the tenant's keys of the product's API.
type keyListData struct {
	Spaces []keyspaceKeys
	// Issued is the key just created: shown on this answer only.
	Issued    string
	IssuedKey *keyspace.Key
	Now       time.Time
	// Form is what the refused create form held.
	Keyspace, Name string
	Tenant         string // the console's form only
	Permissions    []string
	Expiry         string
}

// expiries are the lifetimes the create form offers; "" is the key space's
// default.
var expiries = map[string]time.Duration{"": 0, "7d": 7 * 24 * time.Hour, "30d": 30 * 24 * time.Hour,
	"90d": 90 * 24 * time.Hour, "365d": 365 * 24 * time.Hour}

func (p *Portal) keyList(w http.ResponseWriter, r *http.Request) {
	p.keyPage(w, r, http.StatusOK, &keyListData{}, "")
}

// keyPage shows the tenant's keys, and the key just issued if any.
func (p *Portal) keyPage(w http.ResponseWriter, r *http.Request, status int, d *keyListData, problem string) {
	s := session(r)
	ctx := r.Context()
	spaces, err := p.ring.Keyspaces(ctx)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	d.Now = p.now()
	for _, ks := range spaces {
		keys, err := p.ring.Keys(ctx, &ks, s.Tenant, store.ListParams{Limit: 100})
		if err != nil {
			p.fail(w, r, err)
			return
		}
		d.Spaces = append(d.Spaces, keyspaceKeys{Keyspace: ks, Keys: keys})
	}
	p.render(w, r, status, "keys", page{Title: "keys", Nav: "keys", Error: problem, Data: d})
}

// keyspaceFor loads the key space a form names.
func (p *Portal) keyspaceFor(r *http.Request, name string) (*keyspace.Keyspace, error) {
	if name == "" {
		return nil, hookline.ErrNotFound
	}
	return p.ring.Keyspace(r.Context(), name)
}

func (p *Portal) keyCreate(w http.ResponseWriter, r *http.Request) {
	d := &keyListData{Tenant: r.PostFormValue("tenant"), Keyspace: r.PostFormValue("keyspace"), Name: strings.TrimSpace(r.PostFormValue("name")),
		Permissions: r.PostForm["permission"], Expiry: r.PostFormValue("expiry")}
	ks, err := p.keyspaceFor(r, d.Keyspace)
	if err != nil {
		p.notFoundOr(w, r, err)
		return
	}
	lifetime, ok := expiries[d.Expiry]
	if !ok {
		p.keyPage(w, r, http.StatusUnprocessableEntity, d, word(r, "bad_expiry"))
		return
	}
	tenant, err := formTenant(r)
	if err != nil {
		p.keyPage(w, r, http.StatusUnprocessableEntity, d, err.Error())
		return
	}
	ip := keyring.IssueParams{Tenant: tenant, Name: d.Name, Permissions: d.Permissions}
	if lifetime > 0 {
		at := p.now().Add(lifetime)
		ip.ExpiresAt = &at
	}
	if len(ip.Permissions) == 0 {
		p.keyPage(w, r, http.StatusUnprocessableEntity, d, word(r, "no_permission"))
		return
	}
	secret, k, err := p.ring.Issue(r.Context(), ks, ip)
	var ve *hookline.ValidationError
	switch {
	case errors.As(err, &ve):
		p.keyPage(w, r, http.StatusUnprocessableEntity, d, ve.Error())
		return
	case err != nil:
		p.fail(w, r, err)
		return
	}
	// The key is in this answer only: the page is not cached, and reloading
	// it (a GET) shows the list without it.
	p.keyPage(w, r, http.StatusCreated, &keyListData{Issued: secret, IssuedKey: k}, "")
}

func (p *Portal) keyRevoke(w http.ResponseWriter, r *http.Request) {
	ks, err := p.keyspaceFor(r, r.PathValue("keyspace"))
	if err != nil {
		p.notFoundOr(w, r, err)
		return
	}
	if _, err := p.ring.Revoke(r.Context(), ks, r.PathValue("id"), session(r).Tenant); err != nil {
		p.notFoundOr(w, r, err)
		return
	}
	http.Redirect(w, r, base(r)+"keys?done=revoked_done", http.StatusSeeOther)
}
