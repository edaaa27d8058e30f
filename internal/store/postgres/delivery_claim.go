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
// another of its ordered deliveries is leased. A statement's snapshot may
// predate another claim's commit, so a claim first locks the webhook rows whose
// head is due (FOR NO KEY UPDATE SKIP LOCKED: a webhook
// another claim is busy with is skipped), and only then, in a new statement and
// so a new snapshot that sees every earlier claim of those webhooks, leases the
// heads. Claims of one ordered webhook are thus serialised, and two concurrent
// claims can never both take one of its deliveries.

// orderedHeadsCTE names, as heads(webhook_id, id, next_attempt_at), the oldest
// pending delivery of each webhook that has ordered deliveries pending, when
// that head is itself ordered and due at $1. The webhooks are walked one index
// seek at a time (a recursive CTE over deliveries_ordered_pending, migration
// 006), so its cost does not grow with the depth of a webhook's backlog.
const orderedHeadsCTE = `WITH RECURSIVE owh(webhook_id) AS (
	(SELECT webhook_id FROM deliveries WHERE status = 'pending' AND ordered ORDER BY webhook_id LIMIT 1)
	UNION ALL
	SELECT n.webhook_id FROM owh, LATERAL (
		SELECT webhook_id FROM deliveries
		WHERE status = 'pending' AND ordered AND webhook_id > owh.webhook_id
		ORDER BY webhook_id LIMIT 1) n
), heads AS (
	SELECT h.webhook_id, h.id, h.next_attempt_at FROM owh, LATERAL (
		SELECT d.webhook_id, d.id, d.ordered, d.next_attempt_at FROM deliveries d
		WHERE d.webhook_id = owh.webhook_id AND d.status = 'pending'
		ORDER BY d.seq LIMIT 1) h
	WHERE h.ordered AND h.next_attempt_at <= $1
)`

// lockOrderedSQL locks up to $2 webhooks whose oldest pending delivery is ordered
// and due at $1, oldest due first.
const lockOrderedSQL = orderedHeadsCTE + `
SELECT w.id FROM webhooks w JOIN heads ON heads.webhook_id = w.id
ORDER BY heads.next_attempt_at
LIMIT $2
FOR NO KEY UPDATE OF w SKIP LOCKED`

// claimOrderedSQL leases, until $2 with token $3, the due heads of the webhooks
// $4 (locked by this transaction) unless another ordered delivery of theirs
// holds a live lease (a head before a retried older delivery). A head whose row another transaction
// holds is skipped, not replaced by the next delivery: the order stands.
var claimOrderedSQL = orderedHeadsCTE + `, due AS (
	SELECT d.id FROM deliveries d JOIN heads ON heads.id = d.id
	WHERE heads.webhook_id = ANY($4) AND d.status = 'pending'
	  AND NOT EXISTS (SELECT FROM deliveries o
		WHERE o.webhook_id = d.webhook_id AND o.status = 'pending' AND o.ordered AND o.id <> d.id
		  AND o.lease_token IS NOT NULL AND o.next_attempt_at > $1)
	FOR UPDATE OF d SKIP LOCKED
)
UPDATE deliveries d SET next_attempt_at = $2, lease_token = $3, updated_at = $1
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
			if out, err = claimRows(ctx, tx, out, p.LeaseToken, claimOrderedSQL, now, until, p.LeaseToken, webhooks); err != nil {
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
