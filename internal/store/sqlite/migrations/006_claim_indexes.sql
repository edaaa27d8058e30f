-- Claims take due unordered deliveries from their own index, and find each
-- ordered webhook's head by seeking from webhook to webhook, so that neither
-- scans an ordered backlog (store/sqlite DeliveryClaim). The ordered indexes hold
-- only ordered rows: publishing unordered deliveries does not maintain them.
DROP INDEX IF EXISTS deliveries_due;
CREATE INDEX deliveries_due_unordered ON deliveries (next_attempt_at) WHERE status = 'pending' AND ordered = 0;
CREATE INDEX deliveries_ordered_pending ON deliveries (webhook_id, id) WHERE status = 'pending' AND ordered = 1;
CREATE INDEX deliveries_ordered_leased ON deliveries (webhook_id) WHERE status = 'pending' AND ordered = 1 AND lease_token IS NOT NULL;
