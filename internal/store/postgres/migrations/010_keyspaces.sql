-- Key spaces (package keyspace): the product APIs whose keys Hookline issues
-- and verifies, and their keys. Key spaces loaded from files are not stored;
-- keys refer to key spaces by name, stored or not.
CREATE TABLE keyspaces (
    name          text COLLATE "C" PRIMARY KEY,
    description   text NOT NULL DEFAULT '',
    prefix        text COLLATE "C" NOT NULL UNIQUE,
    permissions   jsonb NOT NULL,         -- [{"name", "description"}]
    rate_limit    jsonb,                  -- {"limit", "window", "per"}, or NULL
    key_expiry_ms bigint NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);
CREATE TABLE keys (
    id           text COLLATE "C" PRIMARY KEY,
    keyspace     text COLLATE "C" NOT NULL,
    tenant       text COLLATE "C" NOT NULL,
    name         text NOT NULL,
    start        text NOT NULL,
    hash         bytea NOT NULL UNIQUE,
    permissions  jsonb NOT NULL,          -- ["name", …]
    resources    jsonb NOT NULL DEFAULT '[]',
    meta         jsonb NOT NULL DEFAULT '{}',
    rate_limit   jsonb,
    expires_at   timestamptz,
    revoked_at   timestamptz,
    last_used_at timestamptz,
    created_at   timestamptz NOT NULL
);
CREATE INDEX keys_keyspace ON keys (keyspace, id);
CREATE INDEX keys_tenant ON keys (keyspace, tenant, id);
