-- One search document per organisation (issue 12), written by directory::search::document in
-- the same transaction as every write that changes what it covers.
--
-- name_norm: name and acronym folded by the application (lower case, Latin diacritics
-- removed, punctuation as spaces); matched as a substring through an FTS5 `trigram` index,
-- which also finds a word inside Thai text (Thai has no spaces, so unicode61 would keep a
-- whole Thai phrase as one token). Terms under three characters fall back to LIKE.
-- profile_text: the profile group's words (city, description), folded the same way, in an
-- FTS5 table with `unicode61 remove_diacritics 2`; matched by word prefix. It is a separate
-- column because the profile group has its own visibility: the query tests it only for
-- callers who may see that group (directory::visibility::profile_visible_to).
-- doc_id is an INTEGER PRIMARY KEY so the FTS rowids survive VACUUM; triggers keep both
-- FTS tables in step with this one inside the writing transaction.
CREATE TABLE organisation_search (
    doc_id INTEGER PRIMARY KEY,
    organisation_id TEXT NOT NULL UNIQUE REFERENCES organisations (id),
    name_norm TEXT NOT NULL,
    profile_text TEXT NOT NULL
);
CREATE VIRTUAL TABLE organisation_search_name USING fts5(
    name_norm, content='organisation_search', content_rowid='doc_id', tokenize='trigram'
);
CREATE VIRTUAL TABLE organisation_search_profile USING fts5(
    profile_text, content='organisation_search', content_rowid='doc_id',
    tokenize='unicode61 remove_diacritics 2', prefix='2 3'
);
CREATE TRIGGER organisation_search_ai AFTER INSERT ON organisation_search BEGIN
    INSERT INTO organisation_search_name (rowid, name_norm) VALUES (new.doc_id, new.name_norm);
    INSERT INTO organisation_search_profile (rowid, profile_text) VALUES (new.doc_id, new.profile_text);
END;
CREATE TRIGGER organisation_search_ad AFTER DELETE ON organisation_search BEGIN
    INSERT INTO organisation_search_name (organisation_search_name, rowid, name_norm) VALUES ('delete', old.doc_id, old.name_norm);
    INSERT INTO organisation_search_profile (organisation_search_profile, rowid, profile_text) VALUES ('delete', old.doc_id, old.profile_text);
END;
CREATE TRIGGER organisation_search_au AFTER UPDATE ON organisation_search BEGIN
    INSERT INTO organisation_search_name (organisation_search_name, rowid, name_norm) VALUES ('delete', old.doc_id, old.name_norm);
    INSERT INTO organisation_search_profile (organisation_search_profile, rowid, profile_text) VALUES ('delete', old.doc_id, old.profile_text);
    INSERT INTO organisation_search_name (rowid, name_norm) VALUES (new.doc_id, new.name_norm);
    INSERT INTO organisation_search_profile (rowid, profile_text) VALUES (new.doc_id, new.profile_text);
END;

-- Rows written before this migration get their documents from the application at start
-- (directory::search::document::backfill), so that every document is folded by the one
-- Rust definition.

-- Pillars become tags like focus areas and languages, so they can be filtered and counted
-- by index. SQLite cannot alter a CHECK: the table is rebuilt.
CREATE TABLE organisation_tags_new (
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    kind TEXT NOT NULL CHECK (kind IN ('focus_area', 'language', 'pillar')),
    code TEXT NOT NULL,
    PRIMARY KEY (organisation_id, kind, code)
);
INSERT INTO organisation_tags_new SELECT organisation_id, kind, code FROM organisation_tags;
DROP TABLE organisation_tags;
ALTER TABLE organisation_tags_new RENAME TO organisation_tags;
CREATE INDEX organisation_tags_code ON organisation_tags (kind, code, organisation_id);
INSERT OR IGNORE INTO organisation_tags (organisation_id, kind, code)
SELECT o.id, 'pillar', p.value FROM organisations o, json_each(o.pillars) p;

-- Partner type is a filter now.
CREATE INDEX organisations_partner_type ON organisations (partner_type);

-- Old slugs of renamed organisations, answered with 301 to the current one.
CREATE TABLE organisation_slug_history (
    slug TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    replaced_at TIMESTAMP NOT NULL
);
CREATE INDEX organisation_slug_history_organisation ON organisation_slug_history (organisation_id);
