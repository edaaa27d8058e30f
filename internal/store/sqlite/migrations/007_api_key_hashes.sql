-- API keys are hashed with a server-side pepper (HMAC-SHA256, apikey.Hasher):
-- hash_version 0 marks the bare SHA-256 hashes of earlier versions, which the
-- server rehashes when it starts. Display prefixes keep only the format prefix
-- and four characters ("hl_3xQa"); a key chosen by the operator shows none.
ALTER TABLE api_keys ADD COLUMN hash_version INTEGER NOT NULL DEFAULT 0;
UPDATE api_keys SET prefix = CASE WHEN substr(prefix, 1, 3) = 'hl_' THEN substr(prefix, 1, 7) ELSE '' END;
