// Package keyring runs the key spaces of package keyspace: it holds them
// (loaded from files, or stored through the API), issues, rolls and revokes
// their keys, and verifies keys for the product's API servers, with a short
// cache and rate limits.
package keyring

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/hookline/hookline/internal/apikey"
	"github.com/hookline/hookline/internal/config"
	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/keyspace"
	"github.com/hookline/hookline/internal/store"
)

// Options configure a Ring.
type Options struct {
	Store store.Store
	// Hasher hashes keys as the store keeps them: the same pepper as
	// Hookline's own API keys.
	Hasher *apikey.Hasher
	Logger *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Ring holds the key spaces and verifies their keys. Make it with New; Run
// it for last-used times to be written.
type Ring struct {
	store  store.Store
	hasher *apikey.Hasher
	log    *slog.Logger
	now    func() time.Time

	fixed map[string]*keyspace.Keyspace // loaded from files, by name

	cache   *keyCache
	limits  limiter
	touchMu sync.Mutex
	touched map[string]time.Time // last use of keys, not yet written
}

// New returns a Ring over o.Store.
func New(o Options) *Ring {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	r := &Ring{
		store: o.Store, hasher: o.Hasher, log: o.Logger.With("component", "keyring"), now: o.Now,
		fixed: map[string]*keyspace.Keyspace{}, touched: map[string]time.Time{},
	}
	r.cache = newKeyCache(r, cacheTTL)
	if rl, ok := o.Store.(store.RateLimiter); ok {
		r.limits = sharedLimiter{rl}
	} else {
		r.limits = newLocalLimiter()
	}
	return r
}

// fileKeyspace is a key space as a YAML file writes it; its name is the
// file's.
type fileKeyspace struct {
	Description string                `yaml:"description"`
	Prefix      string                `yaml:"prefix"`
	Permissions []keyspace.Permission `yaml:"permissions"`
	RateLimit   *keyspace.RateLimit   `yaml:"rate_limit"`
	KeyExpiry   keyspace.Duration     `yaml:"key_expiry"`
}

// LoadFiles loads path, a YAML file or a directory of *.yaml files; each key
// space is named after its file without the extension. It returns the names
// loaded. Key spaces loaded from files cannot be changed through the API.
func (r *Ring) LoadFiles(path string) ([]string, error) {
	files, err := config.YAMLFiles(path)
	if err != nil {
		return nil, fmt.Errorf("keyspaces: %w", err)
	}
	var names []string
	for _, f := range files {
		name := config.FileName(f)
		src, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("keyspaces: %w", err)
		}
		var fk fileKeyspace
		dec := yaml.NewDecoder(strings.NewReader(string(src)))
		dec.KnownFields(true)
		if err := dec.Decode(&fk); err != nil {
			return nil, fmt.Errorf("keyspaces: %s: %w", f, err)
		}
		ks := &keyspace.Keyspace{Name: name, Description: fk.Description, Prefix: fk.Prefix, Permissions: fk.Permissions,
			RateLimit: fk.RateLimit, KeyExpiry: fk.KeyExpiry, Source: f}
		if err := ks.Validate(); err != nil {
			return nil, fmt.Errorf("keyspaces: %s: %w", f, err)
		}
		for _, o := range r.fixed {
			if o.Name == name || o.Prefix == ks.Prefix {
				return nil, fmt.Errorf("keyspaces: %s: key space %q (%s) already has the name or the prefix %q", f, o.Name, o.Source, ks.Prefix)
			}
		}
		r.fixed[name] = ks
		names = append(names, name)
	}
	return names, nil
}

// Keyspace returns a key space by name, loaded from a file or stored.
func (r *Ring) Keyspace(ctx context.Context, name string) (*keyspace.Keyspace, error) {
	if ks, ok := r.fixed[name]; ok {
		return ks, nil
	}
	ks, err := r.store.KeyspaceGet(ctx, name)
	if err != nil {
		return nil, err
	}
	return ks, nil
}

// Keyspaces returns every key space: those loaded from files, then the
// stored ones, each by name.
func (r *Ring) Keyspaces(ctx context.Context) ([]keyspace.Keyspace, error) {
	var out []keyspace.Keyspace
	for _, name := range sortedKeys(r.fixed) {
		out = append(out, *r.fixed[name])
	}
	stored, err := r.store.KeyspaceList(ctx)
	if err != nil {
		return nil, err
	}
	return append(out, stored...), nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ErrReadOnly is returned for a change to a key space loaded from a file.
var ErrReadOnly = errors.New("keyring: the key space is loaded from a file; change the file and restart")

// CreateKeyspace validates and stores a new key space. A name or a prefix
// already taken, by a file's key space too, is a conflict.
func (r *Ring) CreateKeyspace(ctx context.Context, ks *keyspace.Keyspace) error {
	if err := ks.Validate(); err != nil {
		return err
	}
	for _, o := range r.fixed {
		if o.Name == ks.Name {
			return fmt.Errorf("key space %q is loaded from a file: %w", ks.Name, hookline.ErrConflict)
		}
		if o.Prefix == ks.Prefix {
			return fmt.Errorf("prefix %q is key space %q's: %w", ks.Prefix, o.Name, hookline.ErrConflict)
		}
	}
	now := r.now().UTC().Truncate(time.Millisecond)
	ks.Source, ks.CreatedAt, ks.UpdatedAt = keyspace.SourceAPI, now, now
	return r.store.KeyspaceCreate(ctx, ks)
}

// UpdateKeyspace replaces a stored key space's description, catalogue and
// defaults. Keys keep the permissions they were granted.
func (r *Ring) UpdateKeyspace(ctx context.Context, ks *keyspace.Keyspace) error {
	if _, ok := r.fixed[ks.Name]; ok {
		return ErrReadOnly
	}
	old, err := r.store.KeyspaceGet(ctx, ks.Name)
	if err != nil {
		return err
	}
	if ks.Prefix == "" {
		ks.Prefix = old.Prefix
	}
	if ks.Prefix != old.Prefix {
		return hookline.Invalid("prefix", "a key space's prefix cannot change: its keys carry it")
	}
	if err := ks.Validate(); err != nil {
		return err
	}
	ks.Source, ks.CreatedAt, ks.UpdatedAt = keyspace.SourceAPI, old.CreatedAt, r.now().UTC().Truncate(time.Millisecond)
	if err := r.store.KeyspaceUpdate(ctx, ks); err != nil {
		return err
	}
	r.cache.clear()
	return nil
}

// DeleteKeyspace removes a stored key space and every key of it.
func (r *Ring) DeleteKeyspace(ctx context.Context, name string) error {
	if _, ok := r.fixed[name]; ok {
		return ErrReadOnly
	}
	if err := r.store.KeyspaceDelete(ctx, name); err != nil {
		return err
	}
	r.cache.clear()
	return nil
}
