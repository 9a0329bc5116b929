-- A grant's business dates are columns, written by the command that moves it, instead of
-- being read back from audit action names. Existing grants take them from the audit trail:
-- the first time each was activated and closed.
ALTER TABLE grants ADD COLUMN activated_at TIMESTAMP;
ALTER TABLE grants ADD COLUMN closed_at TIMESTAMP;
UPDATE grants SET activated_at = (
    SELECT MIN(a.occurred_at) FROM audit_events a
    WHERE a.entity_type = 'grant' AND a.entity_id = grants.id AND a.action = 'grant.active'
);
UPDATE grants SET closed_at = (
    SELECT MIN(a.occurred_at) FROM audit_events a
    WHERE a.entity_type = 'grant' AND a.entity_id = grants.id AND a.action = 'grant.closed'
);
