-- A delivery its webhook could not take yet is handed back deferred: due again
-- later, its lease token set to 'deferred'. DeliveryRecall makes a webhook's
-- deferred deliveries due at once, earliest first, when a slot comes free.
CREATE INDEX deliveries_deferred ON deliveries (webhook_id, next_attempt_at) WHERE status = 'pending' AND lease_token = 'deferred';
