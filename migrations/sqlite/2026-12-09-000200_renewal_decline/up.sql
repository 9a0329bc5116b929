-- An admin may decline a member's renewal request, saying why (the member is emailed it).
ALTER TABLE membership_renewal_requests ADD COLUMN decline_reason TEXT;
