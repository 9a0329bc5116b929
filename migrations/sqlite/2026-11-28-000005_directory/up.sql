-- The directory: profile fields, per-group visibility and membership standing of an
-- organisation, a tag table for its focus areas and languages, and membership applications.

-- Lists are kept twice on purpose: as JSON text on the row (what a profile shows, read with
-- the row, no extra query per page) and as rows of organisation_tags (what filters and facet
-- counts use, so they are indexed joins instead of a scan of JSON text). Both are written in
-- the same transaction by directory::service.
ALTER TABLE organisations ADD COLUMN acronym TEXT;
ALTER TABLE organisations ADD COLUMN city TEXT;
ALTER TABLE organisations ADD COLUMN website TEXT;
ALTER TABLE organisations ADD COLUMN description TEXT;
ALTER TABLE organisations ADD COLUMN focus_areas TEXT NOT NULL DEFAULT '[]';
ALTER TABLE organisations ADD COLUMN pillars TEXT NOT NULL DEFAULT '[]';
ALTER TABLE organisations ADD COLUMN languages TEXT NOT NULL DEFAULT '[]';
ALTER TABLE organisations ADD COLUMN public_email TEXT;
ALTER TABLE organisations ADD COLUMN contact_name TEXT;
ALTER TABLE organisations ADD COLUMN contact_email TEXT;
ALTER TABLE organisations ADD COLUMN contact_phone TEXT;
ALTER TABLE organisations ADD COLUMN social_links TEXT NOT NULL DEFAULT '[]';
ALTER TABLE organisations ADD COLUMN logo_url TEXT;
ALTER TABLE organisations ADD COLUMN founded_year INTEGER;
-- Every insert sets joined_on; the default only serves the backfill below.
ALTER TABLE organisations ADD COLUMN joined_on DATE NOT NULL DEFAULT '1970-01-01';
-- NULL for partners: membership is the standing of members only.
ALTER TABLE organisations ADD COLUMN membership_status TEXT CHECK (membership_status IN ('active', 'grace', 'lapsed', 'suspended', 'withdrawn'));
ALTER TABLE organisations ADD COLUMN membership_period_start DATE;
ALTER TABLE organisations ADD COLUMN membership_period_end DATE;
ALTER TABLE organisations ADD COLUMN visibility_profile TEXT NOT NULL DEFAULT 'public' CHECK (visibility_profile IN ('public', 'members', 'secretariat'));
ALTER TABLE organisations ADD COLUMN visibility_contact TEXT NOT NULL DEFAULT 'members' CHECK (visibility_contact IN ('public', 'members', 'secretariat'));

UPDATE organisations SET membership_status = 'active' WHERE kind = 'member';
UPDATE organisations SET joined_on = date(created_at), membership_period_start = CASE WHEN kind = 'member' THEN date(created_at) END;

-- What list, search and facets filter and sort on.
CREATE INDEX organisations_region ON organisations (region);
CREATE INDEX organisations_country ON organisations (country);
CREATE INDEX organisations_kind ON organisations (kind);
CREATE INDEX organisations_membership_status ON organisations (membership_status);
CREATE INDEX organisations_lower_name ON organisations (lower(name));
CREATE INDEX organisations_name_id ON organisations (name, id);
CREATE INDEX organisations_joined_on_id ON organisations (joined_on, id);
CREATE INDEX organisations_updated_at_id ON organisations (updated_at, id);
-- The lifecycle job looks for memberships by end date.
CREATE INDEX organisations_membership_end ON organisations (membership_period_end);

CREATE TABLE organisation_tags (
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    kind TEXT NOT NULL CHECK (kind IN ('focus_area', 'language')),
    code TEXT NOT NULL,
    PRIMARY KEY (organisation_id, kind, code)
);
CREATE INDEX organisation_tags_code ON organisation_tags (kind, code, organisation_id);

CREATE TABLE membership_applications (
    id TEXT PRIMARY KEY NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('submitted', 'under_review', 'approved', 'rejected')),
    organisation_name TEXT NOT NULL,
    country TEXT NOT NULL,
    region TEXT NOT NULL,
    website TEXT,
    description TEXT,
    focus_areas TEXT NOT NULL DEFAULT '[]',
    contact_name TEXT NOT NULL,
    contact_email TEXT NOT NULL,
    motivation TEXT NOT NULL,
    decision_reason TEXT,
    organisation_id TEXT REFERENCES organisations (id),
    decided_by TEXT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX membership_applications_status ON membership_applications (status, id);
