-- SQLite's 012 keeps counts of deliveries and attempts per webhook and slot
-- of time, so that its charts need not read every row of their window.
-- PostgreSQL's counts come in 013, sharded so that nodes do not wait on one
-- another's rows. Nothing to change here; the number keeps both drivers'
-- migrations in step.
SELECT 1;
