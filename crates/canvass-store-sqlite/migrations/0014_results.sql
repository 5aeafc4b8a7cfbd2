-- Issue 7: election-night results. Each accepted change (a county's report, a correction with
-- its reason, the certification) numbered 1, 2, 3... per election, and the precinct returns it
-- brought (public records, kept as JSON). Both tables are append-only: a correction is a new
-- change, never an edit.

CREATE TABLE results_changes (
    election_id TEXT NOT NULL REFERENCES elections (id),
    sequence INTEGER NOT NULL CHECK (sequence > 0),
    recorded_at INTEGER NOT NULL,
    county_id TEXT REFERENCES jurisdictions (id),
    kind TEXT NOT NULL CHECK (kind IN ('report', 'correction', 'certification')),
    reason TEXT,
    actor TEXT NOT NULL,
    file_sha256 TEXT,
    PRIMARY KEY (election_id, sequence),
    CHECK ((kind = 'correction') = (reason IS NOT NULL))
) STRICT;

CREATE TABLE precinct_returns (
    election_id TEXT NOT NULL,
    precinct_id TEXT NOT NULL REFERENCES precincts (id),
    sequence INTEGER NOT NULL,
    return_json TEXT NOT NULL,
    PRIMARY KEY (election_id, precinct_id, sequence),
    FOREIGN KEY (election_id, sequence) REFERENCES results_changes (election_id, sequence)
) STRICT;

CREATE TRIGGER results_changes_no_update BEFORE UPDATE ON results_changes
BEGIN
    SELECT RAISE(ABORT, 'results changes are append-only');
END;
CREATE TRIGGER results_changes_no_delete BEFORE DELETE ON results_changes
BEGIN
    SELECT RAISE(ABORT, 'results changes are append-only');
END;
CREATE TRIGGER precinct_returns_no_update BEFORE UPDATE ON precinct_returns
BEGIN
    SELECT RAISE(ABORT, 'precinct returns are append-only');
END;
CREATE TRIGGER precinct_returns_no_delete BEFORE DELETE ON precinct_returns
BEGIN
    SELECT RAISE(ABORT, 'precinct returns are append-only');
END;
