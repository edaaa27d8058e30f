-- The API's Idempotency-Key records (store.IdempotencyRecord): a POST made
-- with a key is claimed while it runs (status 0, token, locked_until), then
-- keeps its answer to replay until expires_at. scope is the caller's tenant
-- ('' for admin keys); request_hash and header are opaque to the store; body
-- is sealed (secrets.Box), as an answer may show a webhook secret or an API
-- key once.
CREATE TABLE idempotency_keys (
    scope        text COLLATE "C" NOT NULL,
    key          text COLLATE "C" NOT NULL,
    request_hash bytea NOT NULL,
    token        text COLLATE "C" NOT NULL,
    status       integer NOT NULL DEFAULT 0,
    header       bytea NOT NULL DEFAULT '',
    body         text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL,
    locked_until timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_expires ON idempotency_keys (expires_at);
