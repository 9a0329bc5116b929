-- `applicant` is a membership standing (DESIGN: applicant → active → grace → lapsed) and the
-- one `MembershipStatus` enum has it: the column now admits every value the enum holds.
ALTER TABLE organisations DROP CONSTRAINT organisations_membership_status_check;
ALTER TABLE organisations ADD CONSTRAINT organisations_membership_status_check
    CHECK (membership_status IN ('applicant', 'active', 'grace', 'lapsed', 'suspended', 'withdrawn'));
