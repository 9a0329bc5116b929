-- Issue 21, money controls.
--
-- Every proposed reference rate, oldest first: a rate outside the change band (or the first
-- of a currency) waits as `pending` until a second finance officer or admin confirms it;
-- `fx_rates` keeps only the confirmed rate that applies. At most one rate waits per currency.
CREATE TABLE fx_rate_history (
    id TEXT PRIMARY KEY NOT NULL,
    currency TEXT NOT NULL,
    rate_micros BIGINT NOT NULL CHECK (rate_micros > 0),
    as_of DATE NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'applied', 'superseded')),
    proposed_by TEXT NOT NULL,
    proposed_at TIMESTAMP NOT NULL,
    confirmed_by TEXT,
    confirmed_at TIMESTAMP
);
CREATE INDEX fx_rate_history_currency ON fx_rate_history (currency, id);
CREATE UNIQUE INDEX fx_rate_history_one_pending ON fx_rate_history (currency) WHERE status = 'pending';
-- The rates in force become the first entry of their history (ids sort before any UUID v7).
INSERT INTO fx_rate_history (id, currency, rate_micros, as_of, status, proposed_by, proposed_at)
SELECT '00000000-0000-0000-0000-' || currency, currency, rate_micros, as_of, 'applied', updated_by, updated_at
FROM fx_rates;

-- Raises of a fund's amount that applied, summed over a rolling window per fund: the raises
-- one person made alone (confirmed_by null) count against the second-approval threshold.
CREATE TABLE fund_raises (
    id TEXT PRIMARY KEY NOT NULL,
    fund_id TEXT NOT NULL REFERENCES funds (id),
    increase BIGINT NOT NULL CHECK (increase > 0),
    asked_by TEXT NOT NULL,
    confirmed_by TEXT,
    applied_at TIMESTAMP NOT NULL
);
CREATE INDEX fund_raises_fund ON fund_raises (fund_id, applied_at);

-- A fund created above the threshold has no amount until a second person confirms it
-- (its requested amount waits as pending_amount; `amount > 0` holds the requested amount).
ALTER TABLE funds ADD COLUMN opening_pending BOOLEAN NOT NULL DEFAULT FALSE;
