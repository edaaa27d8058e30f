-- Hookline schema, PostgreSQL dialect. Times are timestamptz written at
-- millisecond precision. Identifiers and names use the "C" collation: IDs sort
-- by their bytes (a ULID's text sorts like its clock), whatever the database's
-- locale, and keyset pages compare the same way as on SQLite.
-- JSON the API must give back byte for byte (event data, event type examples
-- and schemas, profile definitions) is text: jsonb would reorder keys and
-- rewrite numbers and escapes.
CREATE TABLE webhooks (
    id              text COLLATE "C" PRIMARY KEY,
    tenant          text COLLATE "C" NOT NULL,
    url             text NOT NULL,
    description     text NOT NULL DEFAULT '',
    events          jsonb NOT NULL DEFAULT '[]',
    secret          text NOT NULL,
    active          boolean NOT NULL DEFAULT true,
    profile         text COLLATE "C" NOT NULL DEFAULT 'standard',
    headers         jsonb NOT NULL DEFAULT '{}',
    metadata        jsonb NOT NULL DEFAULT '{}',
    ordered         boolean NOT NULL DEFAULT false,
    disabled_reason text NOT NULL DEFAULT '',
    failed_streak   integer NOT NULL DEFAULT 0,
    last_success_at timestamptz,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);
CREATE INDEX webhooks_tenant ON webhooks (tenant, id);
CREATE INDEX webhooks_profile ON webhooks (profile);

CREATE TABLE events (
    id              text COLLATE "C" PRIMARY KEY,
    tenant          text COLLATE "C" NOT NULL,
    type            text COLLATE "C" NOT NULL,
    data            text NOT NULL,
    idempotency_key text COLLATE "C",
    occurred_at     timestamptz NOT NULL,
    created_at      timestamptz NOT NULL
);
-- NULL keys never collide: events published without a key.
CREATE UNIQUE INDEX events_idempotency ON events (tenant, idempotency_key);
CREATE INDEX events_tenant ON events (tenant, id);
CREATE INDEX events_created ON events (created_at);

CREATE TABLE deliveries (
    id              text COLLATE "C" PRIMARY KEY,
    event_id        text COLLATE "C" NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    webhook_id      text COLLATE "C" NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    tenant          text COLLATE "C" NOT NULL,
    event_type      text COLLATE "C" NOT NULL,
    ordered         boolean NOT NULL DEFAULT false,
    status          text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed', 'cancelled')),
    attempts        integer NOT NULL DEFAULT 0,
    -- Due time of the next attempt; while leased, the lease's end. NULL once ended.
    next_attempt_at timestamptz,
    lease_token     text,
    last_status     integer NOT NULL DEFAULT 0,
    last_error      text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);
-- The claim query's two paths: unordered deliveries by due time, and the
-- ordered ones, whose webhooks it then locks one by one.
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending' AND NOT ordered;
CREATE INDEX deliveries_due_ordered ON deliveries (next_attempt_at) WHERE status = 'pending' AND ordered;
CREATE INDEX deliveries_webhook ON deliveries (webhook_id, status, id);
CREATE INDEX deliveries_event ON deliveries (event_id);
CREATE INDEX deliveries_tenant ON deliveries (tenant, id);

CREATE TABLE attempts (
    id               text COLLATE "C" PRIMARY KEY,
    delivery_id      text COLLATE "C" NOT NULL DEFAULT '',
    webhook_id       text COLLATE "C" NOT NULL,
    event_id         text COLLATE "C" NOT NULL,
    event_type       text NOT NULL,
    tenant           text COLLATE "C" NOT NULL,
    number           integer NOT NULL,
    started_at       timestamptz NOT NULL,
    duration_ms      bigint NOT NULL,
    status_code      integer NOT NULL DEFAULT 0,
    -- Headers are JSON text, not jsonb: they come from receivers, and jsonb
    -- refuses the \u0000 escape a NUL in a header value marshals to.
    request_headers  text NOT NULL DEFAULT '{}',
    response_headers text NOT NULL DEFAULT '{}',
    -- bytea: a receiver's body may hold NUL bytes, which text cannot store.
    response_body    bytea NOT NULL DEFAULT '',
    error            text NOT NULL DEFAULT ''
);
CREATE INDEX attempts_webhook ON attempts (webhook_id, id);
CREATE INDEX attempts_delivery ON attempts (delivery_id, id);
CREATE INDEX attempts_started ON attempts (started_at);

CREATE TABLE event_types (
    name        text COLLATE "C" PRIMARY KEY,
    description text NOT NULL DEFAULT '',
    example     text,
    schema      text,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);

CREATE TABLE api_keys (
    id         text COLLATE "C" PRIMARY KEY,
    name       text NOT NULL,
    scopes     jsonb NOT NULL,
    tenant     text COLLATE "C" NOT NULL DEFAULT '',
    rate_limit integer NOT NULL DEFAULT 0,
    prefix     text NOT NULL,
    hash       bytea NOT NULL UNIQUE,
    created_at timestamptz NOT NULL
);
CREATE INDEX api_keys_tenant ON api_keys (tenant, id);
