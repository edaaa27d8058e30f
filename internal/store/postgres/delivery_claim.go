package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/hookline/hookline/internal/store"
)

// A claim runs in one READ COMMITTED transaction. Unordered deliveries are simply
// the due rows nobody has locked: WITH … FOR UPDATE SKIP LOCKED … UPDATE …
// RETURNING, and two claims never wait for each other.
//
// Ordered deliveries need more: of an ordered webhook only the oldest pending
// delivery is due (the first stored: the lowest seq, which one sequence numbers
// for every node, unlike ids, which begin with a node's clock), and never while
// another of its deliveries is leased. A statement's snapshot may predate
// another claim's commit, so a claim first locks
// the webhook rows whose head is due (FOR NO KEY UPDATE SKIP LOCKED: a webhook
// another claim is busy with is skipped), and only then, in a new statement and
// so a new snapshot that sees every earlier claim of those webhooks, leases the
// heads. Claims of one ordered webhook are thus serialised, and two concurrent
// claims can never both take one of its deliveries.

// lockOrderedSQL locks up to $2 webhooks whose oldest pending delivery is ordered
// and due at $1, oldest due first.
const lockOrderedSQL = `SELECT w.id FROM webhooks w
JOIN (
	SELECT d.webhook_id, d.next_attempt_at FROM deliveries d
	WHERE d.status = 'pending' AND d.ordered AND d.next_attempt_at <= $1
	  AND NOT EXISTS (SELECT FROM deliveries o
		WHERE o.webhook_id = d.webhook_id AND o.status = 'pending' AND o.seq < d.seq)
) head ON head.webhook_id = w.id
ORDER BY head.next_attempt_at
LIMIT $2
FOR NO KEY UPDATE OF w SKIP LOCKED`

// claimOrderedSQL leases the due heads of the webhooks $1 (locked by this
// transaction) unless another of their deliveries holds a live lease (one
// inserted leased, or the head before a retried older delivery).
var claimOrderedSQL = `WITH due AS (
	SELECT d.id FROM deliveries d
	WHERE d.webhook_id = ANY($1) AND d.status = 'pending' AND d.ordered AND d.next_attempt_at <= $2
	  AND NOT EXISTS (SELECT FROM deliveries o
		WHERE o.webhook_id = d.webhook_id AND o.status = 'pending' AND o.seq < d.seq)
	  AND NOT EXISTS (SELECT FROM deliveries o
		WHERE o.webhook_id = d.webhook_id AND o.status = 'pending' AND o.id <> d.id
		  AND o.lease_token IS NOT NULL AND o.next_attempt_at > $2)
	FOR UPDATE SKIP LOCKED
)
UPDATE deliveries d SET next_attempt_at = $3, lease_token = $4, updated_at = $2
FROM due, events e
WHERE d.id = due.id AND e.id = d.event_id
RETURNING ` + claimedColumns

// claimUnorderedSQL leases up to $2 due unordered deliveries, oldest due first.
var claimUnorderedSQL = `WITH due AS (
	SELECT id FROM deliveries
	WHERE status = 'pending' AND NOT ordered AND next_attempt_at <= $1
	ORDER BY next_attempt_at
	LIMIT $2
	FOR UPDATE SKIP LOCKED
)
UPDATE deliveries d SET next_attempt_at = $3, lease_token = $4, updated_at = $1
FROM due, events e
WHERE d.id = due.id AND e.id = d.event_id
RETURNING ` + claimedColumns

// claimedColumns are a delivery's columns (d) followed by its event's (e).
var claimedColumns = qualify("d", deliveryColumns) + ", " + qualify("e", eventColumns)

// qualify prefixes each of a comma-separated list of columns with table.
func qualify(table, columns string) string {
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		cols[i] = table + "." + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}

// DeliveryClaim implements store.Store. Ordered heads are claimed first (at most
// one per webhook), then unordered deliveries up to the limit.
func (s *Store) DeliveryClaim(ctx context.Context, p store.DeliveryClaimParams) ([]store.ClaimedDelivery, error) {
	out := []store.ClaimedDelivery{}
	if p.Limit <= 0 {
		return out, nil
	}
	now, until := ts(p.Now), ts(p.LeaseUntil)
	err := s.tx(ctx, func(tx pgx.Tx) error {
		out = out[:0]
		rows, err := tx.Query(ctx, lockOrderedSQL, now, p.Limit)
		if err != nil {
			return err
		}
		webhooks, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		if len(webhooks) > 0 {
			if out, err = claimRows(ctx, tx, out, p.LeaseToken, claimOrderedSQL, webhooks, now, until, p.LeaseToken); err != nil {
				return err
			}
		}
		if n := p.Limit - len(out); n > 0 {
			out, err = claimRows(ctx, tx, out, p.LeaseToken, claimUnorderedSQL, now, n, until, p.LeaseToken)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: claim deliveries: %w", err)
	}
	return out, nil
}

// claimRows runs a claim statement and appends what it leased to out.
func claimRows(ctx context.Context, tx pgx.Tx, out []store.ClaimedDelivery, token, q string, args ...any) ([]store.ClaimedDelivery, error) {
	rows, err := tx.Query(ctx, q, args...)
	if err != nil {
		return out, err
	}
	defer rows.Close()
	for rows.Next() {
		c, err := scanClaimed(rows)
		if err != nil {
			return out, err
		}
		c.LeaseToken = token
		out = append(out, *c)
	}
	return out, rows.Err()
}

func scanClaimed(row scanner) (*store.ClaimedDelivery, error) {
	var c store.ClaimedDelivery
	d := &c.Delivery
	e := &c.Event
	var (
		data string
		key  *string
	)
	if err := row.Scan(&d.ID, &d.EventID, &d.WebhookID, &d.Tenant, &d.EventType, &d.Status, &d.Attempts,
		&d.NextAttemptAt, &d.LastStatus, &d.LastError, &d.CreatedAt, &d.UpdatedAt,
		&e.ID, &e.Tenant, &e.Type, &data, &key, &e.Timestamp, &e.CreatedAt); err != nil {
		return nil, err
	}
	d.NextAttemptAt = utc(d.NextAttemptAt)
	d.CreatedAt, d.UpdatedAt = d.CreatedAt.UTC(), d.UpdatedAt.UTC()
	e.Data = []byte(data)
	if key != nil {
		e.IdempotencyKey = *key
	}
	e.Timestamp, e.CreatedAt = e.Timestamp.UTC(), e.CreatedAt.UTC()
	return &c, nil
}
