package delivery

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/secrets"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/store/postgres/pgtest"
	"github.com/hookline/hookline/internal/store/sqlite/sqlitetest"
	"github.com/hookline/hookline/internal/testkit"
)

// unwritable is the real SQLite store with its writes failing, until writable
// is set, as they fail on a full disk: with the error the driver maps
// SQLITE_FULL to. A full disk cannot be had in a test without root (a small
// filesystem to fill), and SQLite's own SQLITE_FULL from a max_page_count
// (sqlitetest.OpenFull) does not stop freeing leases, an UPDATE that needs no
// new page; a full disk stops it, since every commit appends to the WAL.
type unwritable struct {
	store.Store
	writable atomic.Bool
}

func (u *unwritable) full(what string) error {
	if u.writable.Load() {
		return nil
	}
	return fmt.Errorf("store: %s: %w: database or disk is full (13)", what, store.ErrUnavailable)
}

func (u *unwritable) DeliveryReleaseAll(ctx context.Context, now time.Time) (int64, error) {
	if err := u.full("release all deliveries"); err != nil {
		return 0, err
	}
	return u.Store.DeliveryReleaseAll(ctx, now)
}

func (u *unwritable) DeliveryClaim(ctx context.Context, p store.DeliveryClaimParams) ([]store.ClaimedDelivery, error) {
	if err := u.full("claim deliveries"); err != nil {
		return nil, err
	}
	return u.Store.DeliveryClaim(ctx, p)
}

func (u *unwritable) EventInsert(ctx context.Context, ps []store.EventInsertParams) ([]store.EventInsertResult, error) {
	if err := u.full("insert events"); err != nil {
		return nil, err
	}
	return u.Store.EventInsert(ctx, ps)
}

// TestStartOnUnwritableStorage: after a crash that left deliveries leased, a
// start on storage that cannot be written (a full disk) succeeds, so that the
// API can answer 503 instead of nothing; publishing is refused meanwhile, and
// once storage takes writes the leftover deliveries go out when their leases
// end, and new events at once.
func TestStartOnUnwritableStorage(t *testing.T) {
	t.Parallel()
	f := &fixture{store: sqlitetest.Open(t)} // freeing leases at start-up is for single-node stores only
	ctx := context.Background()
	rcv := newReceiver(t)
	wh := f.webhook(t, rcv.URL)

	// The previous process claimed a delivery, then was killed.
	now := time.Now().UTC().Truncate(time.Millisecond)
	leaseUntil := now.Add(500 * time.Millisecond)
	left := f.claimedByTheDead(t, wh, now, leaseUntil, "node_dead.1")

	logs := &testkit.SyncBuffer{}
	u := &unwritable{Store: f.store}
	e := f.start(t, func(o *Options) {
		o.Store, o.PollInterval = u, 25*time.Millisecond
		o.Logger = slog.New(slog.NewTextHandler(logs, nil))
	})
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "resume when their leases end") {
		t.Errorf("start-up did not warn that leftover deliveries wait for their leases:\n%s", logs)
	}
	if _, err := e.Publish(ctx, []PublishParams{{Tenant: "acme", Type: "a.b", Data: json.RawMessage(`{}`)}}); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("publishing while storage cannot be written: got %v, want ErrUnavailable", err)
	}

	u.writable.Store(true)
	f.waitDelivery(t, left, hookline.DeliverySucceeded)
	if reqs := rcv.requests(); len(reqs) != 1 || reqs[0].at.Before(leaseUntil) {
		t.Errorf("the leftover delivery: got %d requests, want 1, sent after its lease ended at %v", len(reqs), leaseUntil)
	}
	_, d := publishOne(t, e, "a.b", `{"n":2}`)
	f.waitDelivery(t, d.ID, hookline.DeliverySucceeded)
}

// TestStorageOutageLogs: while the database is down, the claim loop fails at
// every poll; the log gets a line at once and then a count every ten seconds,
// not a line per failure, and one line when claims work again.
func TestStorageOutageLogs(t *testing.T) {
	if testing.Short() {
		t.Skip("stops and starts a PostgreSQL cluster; skipped with -short")
	}
	t.Parallel()
	pg := pgtest.NewCluster(t)
	url, err := pg.CreateDatabase("hookline")
	if err != nil {
		t.Fatal(err)
	}
	key := make([]byte, 32)
	rand.Read(key)
	box, err := secrets.New(key)
	if err != nil {
		t.Fatal(err)
	}
	s := pgtest.OpenURL(t, url, box)
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	f := &fixture{store: s}
	rcv := newReceiver(t)
	f.webhook(t, rcv.URL)
	logs := &testkit.SyncBuffer{}
	e := f.start(t, func(o *Options) {
		o.PollInterval = 10 * time.Millisecond
		o.Logger = slog.New(slog.NewTextHandler(logs, nil))
	})

	if err := pg.Stop(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // about 100 polls
	failed := strings.Count(logs.String(), msgClaimFailed)
	if err := pg.Start(); err != nil {
		t.Fatal(err)
	}
	if failed != 1 {
		t.Errorf("a second of failing claims: got %d lines, want 1:\n%s", failed, logs)
	}
	waitFor(t, 10*time.Second, "the line saying claims work again", func() bool {
		return strings.Contains(logs.String(), "claiming due deliveries works again")
	})
	_, d := publishOne(t, e, "a.b", `{}`)
	f.waitDelivery(t, d.ID, hookline.DeliverySucceeded)
}
