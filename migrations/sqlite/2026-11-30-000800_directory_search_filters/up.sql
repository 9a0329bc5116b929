-- Nothing on SQLite: the filter array of this migration is PostgreSQL's (a GIN index over
-- an array has no SQLite counterpart). SQLite searches are driven by the FTS5 indexes and
-- test the filters on the candidates they find (directory::search::filter). The migration
-- exists on both backends so that their histories keep the same names.
SELECT 1;
