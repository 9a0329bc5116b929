DROP TABLE organisation_slug_history;
DROP INDEX organisations_partner_type;
CREATE TABLE organisation_tags_old (
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    kind TEXT NOT NULL CHECK (kind IN ('focus_area', 'language')),
    code TEXT NOT NULL,
    PRIMARY KEY (organisation_id, kind, code)
);
INSERT INTO organisation_tags_old SELECT organisation_id, kind, code FROM organisation_tags WHERE kind <> 'pillar';
DROP TABLE organisation_tags;
ALTER TABLE organisation_tags_old RENAME TO organisation_tags;
CREATE INDEX organisation_tags_code ON organisation_tags (kind, code, organisation_id);
DROP TRIGGER organisation_search_au;
DROP TRIGGER organisation_search_ad;
DROP TRIGGER organisation_search_ai;
DROP TABLE organisation_search_profile;
DROP TABLE organisation_search_name;
DROP TABLE organisation_search;
