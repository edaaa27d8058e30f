// Package hooklinetest starts a real Hookline in a test, on loopback: a
// SQLite store in a temporary directory, the delivery engine, a generated
// admin key and the API behind an httptest server, stopped when the test
// ends. It is for tests outside internal/api (the public packages, the
// examples) that need a Hookline to talk to, not a stand-in.
package hooklinetest

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/api"
	"github.com/hookline/hookline/internal/apikey"
	"github.com/hookline/hookline/internal/config"
	"github.com/hookline/hookline/internal/delivery"
	"github.com/hookline/hookline/internal/metrics"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/store/sqlite/sqlitetest"
	"github.com/hookline/hookline/internal/testkit"
)

// Server is a running Hookline.
type Server struct {
	URL    string       // its base URL, http://127.0.0.1:port
	Admin  string       // an API key with the admin scope
	Client *http.Client // a client for it
	Logs   *testkit.SyncBuffer
}

// Options adjust the server; the zero value is fine.
type Options struct {
	// Now is the API's clock (to let a test move it); time.Now when nil.
	Now func() time.Time
	// Store is the store to serve, which the test may have filled; a fresh
	// SQLite store in a temporary directory when nil.
	Store store.Store
}

// Start starts a Hookline for t.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	ctx := context.Background()
	var s store.Store = o.Store
	if s == nil {
		s = sqlitetest.Open(t)
	}
	logs := &testkit.SyncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	m := metrics.New()
	engine := delivery.New(delivery.Options{
		Store:        s,
		Sender:       delivery.NewSender(delivery.SenderOptions{AllowPrivate: true, BodyLimit: 4096}),
		Policy:       delivery.Policy{Schedule: []time.Duration{0}},
		Timeout:      5 * time.Second,
		Lease:        10 * time.Second,
		Workers:      2,
		Metrics:      m,
		Logger:       log,
		PollInterval: 100 * time.Millisecond,
	})
	if err := engine.Start(ctx); err != nil {
		t.Fatal(err)
	}
	pepper := make([]byte, 32)
	rand.Read(pepper)
	hasher, err := apikey.NewHasher(pepper)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := apikey.Bootstrap(ctx, s, hasher, "", time.Now())
	if err != nil || admin == "" {
		t.Fatalf("Bootstrap: key %q, err %v", admin, err)
	}
	cfg := config.Config{
		AllowPrivateTargets: true, Timeout: 5 * time.Second, Lease: 10 * time.Second, Workers: 2,
		MaxPayloadBytes: 1 << 20, MaxWebhooksPerTenant: 50, TenantKeyRateLimit: 1000, ResponseBodyLimit: 4096,
		ReadTimeout: 60 * time.Second, WriteTimeout: 30 * time.Second,
	}
	srv := httptest.NewServer(api.New(api.Options{Store: s, Engine: engine, Config: cfg, Metrics: m, Logger: log, Hasher: hasher, Now: o.Now}))
	t.Cleanup(func() {
		srv.Close()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := engine.Shutdown(sctx); err != nil {
			t.Errorf("engine shutdown: %v", err)
		}
	})
	return &Server{URL: srv.URL, Admin: admin, Client: srv.Client(), Logs: logs}
}
