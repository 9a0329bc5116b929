-- A member asks the secretariat to renew its organisation's membership. At most one request
-- per organisation is open at a time (the partial unique index makes two concurrent asks
-- one 201 and one 409); an admin's membership decision closes it.
CREATE TABLE membership_renewal_requests (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    requested_by TEXT NOT NULL REFERENCES users (id),
    status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    created_at TIMESTAMP NOT NULL,
    closed_at TIMESTAMP
);
CREATE UNIQUE INDEX membership_renewal_requests_one_open
    ON membership_renewal_requests (organisation_id) WHERE status = 'open';
