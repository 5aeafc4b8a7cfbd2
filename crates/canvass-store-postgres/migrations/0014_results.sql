-- Issue 7: election-night results. Each accepted change (a county's report, a correction with
-- its reason, the certification) numbered 1, 2, 3... per election, and the precinct returns it
-- brought (public records, kept as JSON). Both tables are append-only: a correction is a new
-- change, never an edit.

CREATE TABLE results_changes (
    election_id TEXT NOT NULL REFERENCES elections (id),
    sequence BIGINT NOT NULL CHECK (sequence > 0),
    recorded_at BIGINT NOT NULL,
    county_id TEXT REFERENCES jurisdictions (id),
    kind TEXT NOT NULL CHECK (kind IN ('report', 'correction', 'certification')),
    reason TEXT,
    actor TEXT NOT NULL,
    file_sha256 TEXT,
    PRIMARY KEY (election_id, sequence),
    CHECK ((kind = 'correction') = (reason IS NOT NULL))
);

CREATE TABLE precinct_returns (
    election_id TEXT NOT NULL,
    precinct_id TEXT NOT NULL REFERENCES precincts (id),
    sequence BIGINT NOT NULL,
    return_json TEXT NOT NULL,
    PRIMARY KEY (election_id, precinct_id, sequence),
    FOREIGN KEY (election_id, sequence) REFERENCES results_changes (election_id, sequence)
);

CREATE FUNCTION results_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'results changes and precinct returns are append-only' USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER results_changes_append_only BEFORE UPDATE OR DELETE ON results_changes
    FOR EACH ROW EXECUTE FUNCTION results_append_only();
CREATE TRIGGER results_changes_no_truncate BEFORE TRUNCATE ON results_changes
    FOR EACH STATEMENT EXECUTE FUNCTION results_append_only();
CREATE TRIGGER precinct_returns_append_only BEFORE UPDATE OR DELETE ON precinct_returns
    FOR EACH ROW EXECUTE FUNCTION results_append_only();
CREATE TRIGGER precinct_returns_no_truncate BEFORE TRUNCATE ON precinct_returns
    FOR EACH STATEMENT EXECUTE FUNCTION results_append_only();
