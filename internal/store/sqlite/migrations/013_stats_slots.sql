-- PostgreSQL's 013 keeps its own counts per webhook and slot of time, like
-- SQLite's 012, with a shard per connection. SQLite has one writer and its
-- counts already: nothing to change; the number keeps both drivers'
-- migrations in step.
SELECT 1;
