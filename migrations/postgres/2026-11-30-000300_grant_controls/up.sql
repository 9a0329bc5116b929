-- Four eyes on grants: everyone who wrote a grant (created it, edited its amount, grantee,
-- currency or rate, or submitted it) may not approve it.
CREATE TABLE grant_contributors (
    id TEXT PRIMARY KEY NOT NULL,
    grant_id TEXT NOT NULL REFERENCES grants (id),
    user_id TEXT NOT NULL,
    contribution TEXT NOT NULL,
    occurred_at TIMESTAMP NOT NULL
);
CREATE INDEX grant_contributors_grant ON grant_contributors (grant_id, user_id);

-- Reference exchange rates kept by finance: units of the base currency per one unit of
-- `currency`, in millionths.
CREATE TABLE fx_rates (
    currency TEXT PRIMARY KEY NOT NULL,
    rate_micros BIGINT NOT NULL CHECK (rate_micros > 0),
    as_of DATE NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- A raise of a fund's amount above the threshold waits for a second person.
ALTER TABLE funds ADD COLUMN pending_amount BIGINT;
ALTER TABLE funds ADD COLUMN pending_by TEXT;
ALTER TABLE funds ADD COLUMN pending_at TIMESTAMP;
