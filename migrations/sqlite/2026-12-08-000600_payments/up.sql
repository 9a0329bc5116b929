-- Issue 24, money out the door: payee bank accounts under change control, payment runs.
--
-- A payee bank account of an organisation. The account number (an IBAN, or a local account
-- number where IBAN does not exist) is sealed with the at-rest key ring, bound to this row;
-- only its last four characters are kept in clear, for masking. An account is proposed, then
-- confirmed by a second person (finance), and usable from `usable_from` (the cooling-off
-- period); it is never edited, only retired or replaced.
CREATE TABLE bank_accounts (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    holder_name TEXT NOT NULL,
    currency TEXT NOT NULL,
    scheme TEXT NOT NULL CHECK (scheme IN ('iban', 'local')),
    number_sealed BLOB NOT NULL,
    number_last4 TEXT NOT NULL,
    bic TEXT NOT NULL,
    bank_name TEXT,
    bank_country TEXT,
    status TEXT NOT NULL CHECK (status IN ('proposed', 'confirmed', 'retired')),
    replaces_id TEXT REFERENCES bank_accounts (id),
    proposed_by TEXT NOT NULL,
    proposed_at TIMESTAMP NOT NULL,
    confirmed_by TEXT,
    confirmed_at TIMESTAMP,
    usable_from TIMESTAMP,
    retired_by TEXT,
    retired_at TIMESTAMP
);
CREATE INDEX bank_accounts_organisation ON bank_accounts (organisation_id, id);

-- Where a tranche was paid to (null for payments recorded before accounts existed).
ALTER TABLE disbursements ADD COLUMN bank_account_id TEXT;

-- A batch of approved tranches in one currency: prepared by finance, approved by another
-- finance officer, exported as pain.001 and CSV, then recorded paid.
CREATE TABLE payment_runs (
    id TEXT PRIMARY KEY NOT NULL,
    currency TEXT NOT NULL,
    value_date DATE NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('prepared', 'approved', 'completed')),
    line_count INTEGER NOT NULL CHECK (line_count > 0),
    control_sum BIGINT NOT NULL CHECK (control_sum > 0),
    prepared_by TEXT NOT NULL,
    prepared_at TIMESTAMP NOT NULL,
    approved_by TEXT,
    approved_at TIMESTAMP,
    completed_by TEXT,
    completed_at TIMESTAMP
);

-- One line per tranche. A tranche is in at most one open line: the partial unique index makes
-- a second run that gathers it fail at its insert, whatever runs at the same time.
CREATE TABLE payment_run_lines (
    id TEXT PRIMARY KEY NOT NULL,
    run_id TEXT NOT NULL REFERENCES payment_runs (id),
    line_no INTEGER NOT NULL,
    disbursement_id TEXT NOT NULL REFERENCES disbursements (id),
    bank_account_id TEXT NOT NULL REFERENCES bank_accounts (id),
    amount BIGINT NOT NULL CHECK (amount > 0),
    reference TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'paid', 'returned')),
    bank_reference TEXT,
    paid_on DATE,
    return_reason TEXT
);
CREATE INDEX payment_run_lines_run ON payment_run_lines (run_id, line_no);
CREATE UNIQUE INDEX payment_run_lines_one_open ON payment_run_lines (disbursement_id) WHERE status = 'pending';
