-- One search document per organisation (issue 12), written by directory::search::document in
-- the same transaction as every write that changes what it covers.
--
-- name_norm: name and acronym folded by the application (lower case, Latin diacritics
-- removed, punctuation as spaces); matched as a substring through a trigram index, which
-- also finds a word inside Thai text (Thai has no spaces, so no word parser splits it).
-- profile_doc: the profile group's words (city, description), folded the same way, as a
-- `simple` tsvector through `unaccent`; matched by word prefix. It is a separate column
-- because the profile group has its own visibility: the query tests it only for callers
-- who may see that group (directory::visibility::profile_visible_to).
-- unaccent and pg_trgm ship with PostgreSQL (contrib); unaccent is a trusted extension
-- (13+), so the database owner may create it, and a superuser always may.
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE organisation_search (
    organisation_id TEXT PRIMARY KEY NOT NULL REFERENCES organisations (id),
    name_norm TEXT NOT NULL,
    profile_text TEXT NOT NULL,
    profile_doc tsvector NOT NULL
);
CREATE INDEX organisation_search_name_trgm ON organisation_search USING gin (name_norm gin_trgm_ops);
CREATE INDEX organisation_search_profile ON organisation_search USING gin (profile_doc);

-- Rows written before this migration get their documents from the application at start
-- (directory::search::document::backfill), so that every document is folded by the one
-- Rust definition.

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
