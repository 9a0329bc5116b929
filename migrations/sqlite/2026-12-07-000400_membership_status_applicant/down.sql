ALTER TABLE organisations ADD COLUMN membership_status_prev TEXT CHECK (membership_status_prev IN ('active', 'grace', 'lapsed', 'suspended', 'withdrawn'));
UPDATE organisations SET membership_status_prev = CASE WHEN membership_status = 'applicant' THEN 'active' ELSE membership_status END;
DROP INDEX organisations_membership_status;
ALTER TABLE organisations DROP COLUMN membership_status;
ALTER TABLE organisations RENAME COLUMN membership_status_prev TO membership_status;
CREATE INDEX organisations_membership_status ON organisations (membership_status);
