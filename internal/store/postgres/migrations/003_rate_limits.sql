-- API key rate limits shared by every node: one token bucket per key. "granted"
-- records whether the last take got a token, so one statement can both update
-- the bucket and report the outcome.
CREATE TABLE rate_buckets (
    id          TEXT PRIMARY KEY,
    tokens      DOUBLE PRECISION NOT NULL,
    updated_ms  BIGINT NOT NULL,
    granted     BOOLEAN NOT NULL
);
