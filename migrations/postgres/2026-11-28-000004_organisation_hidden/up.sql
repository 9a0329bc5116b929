-- Some members work where drug use is criminalised: they may vanish from every public answer.
ALTER TABLE organisations ADD COLUMN hidden_from_public BOOLEAN NOT NULL DEFAULT FALSE;
