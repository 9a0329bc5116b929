DROP INDEX organisations_search_filters;
ALTER TABLE organisations DROP COLUMN search_filters;
