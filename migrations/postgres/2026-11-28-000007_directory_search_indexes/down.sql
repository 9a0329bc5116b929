DROP INDEX organisations_description_trgm;
DROP INDEX organisations_acronym_trgm;
DROP INDEX organisations_name_trgm;
DROP EXTENSION IF EXISTS pg_trgm;
