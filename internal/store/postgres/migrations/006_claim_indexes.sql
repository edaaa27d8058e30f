-- SQLite's 006 reorganises its claim indexes. PostgreSQL's claim already has
-- separate partial indexes for ordered and unordered due deliveries (001); the
-- number keeps both drivers' migrations in step.
SELECT 1;
