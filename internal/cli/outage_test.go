package cli

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/apikey"
	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/secrets"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/store/sqlite"
	"github.com/hookline/hookline/internal/store/sqlite/sqlitetest"
)

// TestServeOnUnwritableStorage: `serve` restarted after a kill -9 that left a
// delivery leased, on a database it cannot write, starts all the same: /readyz
// answers, and publishers get 503 with Retry-After instead of "connection
// refused". A start has nothing to write when the schema and the admin key are
// there already.
//
// SQLite's query_only makes SQLite itself refuse every write, with
// SQLITE_READONLY, as a read-only disk does; a full disk refuses them too (the
// WAL cannot grow), which a test cannot arrange without root.
func TestServeOnUnwritableStorage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "h.db")
	key := make([]byte, 32)
	rand.Read(key)
	box, err := secrets.New(key)
	if err != nil {
		t.Fatal(err)
	}
	const adminKey = "given-admin-key-0123456789"

	// What the killed process left: the schema, the admin key, a webhook, and
	// a delivery it had claimed.
	s, err := sqlite.Open(ctx, db, sqlite.Options{Secrets: box})
	if err != nil {
		t.Fatal(err)
	}
	hasher, err := apikey.NewHasher(box.Derive(apikey.Purpose))
	if err == nil {
		err = s.Migrate(ctx)
	}
	if err == nil {
		_, err = apikey.Bootstrap(ctx, s, hasher, adminKey, time.Now())
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	wh := &hookline.Webhook{ID: hookline.NewID(hookline.PrefixWebhook), Tenant: "acme", URL: "http://127.0.0.1:9/hooks",
		Events: []string{"*"}, Secret: "whsec_" + strings.Repeat("a", 32), Active: true, Profile: "standard",
		Headers: map[string]string{}, Metadata: map[string]string{}, CreatedAt: now, UpdatedAt: now}
	if err == nil {
		err = s.WebhookCreate(ctx, store.WebhookCreateParams{Webhook: wh})
	}
	if err == nil {
		_, err = s.EventInsert(ctx, []store.EventInsertParams{{
			Event: &hookline.Event{ID: hookline.NewID(hookline.PrefixEvent), Tenant: "acme", Type: "order.created",
				Data: json.RawMessage(`{}`), Timestamp: now, CreatedAt: now},
			Deliveries: []store.DeliveryInsert{{ID: hookline.NewID(hookline.PrefixDelivery), WebhookID: wh.ID, NextAttemptAt: now}},
		}})
	}
	if err == nil {
		_, err = s.DeliveryClaim(ctx, store.DeliveryClaimParams{Now: now, LeaseUntil: now.Add(time.Hour), LeaseToken: "node_killed.1", Limit: 1})
	}
	s.Close()
	if err != nil {
		t.Fatal(err)
	}

	sqlitetest.OnConnect(t, db, "PRAGMA query_only = ON")
	rs := serveInProcess(t, "--db", db, "--secret-key", base64.StdEncoding.EncodeToString(key), "--admin-key", adminKey)
	if logs := rs.stderr.String(); !strings.Contains(logs, "level=WARN") || !strings.Contains(logs, "resume when their leases end") {
		t.Errorf("serve did not warn that the leftover delivery waits for its lease:\n%s", logs)
	}
	client := &http.Client{Timeout: 5 * time.Second}
	res, err := client.Get("http://" + rs.addr + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("GET /readyz: got %d, want 200 (storage answers reads)", res.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodPost, "http://"+rs.addr+"/v1/events", strings.NewReader(`{"type":"order.created","tenant":"acme","data":{}}`))
	req.Header.Set("Authorization", "Bearer "+adminKey)
	req.Header.Set("Content-Type", "application/json")
	if res, err = client.Do(req); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
		t.Errorf("publishing: got %d with Retry-After %q, want 503 with Retry-After", res.StatusCode, res.Header.Get("Retry-After"))
	}
	if code := rs.stop(t); code != 0 {
		t.Errorf("got exit %d after cancel, want 0; stderr:\n%s", code, rs.stderr.String())
	}
}
