ALTER TABLE organisations DROP COLUMN hidden_from_public;
