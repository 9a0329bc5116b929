ALTER TABLE grants DROP COLUMN closed_at, DROP COLUMN activated_at;
