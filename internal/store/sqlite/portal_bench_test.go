package sqlite

import (
	"testing"
	"time"

	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/store/storetest"
)

// BenchmarkPortal measures the queries of the tenant portal's pages on a log
// of storetest.PortalLogSize deliveries and attempts; each should take well
// under 20 ms.
//
//	go test ./internal/store/sqlite -run '^$' -bench Portal -benchtime 100x
func BenchmarkPortal(b *testing.B) {
	s := openTemp(b)
	l := storetest.NewPortalLog(time.Now())
	fillPortalLog(b, s, l)
	storetest.BenchPortal(b, s, l)
}

// fillPortalLog stores l straight into the tables, with their slot counts,
// in one transaction.
func fillPortalLog(b *testing.B, s *Store, l *storetest.PortalLog) {
	b.Helper()
	ctx := b.Context()
	for _, w := range l.Webhooks {
		if err := s.WebhookCreate(ctx, store.WebhookCreateParams{Webhook: w}); err != nil {
			b.Fatal(err)
		}
	}
	err := s.tx(ctx, func(tx wtx) error {
		for _, e := range l.Events {
			if _, err := tx.execHot(ctx, "INSERT INTO events ("+eventColumns+") VALUES (?, ?, ?, ?, NULL, ?, ?)",
				e.ID, e.Tenant, e.Type, string(e.Data), ms(e.Timestamp), ms(e.CreatedAt)); err != nil {
				return err
			}
		}
		for _, d := range l.Deliveries {
			var next any
			if d.NextAttemptAt != nil {
				next = ms(*d.NextAttemptAt)
			}
			if _, err := tx.execHot(ctx, `INSERT INTO deliveries (id, event_id, webhook_id, tenant, event_type,
				status, attempts, next_attempt_at, last_status, last_error, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, d.ID, d.EventID, d.WebhookID, d.Tenant, d.EventType,
				d.Status, d.Attempts, next, d.LastStatus, d.LastError, ms(d.CreatedAt), ms(d.UpdatedAt)); err != nil {
				return err
			}
			tx.slots.Delivery(d.ID, d.WebhookID, d.Tenant, "", d.Status)
		}
		for i := range l.Attempts {
			if err := insertAttempt(ctx, tx, &l.Attempts[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	// The pending deliveries are due in an hour: none is claimable now.
	if cs, err := s.DeliveryClaim(ctx, store.DeliveryClaimParams{Now: l.Now, LeaseUntil: l.Now.Add(time.Minute), LeaseToken: "x", Limit: 1}); err != nil || len(cs) != 0 {
		b.Fatalf("claim after filling: got %d, %v; want none", len(cs), err)
	}
}
