ALTER TABLE membership_renewal_requests DROP COLUMN decline_reason;
