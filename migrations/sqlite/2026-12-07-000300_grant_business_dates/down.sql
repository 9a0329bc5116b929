ALTER TABLE grants DROP COLUMN closed_at;
ALTER TABLE grants DROP COLUMN activated_at;
