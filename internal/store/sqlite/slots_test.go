package sqlite

import (
	"reflect"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

// The slot counts kept on each write are those migration 012 counts from the
// rows: after a workload of every kind of write, dropping them and applying
// 012 again gives the same counts.
func TestSlotsAreWhatMigrationCounts(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Millisecond)
	var whs []*hookline.Webhook
	for _, tenant := range []string{"acme", "acme", "globex", "acme"} {
		w := newWebhook(tenant, "whsec_x")
		if err := s.WebhookCreate(ctx, store.WebhookCreateParams{Webhook: w}); err != nil {
			t.Fatal(err)
		}
		whs = append(whs, w)
	}
	var ps []store.EventInsertParams
	for i := range 300 {
		at := now.Add(-2 * time.Hour).Add(time.Duration(i*i) * 80 * time.Millisecond)
		w := whs[i%len(whs)]
		ev := &hookline.Event{ID: hookline.NewIDAt(hookline.PrefixEvent, at), Tenant: w.Tenant, Type: "order.created",
			Data: []byte(`{}`), Timestamp: at, CreatedAt: at}
		ps = append(ps, store.EventInsertParams{Event: ev, Deliveries: []store.DeliveryInsert{
			{ID: hookline.NewIDAt(hookline.PrefixDelivery, at), WebhookID: w.ID, NextAttemptAt: now}}})
	}
	if _, err := s.EventInsert(ctx, ps); err != nil {
		t.Fatal(err)
	}
	cs, err := s.DeliveryClaim(ctx, store.DeliveryClaimParams{Now: now, LeaseUntil: now.Add(time.Hour), LeaseToken: "A", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var done []store.DeliveryCompleteParams
	for i, c := range cs {
		d := c.Delivery
		p := store.DeliveryCompleteParams{DeliveryLease: store.DeliveryLease{ID: d.ID, LeaseToken: "A"}, WebhookID: d.WebhookID, Now: now}
		a := &hookline.Attempt{ID: hookline.NewIDAt(hookline.PrefixAttempt, d.CreatedAt.Add(time.Duration(i)*time.Second)),
			DeliveryID: d.ID, WebhookID: d.WebhookID, EventID: d.EventID, EventType: d.EventType, Tenant: d.Tenant,
			Number: 1, StartedAt: d.CreatedAt, DurationMS: int64(i % 300)}
		switch i % 4 {
		case 0:
			p.Status, p.Attempt, a.StatusCode = hookline.DeliverySucceeded, a, 200
		case 1:
			p.Status, p.Attempt, a.StatusCode, a.Error = hookline.DeliveryFailed, a, 500, "HTTP 500"
		case 2:
			p.Status, p.Error = hookline.DeliveryCancelled, "webhook disabled"
		default:
			p.Status, p.Attempt, p.NextAttemptAt, a.Error = hookline.DeliveryPending, a, now.Add(time.Hour), "timeout"
		}
		done = append(done, p)
	}
	if _, err := s.DeliveryComplete(ctx, done); err != nil {
		t.Fatal(err)
	}
	for i, c := range cs {
		if i%9 == 0 {
			if _, err := s.DeliveryRetry(ctx, store.DeliveryRetryParams{ID: c.Delivery.ID, Now: now}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := s.DeliveryRecover(ctx, store.DeliveryRecoverParams{WebhookID: whs[1].ID, Since: now.Add(-90 * time.Minute), Now: now}); err != nil {
		t.Fatal(err)
	}
	if err := s.WebhookDelete(ctx, whs[3].ID); err != nil {
		t.Fatal(err)
	}
	for _, w := range whs {
		a := &hookline.Attempt{ID: hookline.NewID(hookline.PrefixAttempt), WebhookID: w.ID, EventID: hookline.NewID(hookline.PrefixEvent),
			EventType: hookline.EventWebhookTest, Tenant: w.Tenant, Number: 1, StartedAt: now, DurationMS: 7, StatusCode: 204}
		if err := s.AttemptInsert(ctx, a); err != nil {
			t.Fatal(err)
		}
	}

	kept := readSlots(t, s)
	if len(kept) < 100 {
		t.Fatalf("slots after the workload: got %d rows, want many", len(kept))
	}
	for _, q := range []string{"DROP TABLE delivery_slots", "DROP TABLE attempt_slots", "DELETE FROM schema_migrations WHERE version = 12"} {
		if _, err := s.w.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if counted := readSlots(t, s); !reflect.DeepEqual(counted, kept) {
		t.Errorf("slots counted by migration 012:\n got %v\nwant %v (kept on writes)", counted, kept)
	}
}

// readSlots returns every row of both slots tables that counts anything.
func readSlots(t *testing.T, s *Store) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, q := range []string{
		`SELECT 'd ' || webhook_id || ' ' || slot, tenant || ' ' || pending || ' ' || succeeded || ' ' || failed
			FROM delivery_slots WHERE pending <> 0 OR succeeded <> 0 OR failed <> 0`,
		`SELECT 'a ' || webhook_id || ' ' || slot, tenant || ' ' || succeeded || ' ' || failed || ' ' || latency_sum || ' ' || latency_max
			FROM attempt_slots`,
	} {
		rows, err := s.r.QueryContext(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var k, v string
			if err := rows.Scan(&k, &v); err != nil {
				t.Fatal(err)
			}
			out[k] = v
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func TestSlotOf(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	first := at.UnixMilli() &^ (store.SlotMS - 1)
	cases := []struct {
		name string
		id   string
		want string
	}{
		{"first millisecond of a slot", hookline.NewIDAt(hookline.PrefixDelivery, time.UnixMilli(first)), store.SlotAt(first)},
		{"last millisecond of a slot", hookline.NewIDAt(hookline.PrefixAttempt, time.UnixMilli(first+store.SlotMS-1)), store.SlotAt(first)},
		{"first of the next", hookline.NewIDAt(hookline.PrefixDelivery, time.UnixMilli(first+store.SlotMS)), store.SlotAt(first + store.SlotMS)},
	}
	for _, c := range cases {
		if got := store.SlotOf(c.id); got != c.want || len(got) != store.SlotChars {
			t.Errorf("slotOf %s (%s): got %q, want %q", c.name, c.id, got, c.want)
		}
	}
	if store.SlotAt(first) >= store.SlotAt(first+store.SlotMS) || store.SlotAt(first) != store.SlotAt(first+store.SlotMS-1) {
		t.Errorf("slotAt: %q, %q, %q: want one slot of %d ms, ordered", store.SlotAt(first), store.SlotAt(first+store.SlotMS-1), store.SlotAt(first+store.SlotMS), store.SlotMS)
	}
}
