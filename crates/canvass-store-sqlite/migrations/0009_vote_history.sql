-- Voter history from the state's history file (ncvhis): one row per voter per election, linked to
-- the roll by registration number. Voter history is a public record in North Carolina; this table
-- holds ids, dates and codes only (no name, address or confidential field). A re-import of the
-- same row changes nothing; a corrected row replaces its values and counts its revision up.
-- Rows are never deleted.

CREATE TABLE vote_history (
    registration_number TEXT NOT NULL REFERENCES voters (registration_number),
    jurisdiction_id TEXT NOT NULL REFERENCES jurisdictions (id),
    election_date TEXT NOT NULL,
    election_description TEXT NOT NULL,
    voting_method TEXT NOT NULL,
    voted_party TEXT,
    county_number INTEGER NOT NULL,
    county_registration_number TEXT NOT NULL,
    precinct_label TEXT,
    voted_county_number INTEGER,
    import_id TEXT REFERENCES voter_imports (id),
    revision INTEGER NOT NULL DEFAULT 1,
    added_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (registration_number, election_date, election_description)
) STRICT;

CREATE TRIGGER vote_history_no_delete BEFORE DELETE ON vote_history
BEGIN
    SELECT RAISE(ABORT, 'voter history is never deleted');
END;
