-- Wire-format profiles created through the API (built-in and file profiles live
-- in memory), and the secret a webhook rotated away from, kept for a grace period.
CREATE TABLE profiles (
    name        TEXT PRIMARY KEY,
    definition  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

ALTER TABLE webhooks ADD COLUMN previous_secret TEXT;
ALTER TABLE webhooks ADD COLUMN previous_secret_until INTEGER;
