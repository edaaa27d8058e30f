package profile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/hookline/hookline/internal/config"
	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

// Registry finds profiles by name: the built-in one, those loaded from files at
// start (both read-only) and those created through the API (in the store, cached
// for a few seconds so that every node sees a change promptly).
type Registry struct {
	store    store.Store
	defaults Defaults
	fixed    map[string]*Profile
	ttl      time.Duration

	mu    sync.Mutex
	cache map[string]cachedProfile
}

type cachedProfile struct {
	p       *Profile
	err     error
	expires time.Time
}

// NewRegistry returns a registry holding the built-in profile.
func NewRegistry(s store.Store, def Defaults) (*Registry, error) {
	r := &Registry{store: s, defaults: def, fixed: map[string]*Profile{}, ttl: 5 * time.Second, cache: map[string]cachedProfile{}}
	p, err := Compile(Standard, StandardDefinition(), def)
	if err != nil {
		return nil, fmt.Errorf("profile: built-in %s: %w", Standard, err)
	}
	p.Source = SourceBuiltIn
	r.fixed[Standard] = p
	return r, nil
}

// LoadFiles loads path, a YAML file or a directory of *.yaml files; each profile
// is named after its file without the extension. It returns the names loaded.
func (r *Registry) LoadFiles(path string) ([]string, error) {
	files, err := config.YAMLFiles(path)
	if err != nil {
		return nil, fmt.Errorf("profiles: %w", err)
	}
	var names []string
	for _, f := range files {
		name := config.FileName(f)
		if err := ValidateName(name); err != nil {
			return nil, fmt.Errorf("profiles: %s: the file name makes the profile name, which %w", f, err)
		}
		if _, dup := r.fixed[name]; dup {
			return nil, fmt.Errorf("profiles: %s: a profile named %q is already loaded", f, name)
		}
		src, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("profiles: %w", err)
		}
		d, err := ParseYAML(src)
		if err != nil {
			return nil, fmt.Errorf("profiles: %s: %w", f, err)
		}
		p, err := Compile(name, d, r.defaults)
		if err != nil {
			return nil, fmt.Errorf("profiles: %s: %w", f, err)
		}
		p.Source = f
		r.fixed[name] = p
		names = append(names, name)
	}
	return names, nil
}

// Fixed reports whether name is a built-in or file profile, which the API cannot
// change.
func (r *Registry) Fixed(name string) (*Profile, bool) {
	p, ok := r.fixed[name]
	return p, ok
}

// Get returns the profile called name; hookline.ErrNotFound when there is none.
func (r *Registry) Get(ctx context.Context, name string) (*Profile, error) {
	if p, ok := r.fixed[name]; ok {
		return p, nil
	}
	now := time.Now()
	r.mu.Lock()
	c, ok := r.cache[name]
	r.mu.Unlock()
	if ok && now.Before(c.expires) {
		return c.p, c.err
	}
	p, err := r.load(ctx, name)
	if err != nil && !errors.Is(err, hookline.ErrNotFound) {
		return nil, err // not cached: the store may answer next time
	}
	r.mu.Lock()
	r.cache[name] = cachedProfile{p: p, err: err, expires: now.Add(r.ttl)}
	r.mu.Unlock()
	return p, err
}

func (r *Registry) load(ctx context.Context, name string) (*Profile, error) {
	sp, err := r.store.ProfileGet(ctx, name)
	if err != nil {
		return nil, err
	}
	return r.CompileStored(sp)
}

// CompileStored compiles a profile kept in the store.
func (r *Registry) CompileStored(sp *hookline.Profile) (*Profile, error) {
	var d Definition
	if err := json.Unmarshal(sp.Definition, &d); err != nil {
		return nil, fmt.Errorf("profile %s: stored definition: %w", sp.Name, err)
	}
	p, err := Compile(sp.Name, &d, r.defaults)
	if err != nil {
		return nil, fmt.Errorf("profile %s: %w", sp.Name, err)
	}
	p.Source = SourceAPI
	return p, nil
}

// Compile compiles a definition with the registry's defaults.
func (r *Registry) Compile(name string, d *Definition) (*Profile, error) {
	return Compile(name, d, r.defaults)
}

// Invalidate forgets the cached copy of a profile changed through this node.
func (r *Registry) Invalidate(name string) {
	r.mu.Lock()
	delete(r.cache, name)
	r.mu.Unlock()
}

// InvalidateAll forgets every cached profile.
func (r *Registry) InvalidateAll() {
	r.mu.Lock()
	clear(r.cache)
	r.mu.Unlock()
}

// FixedProfiles returns the built-in and file profiles, by name.
func (r *Registry) FixedProfiles() []*Profile {
	out := make([]*Profile, 0, len(r.fixed))
	for _, p := range r.fixed {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
