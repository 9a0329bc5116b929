ALTER TABLE funds DROP COLUMN opening_pending;
DROP TABLE fund_raises;
DROP TABLE fx_rate_history;
