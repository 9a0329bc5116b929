-- Open data: organisation identifiers from org-id.guide, and how a fund is published.
-- An organisation's identifiers are stored as a JSON list on its row (every answer and audit
-- snapshot carries them) and as lookup rows (what the directory's identifier= filter uses),
-- both written in the same transaction by directory::identifiers.
ALTER TABLE organisations ADD COLUMN identifiers TEXT NOT NULL DEFAULT '[]';

CREATE TABLE organisation_identifiers (
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    scheme TEXT NOT NULL,
    identifier TEXT NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (organisation_id, position)
);
CREATE INDEX organisation_identifiers_identifier ON organisation_identifiers (identifier, organisation_id);

-- Whether a donor fund is published in the 360Giving package as an incoming grant (with its
-- regrantType), and the donor's IATI activity it comes from (IATI related-activity).
CREATE TABLE fund_publications (
    fund_id TEXT PRIMARY KEY NOT NULL REFERENCES funds (id),
    publish_incoming BOOLEAN NOT NULL DEFAULT FALSE,
    regrant_type TEXT NOT NULL DEFAULT 'FRG010' CHECK (regrant_type IN ('FRG010', 'FRG020', 'FRG030', 'FRG040', 'FRG050', 'FRG060', 'FRG070')),
    donor_activity_id TEXT,
    updated_by TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
