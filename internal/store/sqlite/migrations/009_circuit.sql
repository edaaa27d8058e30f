-- A webhook whose endpoint keeps failing has its circuit opened: its backlog is
-- held (deferred until it would expire) and one delivery is tried per probe
-- interval. held_since is when the circuit opened, NULL while it is closed;
-- probe_at is when the next probe is due. Any node may run a due probe.
ALTER TABLE webhooks ADD COLUMN held_since INTEGER;
ALTER TABLE webhooks ADD COLUMN probe_at INTEGER;
CREATE INDEX webhooks_probe ON webhooks (probe_at) WHERE probe_at IS NOT NULL;
