package sqlite

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/secrets"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/store/storetest"
)

func TestStore(t *testing.T) {
	t.Parallel()
	storetest.Exercise(t, func(t *testing.T) store.Store {
		return openTemp(t)
	})
}

// newKey returns a random secret-encryption key.
func newKey(t testing.TB) []byte {
	t.Helper()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

// open opens and migrates the database at path, closing it when the test ends.
func open(t testing.TB, path string, key []byte) *Store {
	t.Helper()
	box, err := secrets.New(key)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(t.Context(), path, Options{Secrets: box})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return s
}

// openTemp opens a fresh database in a temporary directory.
func openTemp(t testing.TB) *Store {
	t.Helper()
	return open(t, filepath.Join(t.TempDir(), "hookline.db"), newKey(t))
}

func newWebhook(tenant, secret string) *hookline.Webhook {
	now := time.Now().UTC().Truncate(time.Millisecond)
	return &hookline.Webhook{
		ID: hookline.NewID(hookline.PrefixWebhook), Tenant: tenant, URL: "https://receiver.example/plain-url-marker",
		Events: []string{"*"}, Secret: secret, Active: true, Profile: "standard",
		Headers: map[string]string{}, Metadata: map[string]string{}, CreatedAt: now, UpdatedAt: now,
	}
}

func TestMigrateIsIdempotent(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	ctx := t.Context()
	for i := range 3 {
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("Migrate #%d: %v", i+2, err)
		}
	}
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.r.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != len(files) {
		t.Errorf("schema_migrations rows: got %d, want %d (one per migration)", n, len(files))
	}
}

func TestMigrateConcurrently(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hookline.db")
	key := newKey(t)
	box, err := secrets.New(key)
	if err != nil {
		t.Fatal(err)
	}
	const procs = 3
	stores := make([]*Store, procs)
	for i := range stores {
		if stores[i], err = Open(t.Context(), path, Options{Secrets: box}); err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { stores[i].Close() })
	}
	errs := make([]error, procs)
	var wg sync.WaitGroup
	for i, s := range stores {
		wg.Go(func() { errs[i] = s.Migrate(t.Context()) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("concurrent Migrate %d: got %v, want nil", i, err)
		}
	}
	w := newWebhook("acme", "whsec_x")
	if err := stores[0].WebhookCreate(t.Context(), store.WebhookCreateParams{Webhook: w}); err != nil {
		t.Fatalf("WebhookCreate after concurrent migrations: %v", err)
	}
	if _, err := stores[1].WebhookGet(t.Context(), w.ID); err != nil {
		t.Errorf("WebhookGet from another store on the same file: %v", err)
	}
}

func TestParseDSN(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, db, path string
		ok             bool
	}{
		{"relative path", "hookline.db", "hookline.db", true},
		{"absolute path", "/var/lib/hookline/hookline.db", "/var/lib/hookline/hookline.db", true},
		{"sqlite scheme", "sqlite:data/hookline.db", "data/hookline.db", true},
		{"sqlite URL absolute", "sqlite:///var/lib/hookline.db", "/var/lib/hookline.db", true},
		{"sqlite URL relative", "sqlite://hookline.db", "hookline.db", true},
		{"file scheme", "file:/tmp/h.db", "/tmp/h.db", true},
		{"postgres URL", "postgres://user:pw@db:5432/hookline", "", false},
		{"postgresql URL", "postgresql://db/hookline", "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			path, ok := ParseDSN(c.db)
			if path != c.path || ok != c.ok {
				t.Errorf("ParseDSN(%q): got %q, %v; want %q, %v", c.db, path, ok, c.path, c.ok)
			}
		})
	}
}

// TestOpenOddPath opens files whose names hold characters a SQLite URI treats
// specially: the database must be that file, not one cut at '#' or '?'.
func TestOpenOddPath(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"with space.db", "50%41off.db", "a#b.db", "what?.db"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := filepath.Join(dir, name)
			key := newKey(t)
			s := open(t, path, key)
			w := newWebhook("acme", "whsec_odd")
			if err := s.WebhookCreate(t.Context(), store.WebhookCreateParams{Webhook: w}); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			ents, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, e := range ents {
				names = append(names, e.Name())
			}
			if len(names) != 1 || names[0] != name {
				t.Errorf("files after Open(%q): got %q, want just %q", name, names, name)
			}
			if _, err := open(t, path, key).WebhookGet(t.Context(), w.ID); err != nil {
				t.Errorf("WebhookGet after reopening %q: %v", name, err)
			}
		})
	}
}

func TestOpenRejectsBadOptions(t *testing.T) {
	t.Parallel()
	box, err := secrets.New(newKey(t))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "h.db")
	cases := []struct {
		name string
		path string
		opts Options
	}{
		{"no secrets box", path, Options{}},
		{"empty path", "", Options{Secrets: box}},
		{"bad synchronous", path, Options{Secrets: box, Synchronous: "OFF"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := Open(t.Context(), c.path, c.opts)
			if err == nil {
				s.Close()
				t.Errorf("Open: got nil error, want one")
			}
		})
	}
	s, err := Open(t.Context(), path, Options{Secrets: box, Synchronous: "normal"})
	if err != nil {
		t.Fatalf("Open with synchronous normal: got %v, want nil", err)
	}
	s.Close()
}

// TestSecretEncryptedAtRest reads the database files' bytes: a webhook secret,
// and the credentials a webhook's custom headers carry, must not be there in
// clear, neither in the WAL nor after a checkpoint.
func TestSecretEncryptedAtRest(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hookline.db")
	s := open(t, path, newKey(t))
	const secret = "whsec_Q2xlYXJUZXh0U2VjcmV0TWFya2VyNDI="
	const credential = "Bearer receiver-credential-marker-77"
	w := newWebhook("acme", secret)
	w.Headers = map[string]string{"Authorization": credential}
	if err := s.WebhookCreate(t.Context(), store.WebhookCreateParams{Webhook: w}); err != nil {
		t.Fatal(err)
	}
	upd := *w
	upd.Secret = secret + "rotated"
	upd.Headers = map[string]string{"Authorization": credential + "-2"}
	if err := s.WebhookUpdate(t.Context(), &upd); err != nil {
		t.Fatal(err)
	}
	if got, err := s.WebhookGet(t.Context(), w.ID); err != nil || got.Secret != upd.Secret || got.Headers["Authorization"] != credential+"-2" {
		t.Fatalf("WebhookGet: got %v, %v; want the secret %q and the header back in clear", got, err, upd.Secret)
	}
	needles := [][]byte{[]byte(secret), []byte("Q2xlYXJUZXh0U2VjcmV0TWFya2VyNDI"), []byte("receiver-credential-marker")}
	check := func(when string) {
		t.Helper()
		var all []byte
		for _, f := range []string{path, path + "-wal"} {
			b, err := os.ReadFile(f)
			if err != nil && !errors.Is(err, os.ErrNotExist) {
				t.Fatal(err)
			}
			all = append(all, b...)
			for _, n := range needles {
				if bytes.Contains(b, n) {
					t.Errorf("%s: %s holds the webhook secret %q in clear", when, filepath.Base(f), n)
				}
			}
		}
		// The files do hold the webhook's other fields, so the search above looks
		// at the right bytes.
		if !bytes.Contains(all, []byte("plain-url-marker")) {
			t.Fatalf("%s: the webhook's URL is not in the database files; the search reads the wrong files", when)
		}
	}
	check("while open")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	check("after close")
}

func TestWrongSecretKey(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hookline.db")
	s := open(t, path, newKey(t))
	w := newWebhook("acme", "whsec_right")
	if err := s.WebhookCreate(t.Context(), store.WebhookCreateParams{Webhook: w}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	other := open(t, path, newKey(t))
	got, err := other.WebhookGet(t.Context(), w.ID)
	if err == nil {
		t.Fatalf("WebhookGet with the wrong key: got secret %q and no error, want an error", got.Secret)
	}
	if errors.Is(err, store.ErrNotFound) {
		t.Errorf("WebhookGet with the wrong key: got ErrNotFound, want a decryption error")
	}
	if !strings.Contains(err.Error(), "decrypt") || !strings.Contains(err.Error(), w.ID) {
		t.Errorf("WebhookGet with the wrong key: got %q, want a message naming the webhook and the decryption", err)
	}
	if _, err := other.WebhookList(t.Context(), store.WebhookListParams{}); err == nil {
		t.Error("WebhookList with the wrong key: got nil error, want one")
	}
	if _, err := other.WebhookListActive(t.Context(), "acme"); err == nil {
		t.Error("WebhookListActive with the wrong key: got nil error, want one")
	}
}

func TestReopenKeepsData(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "hookline.db")
	key := newKey(t)
	s := open(t, path, key)
	now := time.Now().UTC().Truncate(time.Millisecond)
	w := newWebhook("acme", "whsec_keep")
	if err := s.WebhookCreate(ctx, store.WebhookCreateParams{Webhook: w}); err != nil {
		t.Fatal(err)
	}
	ev := &hookline.Event{ID: hookline.NewID(hookline.PrefixEvent), Tenant: "acme", Type: "order.created",
		Data: []byte(`{"b":2,"a":1}`), IdempotencyKey: "k1", Timestamp: now, CreatedAt: now}
	dID := hookline.NewID(hookline.PrefixDelivery)
	_, err := s.EventInsert(ctx, []store.EventInsertParams{{Event: ev, Deliveries: []store.DeliveryInsert{
		{ID: dID, WebhookID: w.ID, NextAttemptAt: now, LeaseToken: "dead-process"}}}})
	if err != nil {
		t.Fatal(err)
	}
	k := &hookline.APIKey{ID: hookline.NewID(hookline.PrefixAPIKey), Name: "admin", Scopes: []string{hookline.ScopeAdmin},
		Prefix: "hk_ad", Hash: []byte{1, 2, 3}, CreatedAt: now}
	if err := s.APIKeyCreate(ctx, k); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = open(t, path, key)
	got, err := s.WebhookGet(ctx, w.ID)
	if err != nil || got.Secret != w.Secret || got.URL != w.URL {
		t.Fatalf("WebhookGet after reopen: got %+v, %v; want secret %q url %q", got, err, w.Secret, w.URL)
	}
	gotEv, err := s.EventGet(ctx, ev.ID)
	if err != nil || !bytes.Equal(gotEv.Data, ev.Data) || gotEv.IdempotencyKey != "k1" {
		t.Fatalf("EventGet after reopen: got %+v, %v; want data %s key k1", gotEv, err, ev.Data)
	}
	if d, err := s.DeliveryGet(ctx, dID); err != nil || d.Status != hookline.DeliveryPending {
		t.Fatalf("DeliveryGet after reopen: got %+v, %v; want pending", d, err)
	}
	if n, err := s.APIKeyCount(ctx); err != nil || n != 1 {
		t.Errorf("APIKeyCount after reopen: got %d, %v; want 1, nil", n, err)
	}
	// SingleNode start-up: the dead process's lease is released at once.
	if !s.SingleNode() {
		t.Error("SingleNode: got false, want true for SQLite")
	}
	if n, err := s.DeliveryReleaseAll(ctx, now); err != nil || n != 1 {
		t.Fatalf("DeliveryReleaseAll after reopen: got %d, %v; want 1, nil", n, err)
	}
	cs, err := s.DeliveryClaim(ctx, store.DeliveryClaimParams{Now: now, LeaseUntil: now.Add(time.Minute), LeaseToken: "new", Limit: 10})
	if err != nil || len(cs) != 1 || cs[0].Delivery.ID != dID {
		t.Errorf("DeliveryClaim after reopen: got %d, %v; want delivery %s", len(cs), err, dID)
	}
}

func TestPingAfterClose(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	if err := s.Ping(context.Background()); err != nil {
		t.Fatalf("Ping: got %v, want nil", err)
	}
	s.Close()
	if err := s.Ping(context.Background()); err == nil {
		t.Error("Ping after Close: got nil, want an error")
	}
}

// Migration 007 shortens the display prefixes of keys stored by earlier
// versions (ten characters of the key) and marks their hashes as version 0.
func TestMigrationShortensKeyPrefixes(t *testing.T) {
	t.Parallel()
	box, err := secrets.New(newKey(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "old.db"), Options{Secrets: box})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ms, err := store.ReadMigrations(migrations)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.ExecContext(ctx, `CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.Version >= 7 {
			break
		}
		if _, err := s.w.ExecContext(ctx, m.SQL); err != nil {
			t.Fatalf("%s: %v", m.Name, err)
		}
		if _, err := s.w.ExecContext(ctx, "INSERT INTO schema_migrations VALUES (?, 0)", m.Version); err != nil {
			t.Fatal(err)
		}
	}
	for i, prefix := range []string{"hl_AbCdEfG", "dev-admin-", "hl_"} {
		_, err := s.w.ExecContext(ctx, `INSERT INTO api_keys (id, name, scopes, prefix, hash, created_at) VALUES (?, 'k', '["admin"]', ?, ?, 0)`,
			fmt.Sprintf("key_%d", i), prefix, []byte{byte(i)})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"hl_AbCd", "", "hl_"} {
		k, err := s.APIKeyGet(ctx, fmt.Sprintf("key_%d", i))
		if err != nil {
			t.Fatal(err)
		}
		if k.Prefix != want || k.HashVersion != 0 {
			t.Errorf("key %d: got prefix %q, hash version %d; want %q, 0", i, k.Prefix, k.HashVersion, want)
		}
	}
}

// The database holds sealed secrets and key hashes: it, its WAL and its
// shared-memory file are readable by their owner only, whatever the umask.
func TestDatabaseFilesArePrivate(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hookline.db")
	s := open(t, path, newKey(t))
	if err := s.WebhookCreate(t.Context(), store.WebhookCreateParams{Webhook: newWebhook("acme", "whsec_"+strings.Repeat("a", 32))}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(f), err)
		}
		if mode := fi.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s: got mode %#o, want 0600", filepath.Base(f), mode)
		}
	}
}

// Headers stored in clear by versions before sealing are still read, and
// sealed when the webhook is next written.
func TestPlainHeadersOfEarlierVersionsAreRead(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	ctx := t.Context()
	w := newWebhook("acme", "whsec_"+strings.Repeat("b", 32))
	if err := s.WebhookCreate(ctx, store.WebhookCreateParams{Webhook: w}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.ExecContext(ctx, `UPDATE webhooks SET headers = '{"X-Api-Key":"old-plain"}' WHERE id = ?`, w.ID); err != nil {
		t.Fatal(err)
	}
	got, err := s.WebhookGet(ctx, w.ID)
	if err != nil || got.Headers["X-Api-Key"] != "old-plain" {
		t.Fatalf("WebhookGet of plain headers: got %v, %v; want X-Api-Key old-plain", got, err)
	}
	if err := s.WebhookUpdate(ctx, got); err != nil {
		t.Fatal(err)
	}
	var col string
	if err := s.r.QueryRowContext(ctx, "SELECT headers FROM webhooks WHERE id = ?", w.ID).Scan(&col); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(col, "old-plain") || !strings.HasPrefix(col, `"v1:`) {
		t.Errorf("after an update: got headers column %q, want it sealed", col)
	}
}
