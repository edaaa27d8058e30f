package keyring

import (
	"context"
	"fmt"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/keyspace"
	"github.com/hookline/hookline/internal/store"
)

// IssueParams asks for a key of a key space.
type IssueParams struct {
	Tenant string
	Name   string
	// Permissions are names of the catalogue, or patterns ending in "*".
	Permissions []string
	Resources   []string
	Meta        map[string]string
	// RateLimit overrides the key space's default; nil keeps it.
	RateLimit *keyspace.RateLimit
	// ExpiresAt ends the key; nil gives the key space's default expiry.
	ExpiresAt *time.Time
}

// PrefixKey is the ID prefix of keys of key spaces.
const PrefixKey = "key_"

// Issue makes a key of ks for p.Tenant and returns it with the record
// stored: the key itself appears only here.
func (r *Ring) Issue(ctx context.Context, ks *keyspace.Keyspace, p IssueParams) (string, *keyspace.Key, error) {
	perms, err := ks.Expand(p.Permissions, "permissions")
	if err != nil {
		return "", nil, err
	}
	now := r.now().UTC().Truncate(time.Millisecond)
	k := &keyspace.Key{
		ID: hookline.NewID(PrefixKey), Keyspace: ks.Name, Tenant: p.Tenant, Name: p.Name,
		Permissions: perms, Resources: p.Resources, Meta: p.Meta, RateLimit: p.RateLimit, CreatedAt: now,
	}
	if err := k.Validate(); err != nil {
		return "", nil, err
	}
	switch {
	case p.ExpiresAt != nil:
		if !p.ExpiresAt.After(now) {
			return "", nil, hookline.Invalid("expires_at", "must be in the future")
		}
		at := p.ExpiresAt.UTC().Truncate(time.Millisecond)
		k.ExpiresAt = &at
	case ks.KeyExpiry > 0:
		at := now.Add(time.Duration(ks.KeyExpiry))
		k.ExpiresAt = &at
	}
	secret := keyspace.NewKey(ks.Prefix)
	k.Start, k.Hash = keyspace.Start(secret), r.hasher.Hash(secret)
	_, fromFile := r.fixed[ks.Name]
	if err := r.store.KeyCreate(ctx, k, !fromFile); err != nil {
		return "", nil, err
	}
	return secret, k, nil
}

// Key returns a key of ks by id; ErrNotFound for a key of another key space,
// or of a tenant other than tenant when it is set.
func (r *Ring) Key(ctx context.Context, ks *keyspace.Keyspace, id, tenant string) (*keyspace.Key, error) {
	k, err := r.store.KeyGet(ctx, id)
	if err != nil {
		return nil, err
	}
	if k.Keyspace != ks.Name || tenant != "" && k.Tenant != tenant {
		return nil, fmt.Errorf("key %s: %w", id, hookline.ErrNotFound)
	}
	return k, nil
}

// Keys lists the keys of ks, newest first; of one tenant when tenant is set.
func (r *Ring) Keys(ctx context.Context, ks *keyspace.Keyspace, tenant string, lp store.ListParams) ([]keyspace.Key, error) {
	return r.store.KeyList(ctx, store.KeyListParams{ListParams: lp, Keyspace: ks.Name, Tenant: tenant})
}

// Revoke ends key id of ks at once (see Key for tenant). A revoked key stays
// revoked; revoking it again changes nothing.
func (r *Ring) Revoke(ctx context.Context, ks *keyspace.Keyspace, id, tenant string) (*keyspace.Key, error) {
	if _, err := r.Key(ctx, ks, id, tenant); err != nil {
		return nil, err
	}
	k, err := r.store.KeyRevoke(ctx, store.KeyRevokeParams{ID: id, At: r.now().UTC().Truncate(time.Millisecond)})
	if err != nil {
		return nil, err
	}
	r.cache.forget(k.Hash)
	return k, nil
}

// MaxGrace bounds the time a rolled key stays valid beside its successor.
const MaxGrace = 30 * 24 * time.Hour

// Roll replaces key id of ks with a new one, with the same tenant, name,
// permissions, resources, meta, limits and expiry; the old one stays valid
// for grace (0: it ends now). It returns the new key, its record and the old
// record as it now is.
func (r *Ring) Roll(ctx context.Context, ks *keyspace.Keyspace, id, tenant string, grace time.Duration) (string, *keyspace.Key, *keyspace.Key, error) {
	if grace < 0 || grace > MaxGrace {
		return "", nil, nil, hookline.Invalid("grace_period", "must be between 0s and 30d")
	}
	old, err := r.Key(ctx, ks, id, tenant)
	if err != nil {
		return "", nil, nil, err
	}
	now := r.now().UTC().Truncate(time.Millisecond)
	if code := old.Judge(now, nil, ""); code != keyspace.CodeValid {
		return "", nil, nil, fmt.Errorf("key %s is %s: only a valid key can be rolled: %w", id, code, hookline.ErrConflict)
	}
	secret, k, err := r.Issue(ctx, ks, IssueParams{
		Tenant: old.Tenant, Name: old.Name, Permissions: old.Permissions, Resources: old.Resources,
		Meta: old.Meta, RateLimit: old.RateLimit, ExpiresAt: old.ExpiresAt,
	})
	if err != nil {
		return "", nil, nil, err
	}
	old, err = r.store.KeyRevoke(ctx, store.KeyRevokeParams{ID: id, At: now.Add(grace), Expire: true})
	if err != nil {
		return "", nil, nil, err
	}
	r.cache.forget(old.Hash)
	return secret, k, old, nil
}
