-- The language a person reads (emails, console pages): an ISO 639-1 code the service speaks
-- (src/i18n: en, es, fr). Checked in code, not by a CHECK, so adding a language is files only.
ALTER TABLE users ADD COLUMN language TEXT NOT NULL DEFAULT 'en';
-- Existing member users read the first language of their organisation that the service
-- speaks, as new ones do from their invitation on.
UPDATE users SET language = 'es' WHERE organisation_id IN
    (SELECT id FROM organisations WHERE languages LIKE '["es"%');
UPDATE users SET language = 'fr' WHERE organisation_id IN
    (SELECT id FROM organisations WHERE languages LIKE '["fr"%');
-- A profile's description in each of its languages: the column now holds a JSON object
-- {"en": "...", "fr": "..."}; a text written before is the organisation's first language's.
UPDATE organisations
SET description = json_object(COALESCE(json_extract(languages, '$[0]'), 'en'), description)
WHERE description IS NOT NULL;
