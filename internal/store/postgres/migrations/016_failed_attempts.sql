-- The auto-disable rule on attempts (policy.auto_disable.attempts) counts the
-- webhook's failed attempts in a row, retried or not; any success resets it.
ALTER TABLE webhooks ADD COLUMN failed_attempts integer NOT NULL DEFAULT 0;
