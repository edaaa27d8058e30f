-- Key spaces (package keyspace): the product APIs whose keys Hookline issues
-- and verifies, and their keys. Key spaces loaded from files are not stored;
-- keys refer to key spaces by name, stored or not.
CREATE TABLE keyspaces (
    name          TEXT PRIMARY KEY,
    description   TEXT NOT NULL DEFAULT '',
    prefix        TEXT NOT NULL UNIQUE,
    permissions   TEXT NOT NULL,          -- JSON: [{"name", "description"}]
    rate_limit    TEXT,                   -- JSON: {"limit", "window", "per"}, or NULL
    key_expiry_ms INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE TABLE keys (
    id           TEXT PRIMARY KEY,
    keyspace     TEXT NOT NULL,
    tenant       TEXT NOT NULL,
    name         TEXT NOT NULL,
    start        TEXT NOT NULL,
    hash         BLOB NOT NULL UNIQUE,
    permissions  TEXT NOT NULL,           -- JSON: ["name", …]
    resources    TEXT NOT NULL DEFAULT '[]',
    meta         TEXT NOT NULL DEFAULT '{}',
    rate_limit   TEXT,
    expires_at   INTEGER,
    revoked_at   INTEGER,
    last_used_at INTEGER,
    created_at   INTEGER NOT NULL
);
CREATE INDEX keys_keyspace ON keys (keyspace, id);
CREATE INDEX keys_tenant ON keys (keyspace, tenant, id);
