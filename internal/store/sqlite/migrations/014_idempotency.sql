-- The API's Idempotency-Key records (store.IdempotencyRecord): a POST made
-- with a key is claimed while it runs (status 0, token, locked_until), then
-- keeps its answer to replay until expires_at. scope is the caller's tenant
-- ('' for admin keys); request_hash and header are opaque to the store; body
-- is sealed (secrets.Box), as an answer may show a webhook secret or an API
-- key once. Times are unix milliseconds.
CREATE TABLE idempotency_keys (
    scope        TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash BLOB NOT NULL,
    token        TEXT NOT NULL,
    status       INTEGER NOT NULL DEFAULT 0,
    header       BLOB NOT NULL DEFAULT x'',
    body         TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    locked_until INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_expires ON idempotency_keys (expires_at);
