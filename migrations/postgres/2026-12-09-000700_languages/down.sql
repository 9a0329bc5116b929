UPDATE organisations
SET description = (SELECT value FROM json_each_text(organisations.description::json) LIMIT 1)
WHERE description IS NOT NULL;
ALTER TABLE users DROP COLUMN language;
