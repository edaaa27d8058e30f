package postgres_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/store/postgres"
	"github.com/hookline/hookline/internal/store/postgres/pgtest"
)

type note struct{ topic, payload string }

// listener runs s.Listen until the test ends and returns its messages and a
// channel closed when Listen has returned.
func listener(t *testing.T, ctx context.Context, s *postgres.Store) (<-chan note, <-chan error) {
	t.Helper()
	notes := make(chan note, 100)
	done := make(chan error, 1)
	go func() {
		done <- s.Listen(ctx, func(topic, payload string) { notes <- note{topic, payload} })
		close(done)
	}()
	return notes, done
}

// await returns the first message matching want, failing after a few seconds.
func await(t *testing.T, notes <-chan note, want func(note) bool, what string) note {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case n := <-notes:
			if want(n) {
				return n
			}
		case <-timeout:
			t.Fatalf("waiting for %s: nothing came", what)
		}
	}
}

// ready sends pings from s until the listener hears one: only then is it
// certainly listening.
func ready(t *testing.T, s *postgres.Store, notes <-chan note) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if err := s.Notify(t.Context(), "ping", ""); err != nil {
			t.Fatalf("Notify: %v", err)
		}
		select {
		case n := <-notes:
			if n.topic == "ping" {
				return
			}
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatal("the listener never heard a ping")
}

func is(topic, payload string) func(note) bool {
	return func(n note) bool { return n.topic == topic && n.payload == payload }
}

// TestNotifyReachesOtherNodes: a message one node sends reaches the listeners of
// the others and its own; the store's own news (a retried delivery is due) is
// sent with its commit.
func TestNotifyReachesOtherNodes(t *testing.T) {
	t.Parallel()
	url := pgtest.MigratedURL(t)
	box := newBox(t)
	a, b := pgtest.OpenURL(t, url, box), pgtest.OpenURL(t, url, box)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	atB, _ := listener(t, ctx, b)
	atA, _ := listener(t, ctx, a)
	ready(t, a, atB)
	ready(t, a, atA)

	if err := a.Notify(ctx, store.TopicWebhook, "wh_1 acme"); err != nil {
		t.Fatal(err)
	}
	await(t, atB, is(store.TopicWebhook, "wh_1 acme"), "the webhook message on the other node")
	await(t, atA, is(store.TopicWebhook, "wh_1 acme"), "the webhook message on the sending node")
	if err := a.Notify(ctx, store.TopicProfile, "acme profile"); err != nil {
		t.Fatal(err)
	}
	await(t, atB, is(store.TopicProfile, "acme profile"), "the profile message")

	w := newWebhook("acme", "whsec_n")
	if err := a.WebhookCreate(ctx, store.WebhookCreateParams{Webhook: w}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	ev := &hookline.Event{ID: hookline.NewID(hookline.PrefixEvent), Tenant: "acme", Type: "t", Data: []byte(`{}`), Timestamp: now, CreatedAt: now}
	dID := hookline.NewID(hookline.PrefixDelivery)
	if _, err := a.EventInsert(ctx, []store.EventInsertParams{{Event: ev, Deliveries: []store.DeliveryInsert{
		{ID: dID, WebhookID: w.ID, NextAttemptAt: now.Add(time.Hour)}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.DeliveryRetry(ctx, store.DeliveryRetryParams{ID: dID, Now: now}); err != nil {
		t.Fatal(err)
	}
	await(t, atB, is(store.TopicWork, ""), "the work message of DeliveryRetry")

	for _, bad := range []string{"", "two words", "nul\x00"} {
		if err := a.Notify(ctx, bad, ""); err == nil {
			t.Errorf("Notify on topic %q: got nil error, want one", bad)
		}
	}
	if err := a.Notify(ctx, store.TopicWork, strings.Repeat("x", 8000)); err == nil {
		t.Error("Notify of 8000 bytes: got nil error, want one")
	}
}

// TestListenReconnects kills the listening connection on the server: Listen
// reconnects by itself, says so with TopicReconnected, and hears later messages.
func TestListenReconnects(t *testing.T) {
	t.Parallel()
	url := pgtest.MigratedURL(t)
	box := newBox(t)
	a, b := pgtest.OpenURL(t, url, box), pgtest.OpenURL(t, url, box)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	notes, _ := listener(t, ctx, b)
	ready(t, a, notes)

	admin := connect(t, url)
	for round := range 2 {
		// A backend terminated in the round before may still be listed while it
		// exits: wait until only the live listening connection is.
		deadline := time.Now().Add(10 * time.Second)
		for {
			var n int
			if err := admin.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
				WHERE datname = current_database() AND application_name = 'hookline listen'`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("round %d: %d listening connections, want 1", round, n)
			}
			time.Sleep(20 * time.Millisecond)
		}
		var killed int
		err := admin.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE datname = current_database() AND application_name = 'hookline listen'`).Scan(&killed)
		if err != nil || killed != 1 {
			t.Fatalf("round %d: terminating the listening connection: got %d, %v; want 1, nil", round, killed, err)
		}
		await(t, notes, is(store.TopicReconnected, ""), "TopicReconnected")
		ready(t, a, notes)
		if err := a.Notify(ctx, store.TopicWebhook, "after reconnection"); err != nil {
			t.Fatal(err)
		}
		await(t, notes, is(store.TopicWebhook, "after reconnection"), "a message after the reconnection")
	}
}

// TestListenReturns: Listen returns nil when its context ends or its store is
// closed, and keeps its connection while quiet (it checks it every
// SetListenCheck interval, shortened for the tests).
func TestListenReturns(t *testing.T) {
	t.Parallel()
	url := pgtest.MigratedURL(t)
	box := newBox(t)
	a, b := pgtest.OpenURL(t, url, box), pgtest.OpenURL(t, url, box)

	ctx, cancel := context.WithCancel(t.Context())
	notes, done := listener(t, ctx, b)
	ready(t, a, notes)
	time.Sleep(time.Second) // three quiet checks
	if err := a.Notify(t.Context(), "after", "quiet"); err != nil {
		t.Fatal(err)
	}
	n := await(t, notes, func(n note) bool { return n.topic != "ping" }, "a message after a quiet second")
	if n != (note{"after", "quiet"}) {
		t.Errorf("after a quiet second: got %+v, want after/quiet and no reconnection", n)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Listen after its context ended: got %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Listen did not return after its context ended")
	}

	notes, done = listener(t, t.Context(), b)
	ready(t, a, notes)
	b.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Listen after Close: got %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Listen did not return after the store was closed")
	}
}

// sqlRecorder is a pgx.QueryTracer that keeps the SQL of every statement.
type sqlRecorder struct {
	mu  sync.Mutex
	sql []string
}

func (r *sqlRecorder) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sql = append(r.sql, data.SQL)
	return ctx
}

func (r *sqlRecorder) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// TestTracerSeesThePoolOnly: Options.Tracer sees the statements of the pool
// (a Notify's among them), not those of Listen's own connection.
func TestTracerSeesThePoolOnly(t *testing.T) {
	t.Parallel()
	tr := &sqlRecorder{}
	s := pgtest.OpenWith(t, postgres.Options{Tracer: tr})
	notes, _ := listener(t, t.Context(), s)
	ready(t, s, notes)
	tr.mu.Lock()
	defer tr.mu.Unlock()
	var notifies int
	for _, q := range tr.sql {
		if strings.Contains(strings.ToUpper(q), "LISTEN") {
			t.Errorf("got %q traced, want Listen's connection left out", q)
		}
		if strings.Contains(q, "pg_notify") {
			notifies++
		}
	}
	if notifies == 0 {
		t.Errorf("got no pg_notify traced among %q, want the pings'", tr.sql)
	}
}
