-- The sources of a bot turn: the guides its answer came from, as a JSON
-- array of {"id", "title", "kind", "url"}; '' for the person's and staff's
-- turns and for every turn written before sources were kept.
ALTER TABLE turns ADD COLUMN sources TEXT NOT NULL DEFAULT '';
