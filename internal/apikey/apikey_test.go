package apikey

import (
	"bytes"
	"context"
	"crypto/sha256"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/store/drivertest"
	"github.com/hookline/hookline/internal/store/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// onEachDriver runs test on a fresh SQLite store and a fresh PostgreSQL one.
func onEachDriver(t *testing.T, test func(t *testing.T, s store.Store)) {
	drivertest.Each(t, func(t *testing.T, open func(testing.TB) store.Store) { test(t, open(t)) })
}

func newHasher(t *testing.T, seed string) *Hasher {
	t.Helper()
	h, err := NewHasher(bytes.Repeat([]byte(seed), 32)[:32])
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestHasher(t *testing.T) {
	t.Parallel()
	if _, err := NewHasher(make([]byte, 16)); err == nil {
		t.Error("NewHasher with a 16-byte pepper: got nil error, want one")
	}
	a, b := newHasher(t, "a"), newHasher(t, "b")
	key := "operator-chosen-key"
	bare := sha256.Sum256([]byte(key))
	switch {
	case len(a.Hash(key)) != 32:
		t.Errorf("hash is %d bytes, want 32", len(a.Hash(key)))
	case !bytes.Equal(a.Hash(key), a.Hash(key)):
		t.Error("one key hashes differently twice")
	case bytes.Equal(a.Hash(key), b.Hash(key)):
		t.Error("two peppers give the same hash: the pepper is not used")
	case bytes.Equal(a.Hash(key), bare[:]):
		t.Error("the hash is the bare SHA-256 of the key")
	case !bytes.Equal(a.Hash(key), a.upgrade(bare[:])):
		t.Error("upgrading the bare SHA-256 does not give the current hash")
	}
}

func TestNewAndDisplayPrefix(t *testing.T) {
	t.Parallel()
	k1, k2 := New(), New()
	if k1 == k2 || !strings.HasPrefix(k1, Prefix) || len(k1) != len(Prefix)+43 {
		t.Fatalf("New: got %q and %q, want two different hl_ keys of 46 characters", k1, k2)
	}
	for _, c := range []struct{ key, want string }{
		{k1, k1[:7]},
		{"hl_short", ""},                             // not of the generated format
		{"dev-admin-key-0123456789", ""},             // chosen by the operator
		{"hl_" + strings.Repeat("x", 40), "hl_xxxx"}, // generated format
	} {
		if got := DisplayPrefix(c.key); got != c.want {
			t.Errorf("DisplayPrefix(%q): got %q, want %q", c.key, got, c.want)
		}
	}
}

func TestBootstrap(t *testing.T) {
	onEachDriver(t, func(t *testing.T, s store.Store) {
		ctx, h, now := t.Context(), newHasher(t, "p"), time.Now()
		generated, err := Bootstrap(ctx, s, h, "", now)
		if err != nil || !strings.HasPrefix(generated, Prefix) {
			t.Fatalf("Bootstrap on an empty database: got %q, %v; want a generated key", generated, err)
		}
		k, err := s.APIKeyGetByHash(ctx, h.Hash(generated))
		if err != nil {
			t.Fatalf("the generated key is not stored under its hash: %v", err)
		}
		if k.Prefix != generated[:7] || k.HashVersion != HashVersion || len(k.Scopes) != 1 || k.Scopes[0] != hookline.ScopeAdmin {
			t.Errorf("generated key: got %+v, want an admin key with prefix %q and hash version %d", k, generated[:7], HashVersion)
		}
		if again, err := Bootstrap(ctx, s, h, "", now); again != "" || err != nil {
			t.Errorf("second Bootstrap: got %q, %v; want no key", again, err)
		}
	})
}

// The operator's admin key is installed even on a database that has keys, and
// again after it was deleted: restarting with HOOKLINE_ADMIN_KEY set is the way
// back in.
func TestEnsureAdminRecoversADeletedKey(t *testing.T) {
	onEachDriver(t, func(t *testing.T, s store.Store) {
		ctx, h, now := t.Context(), newHasher(t, "p"), time.Now()
		if _, err := Bootstrap(ctx, s, h, "", now); err != nil {
			t.Fatal(err)
		}
		const operator = "operator-admin-key-0123"
		if _, err := Bootstrap(ctx, s, h, operator, now); err != nil {
			t.Fatal(err)
		}
		k, err := s.APIKeyGetByHash(ctx, h.Hash(operator))
		if err != nil {
			t.Fatalf("HOOKLINE_ADMIN_KEY not installed on a database with keys: %v", err)
		}
		if k.Prefix != "" {
			t.Errorf("an operator-chosen key shows prefix %q, want none", k.Prefix)
		}
		if err := s.APIKeyDelete(ctx, k.ID); err != nil {
			t.Fatal(err)
		}
		installed, err := EnsureAdmin(ctx, s, h, operator, now)
		if !installed || err != nil {
			t.Fatalf("EnsureAdmin after a delete: got %v, %v; want true, nil", installed, err)
		}
		if installed, err := EnsureAdmin(ctx, s, h, operator, now); installed || err != nil {
			t.Errorf("EnsureAdmin of a stored key: got %v, %v; want false, nil", installed, err)
		}
		if n, _ := s.APIKeyCount(ctx); n != 2 {
			t.Errorf("got %d keys, want 2 (the generated one and the operator's)", n)
		}
	})
}

// Keys stored by earlier versions (bare SHA-256, version 0) keep working: the
// start-up rehashes them, once, even with several nodes starting together.
func TestUpgradeRehashesLegacyKeys(t *testing.T) {
	onEachDriver(t, func(t *testing.T, s store.Store) {
		ctx, h := t.Context(), newHasher(t, "p")
		var keys []string
		for i := range 3 {
			key := New()
			sum := sha256.Sum256([]byte(key))
			err := s.APIKeyCreate(ctx, &hookline.APIKey{ID: hookline.NewID(hookline.PrefixAPIKey), Name: "legacy",
				Scopes: []string{hookline.ScopeEventsWrite}, Prefix: key[:10], Hash: sum[:], CreatedAt: time.Now().Add(time.Duration(i) * time.Millisecond)})
			if err != nil {
				t.Fatal(err)
			}
			keys = append(keys, key)
		}
		current, _, err := Create(ctx, s, h, CreateParams{Name: "new", Scopes: []string{hookline.ScopeAdmin}, Now: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		counts := make([]int, 3)
		for i := range counts {
			wg.Go(func() {
				n, err := Upgrade(context.Background(), s, h)
				if err != nil {
					t.Errorf("Upgrade: %v", err)
				}
				counts[i] = n
			})
		}
		wg.Wait()
		if total := counts[0] + counts[1] + counts[2]; total != 3 {
			t.Errorf("the nodes rehashed %v keys, %d in all; want 3 in all", counts, total)
		}
		for _, key := range keys {
			k, err := s.APIKeyGetByHash(ctx, h.Hash(key))
			if err != nil {
				t.Fatalf("a legacy key is not found by its new hash: %v", err)
			}
			if k.HashVersion != HashVersion {
				t.Errorf("got hash version %d, want %d", k.HashVersion, HashVersion)
			}
		}
		if k, err := s.APIKeyGet(ctx, current.ID); err != nil || !bytes.Equal(k.Hash, current.Hash) {
			t.Errorf("a current key was rehashed: %v", err)
		}
	})
}
