-- Budgets and results of a grant (issue 25): its budget lines, the revisions of an approved
-- budget, the actual spend a financial report gives per line, the grant's indicators and the
-- actual each narrative report gives for them. Money in minor units of the grant's currency.
CREATE TABLE budget_lines (
    id TEXT PRIMARY KEY NOT NULL,
    grant_id TEXT NOT NULL REFERENCES grants (id),
    position INTEGER NOT NULL,
    category TEXT NOT NULL,
    description TEXT NOT NULL,
    amount BIGINT NOT NULL CHECK (amount >= 0),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX budget_lines_grant ON budget_lines (grant_id, position);

-- A change of an approved budget: applied at once within the tolerance, else pending until an
-- officer other than its proposer approves or rejects it. Lines as JSON (before, proposed).
CREATE TABLE budget_revisions (
    id TEXT PRIMARY KEY NOT NULL,
    grant_id TEXT NOT NULL REFERENCES grants (id),
    status TEXT NOT NULL,
    reason TEXT NOT NULL,
    largest_share_basis_points BIGINT NOT NULL,
    before_json TEXT NOT NULL,
    proposed_json TEXT NOT NULL,
    proposed_by TEXT NOT NULL REFERENCES users (id),
    proposed_at TIMESTAMP NOT NULL,
    decided_by TEXT REFERENCES users (id),
    decided_at TIMESTAMP,
    decision_reason TEXT
);
CREATE INDEX budget_revisions_grant ON budget_revisions (grant_id, status);

CREATE TABLE report_actuals (
    id TEXT PRIMARY KEY NOT NULL,
    report_id TEXT NOT NULL REFERENCES grant_reports (id),
    budget_line_id TEXT NOT NULL REFERENCES budget_lines (id),
    amount BIGINT NOT NULL CHECK (amount >= 0),
    UNIQUE (report_id, budget_line_id)
);

CREATE TABLE grant_indicators (
    id TEXT PRIMARY KEY NOT NULL,
    grant_id TEXT NOT NULL REFERENCES grants (id),
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    unit TEXT NOT NULL,
    baseline TEXT NOT NULL,
    target TEXT NOT NULL,
    pillar TEXT NOT NULL,
    priority_area TEXT NOT NULL
);
CREATE INDEX grant_indicators_grant ON grant_indicators (grant_id, position);

CREATE TABLE indicator_results (
    id TEXT PRIMARY KEY NOT NULL,
    report_id TEXT NOT NULL REFERENCES grant_reports (id),
    indicator_id TEXT NOT NULL REFERENCES grant_indicators (id),
    actual TEXT NOT NULL,
    note TEXT NOT NULL,
    UNIQUE (report_id, indicator_id)
);
