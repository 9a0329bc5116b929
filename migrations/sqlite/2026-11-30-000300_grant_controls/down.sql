ALTER TABLE funds DROP COLUMN pending_at;
ALTER TABLE funds DROP COLUMN pending_by;
ALTER TABLE funds DROP COLUMN pending_amount;
DROP TABLE fx_rates;
DROP TABLE grant_contributors;
