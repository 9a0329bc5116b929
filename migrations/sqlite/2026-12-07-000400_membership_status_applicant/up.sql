-- `applicant` is a membership standing (DESIGN: applicant → active → grace → lapsed) and the
-- one `MembershipStatus` enum has it: the column now admits every value the enum holds.
-- SQLite cannot change a CHECK in place; a column whose CHECK is its own can be dropped.
ALTER TABLE organisations ADD COLUMN membership_status_next TEXT CHECK (membership_status_next IN ('applicant', 'active', 'grace', 'lapsed', 'suspended', 'withdrawn'));
UPDATE organisations SET membership_status_next = membership_status;
DROP INDEX organisations_membership_status;
ALTER TABLE organisations DROP COLUMN membership_status;
ALTER TABLE organisations RENAME COLUMN membership_status_next TO membership_status;
CREATE INDEX organisations_membership_status ON organisations (membership_status);
