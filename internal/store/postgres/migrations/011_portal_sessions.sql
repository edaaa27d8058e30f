-- Tenant portal sessions (package portal). A session is made with a
-- single-use login token, exchanged once for a session cookie; only hashes
-- of the two are kept.
CREATE TABLE portal_sessions (
    id            text COLLATE "C" PRIMARY KEY,
    tenant        text COLLATE "C" NOT NULL,
    capabilities  jsonb NOT NULL,         -- ["view", …]
    theme         jsonb NOT NULL DEFAULT '{}',
    locale        text NOT NULL DEFAULT '',
    token_hash    bytea NOT NULL UNIQUE,
    cookie_hash   bytea UNIQUE,
    expires_at    timestamptz NOT NULL,
    created_at    timestamptz NOT NULL,
    logged_in_at  timestamptz,
    ended_at      timestamptz
);
CREATE INDEX portal_sessions_tenant ON portal_sessions (tenant) WHERE ended_at IS NULL;
