UPDATE organisations SET membership_status = 'active' WHERE membership_status = 'applicant';
ALTER TABLE organisations DROP CONSTRAINT organisations_membership_status_check;
ALTER TABLE organisations ADD CONSTRAINT organisations_membership_status_check
    CHECK (membership_status IN ('active', 'grace', 'lapsed', 'suspended', 'withdrawn'));
