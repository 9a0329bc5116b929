-- One search document per organisation (issue 12), written by directory::search::document in
-- the same transaction as every write that changes what it covers. On PostgreSQL it lives on
-- the organisation's own row, so that one bitmap scan combines the text match with the
-- filters (region, kind, …) and the relevance order needs no second lookup.
--
-- search_name: name and acronym folded by the application (lower case, Latin diacritics
-- removed, punctuation as spaces); matched as a substring through a trigram index, which
-- also finds a word inside Thai text (Thai has no spaces, so no word parser splits it).
-- NULL until the application has built it (rows written before this migration are built at
-- start by directory::search::document::backfill, so that one Rust definition folds them all).
-- search_profile: the profile group's words (city, description), folded the same way, as a
-- `simple` tsvector through `unaccent`; matched by word prefix. It is a separate column
-- because the profile group has its own visibility: the query tests it only for callers
-- who may see that group (directory::visibility::profile_visible_to).
-- unaccent and pg_trgm ship with PostgreSQL (contrib); both are trusted extensions (13+), so
-- the database owner may create them, and a superuser always may.
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE EXTENSION IF NOT EXISTS pg_trgm;

ALTER TABLE organisations ADD COLUMN search_name TEXT;
ALTER TABLE organisations ADD COLUMN search_profile tsvector NOT NULL DEFAULT ''::tsvector;
CREATE INDEX organisations_search_name ON organisations USING gin (search_name gin_trgm_ops);
CREATE INDEX organisations_search_profile ON organisations USING gin (search_profile);

-- The LIKE search these served is gone; they only cost every write.
DROP INDEX organisations_name_trgm;
DROP INDEX organisations_acronym_trgm;
DROP INDEX organisations_description_trgm;

-- Pillars become tags like focus areas and languages, so they can be filtered and counted
-- by index.
ALTER TABLE organisation_tags DROP CONSTRAINT organisation_tags_kind_check;
ALTER TABLE organisation_tags ADD CONSTRAINT organisation_tags_kind_check CHECK (kind IN ('focus_area', 'language', 'pillar'));
INSERT INTO organisation_tags (organisation_id, kind, code)
SELECT DISTINCT o.id, 'pillar', p.code
FROM organisations o, jsonb_array_elements_text(o.pillars::jsonb) AS p(code);

-- Partner type is a filter now.
CREATE INDEX organisations_partner_type ON organisations (partner_type);

-- Old slugs of renamed organisations, answered with 301 to the current one.
CREATE TABLE organisation_slug_history (
    slug TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    replaced_at TIMESTAMP NOT NULL
);
CREATE INDEX organisation_slug_history_organisation ON organisation_slug_history (organisation_id);
