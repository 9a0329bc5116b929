-- Directory search: `q` is lower(col) LIKE '%term%' on name, acronym and description, which
-- no btree index can serve, so PostgreSQL read every organisation of the region (or every
-- row) to answer it. Trigram GIN indexes on exactly those expressions let it build a bitmap
-- of the candidate rows instead. pg_trgm ships with PostgreSQL; it is a trusted extension
-- (PostgreSQL 13+), so the database owner may create it, and a superuser always may.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX organisations_name_trgm ON organisations USING gin (lower(name) gin_trgm_ops);
CREATE INDEX organisations_acronym_trgm ON organisations USING gin (lower(COALESCE(acronym, '')) gin_trgm_ops);
CREATE INDEX organisations_description_trgm ON organisations USING gin (lower(COALESCE(description, '')) gin_trgm_ops);
