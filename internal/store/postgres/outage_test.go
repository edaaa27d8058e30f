package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/store/postgres"
	"github.com/hookline/hookline/internal/store/postgres/pgtest"
)

// TestInterpretErrorOfBrokenConnections: what pgx really returns for a
// connection it has closed is ErrUnavailable; a caller that gave up is not.
func TestInterpretErrorOfBrokenConnections(t *testing.T) {
	t.Parallel()
	url := pgtest.MigratedURL(t)
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	canceled, cancel := context.WithCancel(t.Context())
	cancel()
	_, errCanceled := conn.Exec(canceled, "SELECT 1")
	expired, cancel := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
	defer cancel()
	_, errExpired := conn.Exec(expired, "SELECT 1")
	conn.Close(t.Context())
	_, errClosed := conn.Exec(t.Context(), "SELECT 1")

	cases := []struct {
		name        string
		err         error
		unavailable bool
	}{
		{"closed connection", errClosed, true},
		{"closed connection, wrapped", fmt.Errorf("store: insert events: %w", errClosed), true},
		{"context canceled before the call", errCanceled, false},
		{"deadline passed before the call", errExpired, false},
	}
	for _, c := range cases {
		if c.err == nil {
			t.Fatalf("%s: pgx returned no error", c.name)
		}
		if got := postgres.InterpretError(c.err); errors.Is(got, store.ErrUnavailable) != c.unavailable {
			t.Errorf("%s: InterpretError(%v) = %v; ErrUnavailable: got %v, want %v", c.name, c.err, got, !c.unavailable, c.unavailable)
		}
	}
}

// blocked waits until a connection of the store (application_name hookline)
// waits for a lock, and returns its process id.
func blocked(t *testing.T, admin *pgx.Conn) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var pid int
		err := admin.QueryRow(t.Context(), `SELECT pid FROM pg_stat_activity
			WHERE datname = current_database() AND application_name = 'hookline' AND wait_event_type = 'Lock'`).Scan(&pid)
		if err == nil {
			return pid
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatal("the store's transaction never waited for the lock held against it")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// terminate ends the backend pid, as an operator's pg_terminate_backend, a
// failover or an out-of-memory kill of one backend does.
func terminate(t *testing.T, admin *pgx.Conn, pid int) {
	t.Helper()
	var ok bool
	if err := admin.QueryRow(t.Context(), "SELECT pg_terminate_backend($1)", pid).Scan(&ok); err != nil || !ok {
		t.Fatalf("pg_terminate_backend(%d): got %v, %v", pid, ok, err)
	}
}

func testEvent(key string) *hookline.Event {
	now := time.Now().UTC().Truncate(time.Millisecond)
	return &hookline.Event{ID: hookline.NewID(hookline.PrefixEvent), Tenant: "acme", Type: "order.created",
		Data: json.RawMessage(`{}`), IdempotencyKey: key, Timestamp: now, CreatedAt: now}
}

// TestTerminatedMidTransaction: a backend killed while its transaction holds
// locks (or while its commit waits) fails the call with ErrUnavailable, and
// nothing of the transaction is kept.
func TestTerminatedMidTransaction(t *testing.T) {
	t.Parallel()
	t.Run("event insert", func(t *testing.T) {
		t.Parallel()
		url := pgtest.MigratedURL(t)
		s, admin := pgtest.OpenURL(t, url, newBox(t)), connect(t, url)
		// Another transaction inserts key "k" and stays open: the store's batch
		// stores its first event, then waits on the key of the second.
		tx, err := admin.Begin(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(context.Background())
		if _, err := tx.Exec(t.Context(), `INSERT INTO events (id, tenant, type, data, idempotency_key, occurred_at, created_at)
			VALUES ($1, 'acme', 'order.created', '{}', 'k', now(), now())`, hookline.NewID(hookline.PrefixEvent)); err != nil {
			t.Fatal(err)
		}
		first := testEvent("a")
		done := make(chan error, 1)
		go func() {
			_, err := s.EventInsert(context.Background(), []store.EventInsertParams{{Event: first}, {Event: testEvent("k")}})
			done <- err
		}()
		waiting := connect(t, url)
		terminate(t, waiting, blocked(t, waiting))
		if err := <-done; !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("EventInsert whose backend was terminated: got %v, want ErrUnavailable", err)
		}
		if _, err := s.EventGet(t.Context(), first.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the first event of the terminated batch: got %v, want ErrNotFound (rolled back)", err)
		}
	})
	t.Run("delivery complete", func(t *testing.T) {
		t.Parallel()
		url := pgtest.MigratedURL(t)
		s, admin := pgtest.OpenURL(t, url, newBox(t)), connect(t, url)
		ctx := t.Context()
		w := newWebhook("acme", "whsec_c")
		if err := s.WebhookCreate(ctx, store.WebhookCreateParams{Webhook: w}); err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		ids := []string{hookline.NewID(hookline.PrefixDelivery), hookline.NewID(hookline.PrefixDelivery)}
		if _, err := s.EventInsert(ctx, []store.EventInsertParams{{Event: testEvent(""), Deliveries: []store.DeliveryInsert{
			{ID: ids[0], WebhookID: w.ID, NextAttemptAt: now}, {ID: ids[1], WebhookID: w.ID, NextAttemptAt: now},
		}}}); err != nil {
			t.Fatal(err)
		}
		claimed, err := s.DeliveryClaim(ctx, store.DeliveryClaimParams{Now: now, LeaseUntil: now.Add(time.Minute), LeaseToken: "node.1", Limit: 2})
		if err != nil || len(claimed) != 2 {
			t.Fatalf("claim: got %d, %v; want 2", len(claimed), err)
		}
		// Another transaction locks the second delivery: the store's batch
		// completes the first, then waits.
		tx, err := admin.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(context.Background())
		if _, err := tx.Exec(ctx, "SELECT FROM deliveries WHERE id = $1 FOR UPDATE", ids[1]); err != nil {
			t.Fatal(err)
		}
		var ps []store.DeliveryCompleteParams
		for _, id := range ids {
			ps = append(ps, store.DeliveryCompleteParams{DeliveryLease: store.DeliveryLease{ID: id, LeaseToken: "node.1"},
				WebhookID: w.ID, Status: hookline.DeliverySucceeded, Now: now, Attempt: &hookline.Attempt{
					ID: hookline.NewID(hookline.PrefixAttempt), DeliveryID: id, WebhookID: w.ID, EventID: claimed[0].Event.ID,
					EventType: "order.created", Tenant: "acme", Number: 1, StartedAt: now, StatusCode: 200}})
		}
		done := make(chan error, 1)
		go func() {
			_, err := s.DeliveryComplete(context.Background(), ps)
			done <- err
		}()
		waiting := connect(t, url)
		terminate(t, waiting, blocked(t, waiting))
		if err := <-done; !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("DeliveryComplete whose backend was terminated: got %v, want ErrUnavailable", err)
		}
		tx.Rollback(ctx)
		if d, err := s.DeliveryGet(ctx, ids[0]); err != nil || d.Status != hookline.DeliveryPending {
			t.Errorf("the delivery completed before the termination: got %+v, %v; want it pending (rolled back)", d, err)
		}
	})
	t.Run("commit in flight", func(t *testing.T) {
		t.Parallel()
		url := pgtest.MigratedURL(t)
		s, admin := pgtest.OpenURL(t, url, newBox(t)), connect(t, url)
		ctx := t.Context()
		// A deferred trigger makes the commit of an event wait for an advisory
		// lock this test holds: the backend is killed while COMMIT runs.
		if _, err := admin.Exec(ctx, `
			CREATE FUNCTION wait_at_commit() RETURNS trigger LANGUAGE plpgsql AS
				$$ BEGIN PERFORM pg_advisory_xact_lock(4242); RETURN NULL; END $$;
			CREATE CONSTRAINT TRIGGER wait_at_commit AFTER INSERT ON events
				DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION wait_at_commit();
			SELECT pg_advisory_lock(4242)`); err != nil {
			t.Fatal(err)
		}
		ev := testEvent("")
		done := make(chan error, 1)
		go func() {
			_, err := s.EventInsert(context.Background(), []store.EventInsertParams{{Event: ev}})
			done <- err
		}()
		terminate(t, admin, blocked(t, admin))
		if err := <-done; !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("EventInsert killed during its commit: got %v, want ErrUnavailable", err)
		}
		if _, err := s.EventGet(ctx, ev.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the event whose commit was killed: got %v, want ErrNotFound", err)
		}
	})
}

// TestRestartUnderLoad: while the server is restarted as `pg_ctl restart -m
// immediate` does (twice), restarted in fast mode, and has every connection of
// the store terminated, publishing, claiming, completing and reading go on
// from several goroutines. Every error returned meanwhile is ErrUnavailable,
// and nothing the store acknowledged is lost.
func TestRestartUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("restarts a PostgreSQL cluster; skipped with -short")
	}
	t.Parallel()
	pg := pgtest.NewCluster(t)
	url, err := pg.CreateDatabase("hookline")
	if err != nil {
		t.Fatal(err)
	}
	// The throwaway cluster acknowledges commits before writing them
	// (synchronous_commit=off), which an immediate stop may lose: this database
	// waits for its WAL, as a production server does.
	admin, err := pgx.Connect(t.Context(), pg.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = admin.Exec(t.Context(), "ALTER DATABASE hookline SET synchronous_commit = on")
	admin.Close(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s := pgtest.OpenURL(t, url, newBox(t))
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	w := newWebhook("acme", "whsec_r")
	if err := s.WebhookCreate(t.Context(), store.WebhookCreateParams{Webhook: w}); err != nil {
		t.Fatal(err)
	}

	var (
		mu        sync.Mutex
		wrong     []string     // errors that are not ErrUnavailable
		published []string     // events acknowledged
		completed []string     // deliveries whose completion applied
		failures  atomic.Int64 // ErrUnavailable errors seen
		stop      = make(chan struct{})
		wg        sync.WaitGroup
	)
	check := func(op string, err error) bool {
		if err == nil {
			return true
		}
		if errors.Is(err, store.ErrUnavailable) {
			failures.Add(1)
		} else {
			mu.Lock()
			wrong = append(wrong, fmt.Sprintf("%s: %v", op, err))
			mu.Unlock()
		}
		time.Sleep(5 * time.Millisecond)
		return false
	}
	work := []func(ctx context.Context, n int){
		func(ctx context.Context, n int) {
			now := time.Now()
			a, b := testEvent(""), testEvent("key-"+strconv.Itoa(n))
			_, err := s.EventInsert(ctx, []store.EventInsertParams{
				{Event: a, Deliveries: []store.DeliveryInsert{{ID: hookline.NewID(hookline.PrefixDelivery), WebhookID: w.ID, NextAttemptAt: now}}},
				{Event: b},
			})
			if check("EventInsert", err) {
				mu.Lock()
				published = append(published, a.ID, b.ID)
				mu.Unlock()
			}
		},
		func(ctx context.Context, n int) {
			now := time.Now()
			token := "node." + strconv.Itoa(n)
			claimed, err := s.DeliveryClaim(ctx, store.DeliveryClaimParams{Now: now, LeaseUntil: now.Add(time.Minute), LeaseToken: token, Limit: 8})
			if !check("DeliveryClaim", err) || len(claimed) == 0 {
				return
			}
			ps := make([]store.DeliveryCompleteParams, len(claimed))
			for i, c := range claimed {
				ps[i] = store.DeliveryCompleteParams{DeliveryLease: store.DeliveryLease{ID: c.Delivery.ID, LeaseToken: token},
					WebhookID: w.ID, Status: hookline.DeliverySucceeded, Now: now}
			}
			res, err := s.DeliveryComplete(ctx, ps)
			if check("DeliveryComplete", err) {
				mu.Lock()
				for i, r := range res {
					if r.Applied {
						completed = append(completed, ps[i].ID)
					}
				}
				mu.Unlock()
			}
		},
		func(ctx context.Context, n int) {
			_, err := s.WebhookGet(ctx, w.ID)
			check("WebhookGet", err)
			_, err = s.DeliveryCountPending(ctx)
			check("DeliveryCountPending", err)
			check("Notify", s.Notify(ctx, "ping", ""))
		},
	}
	for _, do := range work {
		for g := range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := g * 1_000_000; ; n++ {
					select {
					case <-stop:
						return
					default:
					}
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					do(ctx, n)
					cancel()
				}
			}()
		}
	}

	terminateAll := func() error {
		conn, err := pgx.Connect(t.Context(), url)
		if err != nil {
			return err
		}
		defer conn.Close(context.Background())
		_, err = conn.Exec(t.Context(), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE datname = current_database() AND application_name = 'hookline'`)
		return err
	}
	faults := []struct {
		name string
		do   func() error
	}{
		{"restart -m immediate", func() error { return errors.Join(pg.Crash(), pg.Start()) }},
		{"terminate every backend", terminateAll},
		{"restart -m fast", func() error { return errors.Join(pg.Stop(), pg.Start()) }},
		{"restart -m immediate again", func() error { return errors.Join(pg.Crash(), pg.Start()) }},
	}
	for _, f := range faults {
		time.Sleep(400 * time.Millisecond)
		if err := f.do(); err != nil {
			close(stop)
			wg.Wait()
			t.Fatalf("%s: %v", f.name, err)
		}
	}
	time.Sleep(400 * time.Millisecond)
	close(stop)
	wg.Wait()

	for i, w := range wrong {
		if i == 10 {
			t.Errorf("… and %d more", len(wrong)-i)
			break
		}
		t.Errorf("during the restarts: %s; want ErrUnavailable", w)
	}
	if failures.Load() == 0 {
		t.Error("no call failed during the restarts: the test did not test anything")
	}
	if len(published) == 0 || len(completed) == 0 {
		t.Fatalf("acknowledged %d events and %d completions; want some of each", len(published), len(completed))
	}
	ctx := t.Context()
	for _, id := range published {
		if _, err := s.EventGet(ctx, id); err != nil {
			t.Errorf("event %s was acknowledged: got %v", id, err)
		}
	}
	// A completion's commit does not wait for the WAL (relaxedSlotTx): an
	// immediate restart may undo the last ones, which leaves their deliveries
	// pending, to be attempted again (at least once), never lost or changed
	// otherwise.
	undone := 0
	for _, id := range completed {
		d, err := s.DeliveryGet(ctx, id)
		switch {
		case err != nil:
			t.Errorf("delivery %s completed: got %v", id, err)
		case d.Status == hookline.DeliveryPending:
			undone++
		case d.Status != hookline.DeliverySucceeded:
			t.Errorf("delivery %s completed: got %+v; want it succeeded, or pending if a crash undid its completion", id, d)
		}
	}
	t.Logf("%d events and %d completions acknowledged (%d completions undone by the crashes); %d calls failed with ErrUnavailable",
		len(published), len(completed), undone, failures.Load())
}

// TestMigrateReadOnly: on a current schema Migrate only reads, so that a node
// starts while the database refuses writes (read-only here, as a standby being
// promoted is; a full disk refuses them too), and writes fail with
// ErrUnavailable, for the API to answer 503.
func TestMigrateReadOnly(t *testing.T) {
	t.Parallel()
	url := pgtest.MigratedURL(t)
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	admin := connect(t, url)
	if _, err := admin.Exec(t.Context(), "ALTER DATABASE "+pgx.Identifier{cfg.Database}.Sanitize()+
		" SET default_transaction_read_only = on"); err != nil {
		t.Fatal(err)
	}
	s := pgtest.OpenURL(t, url, newBox(t))
	if err := s.Migrate(t.Context()); err != nil {
		t.Errorf("Migrate of a current schema on a read-only database: got %v, want nil (nothing to write)", err)
	}
	if _, err := s.EventInsert(t.Context(), []store.EventInsertParams{{Event: testEvent("")}}); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("EventInsert on a read-only database: got %v, want ErrUnavailable", err)
	}
}
