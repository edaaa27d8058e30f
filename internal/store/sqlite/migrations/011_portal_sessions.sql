-- Tenant portal sessions (package portal). A session is made with a
-- single-use login token, exchanged once for a session cookie; only hashes
-- of the two are kept.
CREATE TABLE portal_sessions (
    id            TEXT PRIMARY KEY,
    tenant        TEXT NOT NULL,
    capabilities  TEXT NOT NULL,          -- JSON: ["view", …]
    theme         TEXT NOT NULL DEFAULT '{}',
    locale        TEXT NOT NULL DEFAULT '',
    token_hash    BLOB NOT NULL UNIQUE,
    cookie_hash   BLOB UNIQUE,
    expires_at    INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    logged_in_at  INTEGER,
    ended_at      INTEGER
);
CREATE INDEX portal_sessions_tenant ON portal_sessions (tenant) WHERE ended_at IS NULL;
