DROP TABLE payment_run_lines;
DROP TABLE payment_runs;
ALTER TABLE disbursements DROP COLUMN bank_account_id;
DROP TABLE bank_accounts;
