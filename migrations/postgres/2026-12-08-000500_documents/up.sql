-- Documents: one row per stored version of a file attached to a grant, report, tranche,
-- organisation or membership application. The bytes live in the object store, encrypted;
-- the row keeps what opens them (key id, nonce prefix) and what checks them (size, SHA-256).
CREATE TABLE documents (
    id TEXT PRIMARY KEY NOT NULL,
    document_id TEXT NOT NULL,
    version INTEGER NOT NULL CHECK (version >= 1),
    parent_type TEXT NOT NULL CHECK (parent_type IN ('grant', 'report', 'disbursement', 'organisation', 'membership_application')),
    parent_id TEXT NOT NULL,
    organisation_id TEXT REFERENCES organisations (id),
    kind TEXT NOT NULL,
    title TEXT,
    file_name TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL CHECK (size_bytes >= 0),
    sha256 TEXT NOT NULL,
    storage_key TEXT NOT NULL UNIQUE,
    key_id TEXT NOT NULL,
    nonce_prefix TEXT NOT NULL,
    uploaded_by TEXT NOT NULL REFERENCES users (id),
    uploaded_at TIMESTAMP NOT NULL,
    superseded_at TIMESTAMP,
    UNIQUE (document_id, version)
);
CREATE INDEX documents_parent ON documents (parent_type, parent_id);
CREATE INDEX documents_organisation ON documents (organisation_id);
