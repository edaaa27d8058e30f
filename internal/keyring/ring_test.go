package keyring_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/apikey"
	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/keyring"
	"github.com/hookline/hookline/internal/keyspace"
	"github.com/hookline/hookline/internal/secrets"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/store/drivertest"
	"github.com/hookline/hookline/internal/store/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func newHasher(t testing.TB) *apikey.Hasher {
	pepper := make([]byte, 32)
	rand.Read(pepper)
	h, err := apikey.NewHasher(pepper)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func newRing(s store.Store, h *apikey.Hasher) *keyring.Ring {
	return keyring.New(keyring.Options{Store: s, Hasher: h})
}

// space is a stored key space with permissions a, b and c.
func space(t testing.TB, r *keyring.Ring, name, prefix string, rl *keyspace.RateLimit) *keyspace.Keyspace {
	t.Helper()
	ks := &keyspace.Keyspace{Name: name, Prefix: prefix, RateLimit: rl,
		Permissions: []keyspace.Permission{{Name: "a"}, {Name: "b"}, {Name: "c"}}}
	if err := r.CreateKeyspace(context.Background(), ks); err != nil {
		t.Fatal(err)
	}
	return ks
}

func issue(t testing.TB, r *keyring.Ring, ks *keyspace.Keyspace, p keyring.IssueParams) (string, *keyspace.Key) {
	t.Helper()
	if p.Name == "" {
		p.Name = "test"
	}
	if p.Tenant == "" {
		p.Tenant = "acme"
	}
	if p.Permissions == nil {
		p.Permissions = []string{"*"}
	}
	secret, k, err := r.Issue(context.Background(), ks, p)
	if err != nil {
		t.Fatal(err)
	}
	return secret, k
}

func verify(t testing.TB, r *keyring.Ring, key string) *keyring.Verification {
	t.Helper()
	v, err := r.Verify(context.Background(), keyring.VerifyRequest{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// The shipped examples load, and a file that reuses a prefix, or says what
// a key space cannot, is refused with its name.
func TestLoadFiles(t *testing.T) {
	t.Parallel()
	r := newRing(nil, newHasher(t))
	names, err := r.LoadFiles("../../examples/keyspaces")
	if err != nil || strings.Join(names, ",") != "formulr,formvox" {
		t.Fatalf("examples: %v, %v", names, err)
	}
	ks, err := r.Keyspace(context.Background(), "formulr")
	if err != nil || ks.Prefix != "frm" || len(ks.Permissions) != 5 || ks.RateLimit.Limit != 1000 ||
		time.Duration(ks.RateLimit.Window) != time.Hour || ks.RateLimit.Per != keyspace.PerTenant {
		t.Errorf("formulr: %+v, %v", ks, err)
	}
	if b, _ := json.Marshal(ks); strings.Contains(string(b), "created_at") || !strings.Contains(string(b), `"source":"../../examples/keyspaces/formulr.yaml"`) {
		t.Errorf("a file's key space reads %s: want its file as source, and no times", b)
	}
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for name, text := range map[string]string{
		"same-prefix.yaml": "prefix: frm\npermissions: [{name: x}]\n",
		"unknown.yaml":     "prefix: unk\ncolour: red\npermissions: [{name: x}]\n",
		"no-perms.yaml":    "prefix: nop\n",
	} {
		if _, err := r.LoadFiles(write(name, text)); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: got %v, want an error naming the file", name, err)
		}
	}
	// A key space of the API may not take a file's name or prefix.
	s := drivertest.Drivers[0].Open(t)
	r2 := newRing(s, newHasher(t))
	if _, err := r2.LoadFiles("../../examples/keyspaces"); err != nil {
		t.Fatal(err)
	}
	for _, ks := range []*keyspace.Keyspace{
		{Name: "formulr", Prefix: "zzz", Permissions: []keyspace.Permission{{Name: "a"}}},
		{Name: "other", Prefix: "fvx", Permissions: []keyspace.Permission{{Name: "a"}}},
	} {
		if err := r2.CreateKeyspace(context.Background(), ks); !errors.Is(err, hookline.ErrConflict) {
			t.Errorf("create %s/%s beside the files: got %v, want a conflict", ks.Name, ks.Prefix, err)
		}
	}
	if err := r2.DeleteKeyspace(context.Background(), "formvox"); !errors.Is(err, keyring.ErrReadOnly) {
		t.Errorf("delete a file's key space: got %v", err)
	}
}

// A limit per tenant is shared by the tenant's keys: more keys do not mean
// more requests. Another tenant has its own.
func TestRateLimitPerTenant(t *testing.T) {
	drivertest.Each(t, func(t *testing.T, open func(testing.TB) store.Store) {
		r := newRing(open(t), newHasher(t))
		ks := space(t, r, "api", "api", &keyspace.RateLimit{Limit: 3, Window: keyspace.Duration(time.Hour), Per: keyspace.PerTenant})
		a, _ := issue(t, r, ks, keyring.IssueParams{})
		b, _ := issue(t, r, ks, keyring.IssueParams{})
		other, _ := issue(t, r, ks, keyring.IssueParams{Tenant: "globex"})
		var codes []string
		for _, k := range []string{a, b, a, b} {
			codes = append(codes, verify(t, r, k).Code)
		}
		if strings.Join(codes, ",") != "VALID,VALID,VALID,RATE_LIMITED" {
			t.Errorf("two keys of one tenant, 3 an hour between them: %v", codes)
		}
		if v := verify(t, r, other); v.Code != keyspace.CodeValid || v.RateLimit.Remaining != 2 {
			t.Errorf("another tenant: %s, %+v", v.Code, v.RateLimit)
		}
	})
}

// Last use is noted, and written when Run flushes (at its end here).
func TestLastUsed(t *testing.T) {
	drivertest.Each(t, func(t *testing.T, open func(testing.TB) store.Store) {
		s := open(t)
		r := newRing(s, newHasher(t))
		ks := space(t, r, "api", "api", nil)
		key, k := issue(t, r, ks, keyring.IssueParams{})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { r.Run(ctx); close(done) }()
		if v := verify(t, r, key); v.Code != keyspace.CodeValid || v.RateLimit != nil {
			t.Fatalf("a key without a limit: %+v", v)
		}
		cancel()
		<-done
		got, err := s.KeyGet(context.Background(), k.ID)
		if err != nil || got.LastUsedAt == nil {
			t.Fatalf("last used after a verification and a flush: %v, %v", got, err)
		}
	})
}

// The issue's multi-node promises, with three nodes on one PostgreSQL: a key
// limited to 1,000 an hour, hammered through all three, gets between 1,000
// and 1,010 VALID answers; a key revoked, or rolled with no grace, on one
// node is refused by every node within a second.
func TestThreeNodes(t *testing.T) {
	t.Parallel()
	url := pgtest.MigratedURL(t)
	box := newBox(t)
	h := newHasher(t)
	var nodes []*keyring.Ring
	for range 3 {
		nodes = append(nodes, newRing(pgtest.OpenURL(t, url, box), h))
	}
	ks := space(t, nodes[0], "api", "api", &keyspace.RateLimit{Limit: 1000, Window: keyspace.Duration(time.Hour)})
	key, k := issue(t, nodes[0], ks, keyring.IssueParams{})

	var valid, limited atomic.Int64
	var wg sync.WaitGroup
	deadline := time.Now().Add(30 * time.Second)
	for g := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 150 && time.Now().Before(deadline); i++ {
				v, err := nodes[(g+i)%3].Verify(context.Background(), keyring.VerifyRequest{Key: key})
				if err != nil {
					t.Error(err)
					return
				}
				switch v.Code {
				case keyspace.CodeValid:
					valid.Add(1)
				case keyspace.CodeRateLimited:
					limited.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	t.Logf("1,800 verifications through 3 nodes: %d valid, %d rate limited", valid.Load(), limited.Load())
	if n := valid.Load(); n < 1000 || n > 1010 {
		t.Errorf("VALID answers: %d, want 1,000 to 1,010", n)
	}

	// Revoked on one node: refused everywhere within a second.
	for _, n := range nodes {
		if c := verify(t, n, key).Code; c != keyspace.CodeRateLimited && c != keyspace.CodeValid {
			t.Fatalf("before revoking: %s", c)
		}
	}
	if _, err := nodes[1].Revoke(context.Background(), ks, k.ID, ""); err != nil {
		t.Fatal(err)
	}
	revoked := time.Now()
	time.Sleep(time.Second - 50*time.Millisecond)
	for i, n := range nodes {
		if c := verify(t, n, key).Code; c != keyspace.CodeRevoked {
			t.Errorf("node %d, %s after the revocation: %s", i, time.Since(revoked).Round(time.Millisecond), c)
		}
	}
	// Rolled with no grace on one node: the old key is refused everywhere
	// within a second, the new one works everywhere at once.
	old, ok := issue(t, nodes[0], ks, keyring.IssueParams{Name: "to roll"})
	for _, n := range nodes {
		verify(t, n, old) // cached on every node
	}
	fresh, _, _, err := nodes[2].Roll(context.Background(), ks, ok.ID, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	rolled := time.Now()
	for i, n := range nodes {
		if c := verify(t, n, fresh).Code; c != keyspace.CodeValid {
			t.Errorf("node %d: the new key: %s", i, c)
		}
	}
	time.Sleep(time.Second - 50*time.Millisecond - time.Since(rolled))
	for i, n := range nodes {
		if c := verify(t, n, old).Code; c != keyspace.CodeExpired {
			t.Errorf("node %d, %s after the roll: the old key is %s", i, time.Since(rolled).Round(time.Millisecond), c)
		}
	}
}

func newBox(t testing.TB) *secrets.Box {
	key := make([]byte, 32)
	rand.Read(key)
	box, err := secrets.New(key)
	if err != nil {
		t.Fatal(err)
	}
	return box
}

// countingStore counts the key reads of a real store.
type countingStore struct {
	store.Store
	reads atomic.Int64
}

func (c *countingStore) KeyGetByHash(ctx context.Context, h []byte) (*keyspace.Key, error) {
	c.reads.Add(1)
	return c.Store.KeyGetByHash(ctx, h)
}

// A key verified by many requests at once is read from the store once per
// TTL, not once per request that found it stale.
func TestCacheReadsOncePerKey(t *testing.T) {
	t.Parallel()
	s := &countingStore{Store: drivertest.Drivers[0].Open(t)}
	r := newRing(s, newHasher(t))
	ks := space(t, r, "api", "api", nil)
	key, _ := issue(t, r, ks, keyring.IssueParams{})
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if c := verify(t, r, key).Code; c != keyspace.CodeValid {
				t.Errorf("code %s", c)
			}
		})
	}
	wg.Wait()
	if n := s.reads.Load(); n != 1 {
		t.Errorf("50 verifications at once read the key %d times, want once", n)
	}
}
