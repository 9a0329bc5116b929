DROP TABLE idempotency_keys;
DROP TABLE disbursements;
DROP TABLE grant_reports;
DROP TABLE grants;
DROP TABLE grant_counters;
DROP TABLE funds;
