-- The order of an ordered webhook's deliveries is the order they were stored in,
-- counted by one sequence for every node. It was their ids' order, but an id
-- begins with the clock of the node that made it: two events published one after
-- the other through two nodes could get ids the other way round (within the same
-- millisecond on one machine, within the clocks' skew across machines) and be
-- delivered out of order. A sequence number drawn after another insert committed
-- is always the larger.
CREATE SEQUENCE deliveries_seq AS bigint;
ALTER TABLE deliveries ADD COLUMN seq bigint;
-- Deliveries stored before keep their ids' order.
UPDATE deliveries d SET seq = o.n
FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM deliveries) o
WHERE d.id = o.id;
SELECT setval('deliveries_seq', coalesce((SELECT max(seq) FROM deliveries), 0) + 1, false);
ALTER TABLE deliveries ALTER COLUMN seq SET DEFAULT nextval('deliveries_seq'),
    ALTER COLUMN seq SET NOT NULL;
ALTER SEQUENCE deliveries_seq OWNED BY deliveries.seq;
-- The claim's test for an older pending delivery of the same webhook.
CREATE INDEX deliveries_webhook_seq ON deliveries (webhook_id, status, seq);
