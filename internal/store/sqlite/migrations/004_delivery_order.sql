-- PostgreSQL's 004 orders an ordered webhook's deliveries by a sequence shared by
-- every node. SQLite serves one node whose ids are made by one process clock and
-- a monotonic counter, so their order already is the order they were stored in:
-- nothing to change; the number keeps both drivers' migrations in step.
SELECT 1;
