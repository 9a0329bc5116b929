UPDATE organisations
SET description = (SELECT value FROM json_each(organisations.description) LIMIT 1)
WHERE description IS NOT NULL AND json_valid(description);
ALTER TABLE users DROP COLUMN language;
