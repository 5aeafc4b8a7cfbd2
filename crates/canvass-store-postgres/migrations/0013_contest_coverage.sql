-- Issue 7: which precincts vote on which contest of an election (the reporting units a contest
-- covers). Results for a precinct are accepted only for the contests it votes on.

CREATE TABLE contest_precincts (
    election_id TEXT NOT NULL,
    contest_id TEXT NOT NULL,
    precinct_id TEXT NOT NULL REFERENCES precincts (id),
    PRIMARY KEY (election_id, contest_id, precinct_id),
    FOREIGN KEY (election_id, contest_id) REFERENCES contests (election_id, id)
);
