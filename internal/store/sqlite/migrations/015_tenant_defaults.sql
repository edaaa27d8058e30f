-- Per-tenant defaults (hookline.TenantDefaults): the profile a webhook created
-- without "profile" gets in that tenant. No row: the server's default.
CREATE TABLE tenant_defaults (
    tenant      TEXT PRIMARY KEY,
    profile     TEXT NOT NULL,
    updated_at  INTEGER NOT NULL
);
