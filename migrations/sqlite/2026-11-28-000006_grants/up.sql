-- Onward grants: funds from donors, grants to partners, their tranches and reports, plus the
-- idempotency keys of money-moving POSTs. Every counter that protects money carries a CHECK
-- as a last line of defence behind the conditional UPDATEs in grants/service.rs.
CREATE TABLE funds (
    id TEXT PRIMARY KEY NOT NULL,
    donor_organisation_id TEXT NOT NULL REFERENCES organisations (id),
    title TEXT NOT NULL,
    reference TEXT NOT NULL,
    currency TEXT NOT NULL,
    amount BIGINT NOT NULL CHECK (amount > 0),
    awarded BIGINT NOT NULL DEFAULT 0 CHECK (awarded >= 0),
    disbursed BIGINT NOT NULL DEFAULT 0,
    starts_on DATE NOT NULL,
    ends_on DATE NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'closed')),
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    CHECK (awarded <= amount),
    CHECK (ends_on >= starts_on)
);
CREATE INDEX funds_donor ON funds (donor_organisation_id);

-- One row per year; the grant reference number is taken from it inside the create transaction.
CREATE TABLE grant_counters (
    year INTEGER PRIMARY KEY NOT NULL,
    last_number BIGINT NOT NULL
);

CREATE TABLE grants (
    id TEXT PRIMARY KEY NOT NULL,
    reference TEXT NOT NULL UNIQUE,
    year INTEGER NOT NULL,
    fund_id TEXT NOT NULL REFERENCES funds (id),
    grantee_organisation_id TEXT NOT NULL REFERENCES organisations (id),
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    pillar TEXT NOT NULL CHECK (pillar IN ('networking_communications', 'building_evidence', 'international_advocacy', 'regional_national_advocacy', 'capacity_strengthening')),
    priority_areas TEXT NOT NULL,
    currency TEXT NOT NULL,
    amount BIGINT NOT NULL CHECK (amount > 0),
    fx_rate_micros BIGINT,
    fx_rate_date DATE,
    fund_currency TEXT NOT NULL,
    amount_in_fund_currency BIGINT NOT NULL CHECK (amount_in_fund_currency > 0),
    committed BIGINT NOT NULL DEFAULT 0,
    paid BIGINT NOT NULL DEFAULT 0,
    planned_start DATE NOT NULL,
    planned_end DATE NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'submitted', 'approved', 'active', 'closed', 'rejected', 'cancelled')),
    created_by TEXT NOT NULL,
    submitted_at TIMESTAMP,
    approved_by TEXT,
    approved_at TIMESTAMP,
    decision_reason TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    CHECK (committed >= 0 AND committed <= amount),
    CHECK (paid >= 0 AND paid <= committed),
    CHECK (planned_end >= planned_start),
    CHECK ((fx_rate_micros IS NULL) = (fx_rate_date IS NULL))
);
CREATE INDEX grants_fund ON grants (fund_id);
CREATE INDEX grants_grantee ON grants (grantee_organisation_id);
CREATE INDEX grants_status ON grants (status);

CREATE TABLE grant_reports (
    id TEXT PRIMARY KEY NOT NULL,
    grant_id TEXT NOT NULL REFERENCES grants (id),
    kind TEXT NOT NULL CHECK (kind IN ('narrative', 'financial')),
    title TEXT NOT NULL,
    due_on DATE NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('due', 'submitted', 'accepted', 'returned')),
    summary TEXT,
    document_url TEXT,
    submitted_by TEXT,
    submitted_at TIMESTAMP,
    decided_by TEXT,
    decided_at TIMESTAMP,
    return_reason TEXT,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX grant_reports_grant ON grant_reports (grant_id);
CREATE INDEX grant_reports_due ON grant_reports (status, due_on);

CREATE TABLE disbursements (
    id TEXT PRIMARY KEY NOT NULL,
    grant_id TEXT NOT NULL REFERENCES grants (id),
    amount BIGINT NOT NULL CHECK (amount > 0),
    planned_date DATE NOT NULL,
    note TEXT NOT NULL,
    requires_report_id TEXT REFERENCES grant_reports (id),
    status TEXT NOT NULL CHECK (status IN ('requested', 'approved', 'rejected', 'cancelled', 'paid', 'reversed')),
    approvals_required INTEGER NOT NULL CHECK (approvals_required IN (1, 2)),
    requested_by TEXT NOT NULL,
    approver_1 TEXT,
    approved_1_at TIMESTAMP,
    approver_2 TEXT,
    approved_2_at TIMESTAMP,
    decided_by TEXT,
    decision_reason TEXT,
    payment_reference TEXT,
    paid_on DATE,
    paid_by TEXT,
    paid_at TIMESTAMP,
    reversal_reason TEXT,
    reversed_by TEXT,
    reversed_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK (approver_1 IS NULL OR approver_1 <> requested_by),
    CHECK (approver_2 IS NULL OR (approver_2 <> requested_by AND approver_2 <> approver_1))
);
CREATE INDEX disbursements_grant ON disbursements (grant_id);
CREATE INDEX disbursements_status ON disbursements (status);

CREATE TABLE idempotency_keys (
    caller_id TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    method_path TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    completed BOOLEAN NOT NULL DEFAULT FALSE,
    status_code INTEGER,
    location TEXT,
    response_body TEXT,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (caller_id, idem_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
