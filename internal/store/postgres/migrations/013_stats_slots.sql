-- Counts of deliveries and attempts per webhook and slot of time, as SQLite's
-- 012 keeps them, for the charts and health of the console and the portal
-- (store.DeliveryStats, AttemptStats, WebhookHealth): reading every row of
-- their window took 22 to 50 ms a query on a day of a busy webhook. A slot
-- is 2^15 ms (32.768 s) of the time of ids: the 7 characters after an id's
-- prefix. A stats query adds up the whole slots of its buckets and reads only
-- the rows of the slots a bucket's bounds cut (store/postgres stats.go).
--
-- Each (webhook, slot) is split into shards, 0 to 7: a write transaction adds
-- what it changed to the rows of its own shard (its backend's pid modulo 8),
-- with its COMMIT (store/postgres slots.go). Two nodes completing
-- deliveries of one busy webhook at once then rarely wait for the same row.
-- A shard alone means nothing (a delivery published in one shard and
-- completed in another leaves -1 pending there): only the sum over shards
-- does. Purge folds the shards of the slots older than ten minutes into shard
-- 0, so that a day of the past is a row a slot to read; the partial indexes
-- find what is left to fold. Rows are counted by their current status,
-- cancelled as failed. Updates change no indexed column: with room left on
-- the page, they are HOT.
CREATE TABLE delivery_slots (
    webhook_id text COLLATE "C" NOT NULL,
    slot       text COLLATE "C" NOT NULL,
    shard      smallint NOT NULL,
    tenant     text COLLATE "C" NOT NULL,
    pending    integer NOT NULL DEFAULT 0,
    succeeded  integer NOT NULL DEFAULT 0,
    failed     integer NOT NULL DEFAULT 0,
    PRIMARY KEY (webhook_id, slot, shard)
) WITH (fillfactor = 70);
CREATE INDEX delivery_slots_tenant ON delivery_slots (tenant, slot);
CREATE INDEX delivery_slots_slot ON delivery_slots (slot);
CREATE INDEX delivery_slots_sharded ON delivery_slots (slot) WHERE shard <> 0;

-- Attempts succeed with no error and a 2xx status. Those of deleted webhooks
-- are not counted.
CREATE TABLE attempt_slots (
    webhook_id  text COLLATE "C" NOT NULL,
    slot        text COLLATE "C" NOT NULL,
    shard       smallint NOT NULL,
    tenant      text COLLATE "C" NOT NULL,
    succeeded   integer NOT NULL DEFAULT 0,
    failed      integer NOT NULL DEFAULT 0,
    latency_sum bigint NOT NULL DEFAULT 0,
    latency_max bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (webhook_id, slot, shard)
) WITH (fillfactor = 70);
CREATE INDEX attempt_slots_tenant ON attempt_slots (tenant, slot);
CREATE INDEX attempt_slots_slot ON attempt_slots (slot);
CREATE INDEX attempt_slots_sharded ON attempt_slots (slot) WHERE shard <> 0;

-- The counts of the rows there are, in shard 0. Nodes that run this
-- migration write nothing until it is done (Migrate); nodes of an older
-- version would not keep the counts: stop them before upgrading.
INSERT INTO delivery_slots (webhook_id, slot, shard, tenant, pending, succeeded, failed)
SELECT webhook_id, substr(id, strpos(id, '_') + 1, 7), 0, min(tenant),
    count(*) FILTER (WHERE status = 'pending'), count(*) FILTER (WHERE status = 'succeeded'),
    count(*) FILTER (WHERE status IN ('failed', 'cancelled'))
FROM deliveries GROUP BY 1, 2;
INSERT INTO attempt_slots (webhook_id, slot, shard, tenant, succeeded, failed, latency_sum, latency_max)
SELECT webhook_id, substr(id, strpos(id, '_') + 1, 7), 0, min(tenant),
    count(*) FILTER (WHERE error = '' AND status_code BETWEEN 200 AND 299),
    count(*) FILTER (WHERE NOT (error = '' AND status_code BETWEEN 200 AND 299)),
    sum(duration_ms), max(duration_ms)
FROM attempts WHERE webhook_id IN (SELECT id FROM webhooks) GROUP BY 1, 2;
ANALYZE delivery_slots, attempt_slots;
