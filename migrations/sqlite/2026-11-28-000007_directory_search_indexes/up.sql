-- Nothing on SQLite: it has no trigram index, and its LIKE '%term%' reads the rows left by the
-- region and focus-area indexes. The PostgreSQL migration of this name adds pg_trgm indexes.
SELECT 1;
