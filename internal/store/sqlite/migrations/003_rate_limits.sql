-- PostgreSQL's 003 keeps API key rate limits in the database so that they hold
-- across nodes. SQLite serves one node, whose limits live in memory: nothing to
-- change here; the number is kept so both drivers' migrations stay in step.
SELECT 1;
