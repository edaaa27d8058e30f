-- SQLite's 012 keeps counts of deliveries and attempts per webhook and slot
-- of time, so that its charts need not read every row of their window.
-- PostgreSQL reads the rows, bucket by bucket through the id indexes
-- (store/postgres AttemptStats): counts kept on write would be rows that
-- every node's transactions for a webhook update, which would serialise
-- them. Nothing to change; the number keeps both drivers' migrations in step.
SELECT 1;
