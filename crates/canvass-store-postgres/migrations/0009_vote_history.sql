-- Voter history from the state's history file (ncvhis): one row per voter per election, linked to
-- the roll by registration number. Voter history is a public record in North Carolina; this table
-- holds ids, dates and codes only (no name, address or confidential field). A re-import of the
-- same row changes nothing; a corrected row replaces its values and counts its revision up.
-- Rows are never deleted.

CREATE TABLE vote_history (
    registration_number TEXT NOT NULL REFERENCES voters (registration_number),
    jurisdiction_id TEXT NOT NULL REFERENCES jurisdictions (id),
    election_date DATE NOT NULL,
    election_description TEXT NOT NULL,
    voting_method TEXT NOT NULL,
    voted_party TEXT,
    county_number BIGINT NOT NULL,
    county_registration_number TEXT NOT NULL,
    precinct_label TEXT,
    voted_county_number BIGINT,
    import_id TEXT REFERENCES voter_imports (id),
    revision BIGINT NOT NULL DEFAULT 1,
    added_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (registration_number, election_date, election_description)
);

CREATE FUNCTION vote_history_no_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'voter history is never deleted' USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER vote_history_no_delete BEFORE DELETE ON vote_history
    FOR EACH ROW EXECUTE FUNCTION vote_history_no_delete();
CREATE TRIGGER vote_history_no_truncate BEFORE TRUNCATE ON vote_history
    FOR EACH STATEMENT EXECUTE FUNCTION vote_history_no_delete();
