-- Wire-format profiles created through the API (built-in and file profiles live
-- in memory), and the secret a webhook rotated away from, kept for a grace period.
-- A definition is text, not jsonb: it is given back byte for byte.
CREATE TABLE profiles (
    name        text COLLATE "C" PRIMARY KEY,
    definition  text NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);

ALTER TABLE webhooks ADD COLUMN previous_secret text;
ALTER TABLE webhooks ADD COLUMN previous_secret_until timestamptz;
