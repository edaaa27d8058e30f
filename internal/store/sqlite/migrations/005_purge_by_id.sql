-- Retention purges select old events and attempts by their ids, which begin
-- with the time they were made (hookline.IDAt), through the primary key: the
-- indexes on created_at and started_at served only that, and cost two B-tree
-- writes per event on the hot path.
DROP INDEX IF EXISTS events_created;
DROP INDEX IF EXISTS attempts_started;
