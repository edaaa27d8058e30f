-- Counts of deliveries and attempts per webhook and slot of time, for the
-- charts and health of the console and the portal (store.DeliveryStats,
-- AttemptStats, WebhookHealth), which would otherwise read every row of their
-- window: a day of a busy webhook is 100,000 rows, too many for a page. A
-- slot is 2^15 ms (32.768 s) of the time of ids: the first 7 characters after
-- an id's prefix. The driver keeps the counts in the transactions that
-- change the rows (sqlite/slots.go); a stats query adds up the whole slots
-- of its buckets and reads only the rows of the slots a bucket's bounds cut.
-- Deliveries count by their current status, cancelled as failed.
CREATE TABLE delivery_slots (
    webhook_id TEXT NOT NULL,
    slot       TEXT NOT NULL,
    tenant     TEXT NOT NULL,
    pending    INTEGER NOT NULL DEFAULT 0,
    succeeded  INTEGER NOT NULL DEFAULT 0,
    failed     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (webhook_id, slot)
) WITHOUT ROWID;
CREATE INDEX delivery_slots_tenant ON delivery_slots (tenant, slot);
CREATE INDEX delivery_slots_slot ON delivery_slots (slot);
INSERT INTO delivery_slots (webhook_id, slot, tenant, pending, succeeded, failed)
SELECT webhook_id, substr(id, 5, 7), min(tenant), sum(status = 'pending'), sum(status = 'succeeded'),
    sum(status IN ('failed', 'cancelled'))
FROM deliveries GROUP BY webhook_id, substr(id, 5, 7);

-- Attempts succeed with no error and a 2xx status. Those of deleted webhooks
-- are not counted.
CREATE TABLE attempt_slots (
    webhook_id  TEXT NOT NULL,
    slot        TEXT NOT NULL,
    tenant      TEXT NOT NULL,
    succeeded   INTEGER NOT NULL DEFAULT 0,
    failed      INTEGER NOT NULL DEFAULT 0,
    latency_sum INTEGER NOT NULL DEFAULT 0,
    latency_max INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (webhook_id, slot)
) WITHOUT ROWID;
CREATE INDEX attempt_slots_tenant ON attempt_slots (tenant, slot);
CREATE INDEX attempt_slots_slot ON attempt_slots (slot);
INSERT INTO attempt_slots (webhook_id, slot, tenant, succeeded, failed, latency_sum, latency_max)
SELECT webhook_id, substr(id, 5, 7), min(tenant), sum(error = '' AND status_code BETWEEN 200 AND 299),
    sum(NOT (error = '' AND status_code BETWEEN 200 AND 299)), sum(duration_ms), max(duration_ms)
FROM attempts WHERE webhook_id IN (SELECT id FROM webhooks) GROUP BY webhook_id, substr(id, 5, 7);
