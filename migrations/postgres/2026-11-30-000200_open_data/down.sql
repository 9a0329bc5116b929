DROP TABLE fund_publications;
DROP INDEX organisation_identifiers_identifier;
DROP TABLE organisation_identifiers;
ALTER TABLE organisations DROP COLUMN identifiers;
