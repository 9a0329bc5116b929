-- Each organisation's primary contact: the one member user who invites colleagues and hands
-- the role over. One row per organisation, and a user is the contact of one at most.
CREATE TABLE organisation_primary_contacts (
    organisation_id TEXT PRIMARY KEY NOT NULL REFERENCES organisations (id),
    user_id TEXT NOT NULL UNIQUE REFERENCES users (id),
    updated_at TIMESTAMP NOT NULL
);
