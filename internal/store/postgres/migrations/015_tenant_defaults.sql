-- Per-tenant defaults (hookline.TenantDefaults): the profile a webhook created
-- without "profile" gets in that tenant. No row: the server's default.
CREATE TABLE tenant_defaults (
    tenant      text COLLATE "C" PRIMARY KEY,
    profile     text COLLATE "C" NOT NULL,
    updated_at  timestamptz NOT NULL
);
