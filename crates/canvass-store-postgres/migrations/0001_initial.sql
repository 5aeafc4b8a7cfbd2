-- The node's first schema: the jurisdiction tree, precincts, elections with their contests,
-- the public-record part of voter registrations (synthetic demo records only until the voter
-- roll is encrypted under the jurisdiction's keys), and staff accounts.

CREATE TABLE jurisdictions (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('state', 'county', 'municipality')),
    parent_id TEXT REFERENCES jurisdictions (id)
);

CREATE TABLE precincts (
    id TEXT PRIMARY KEY NOT NULL,
    jurisdiction_id TEXT NOT NULL REFERENCES jurisdictions (id),
    name TEXT NOT NULL
);
CREATE INDEX precincts_by_jurisdiction ON precincts (jurisdiction_id);

CREATE TABLE elections (
    id TEXT PRIMARY KEY NOT NULL,
    jurisdiction_id TEXT NOT NULL REFERENCES jurisdictions (id),
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('general', 'primary', 'special')),
    election_date DATE NOT NULL
);

CREATE TABLE contests (
    election_id TEXT NOT NULL REFERENCES elections (id),
    id TEXT NOT NULL,
    ballot_position INTEGER NOT NULL,
    district_id TEXT NOT NULL REFERENCES jurisdictions (id),
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('candidate', 'ballot_measure', 'retention')),
    vote_for INTEGER NOT NULL CHECK (vote_for BETWEEN 1 AND 99),
    PRIMARY KEY (election_id, id)
);

CREATE TABLE contest_choices (
    election_id TEXT NOT NULL,
    contest_id TEXT NOT NULL,
    ballot_position INTEGER NOT NULL,
    name TEXT NOT NULL,
    party TEXT,
    PRIMARY KEY (election_id, contest_id, ballot_position),
    FOREIGN KEY (election_id, contest_id) REFERENCES contests (election_id, id)
);

CREATE TABLE voters (
    registration_number TEXT PRIMARY KEY NOT NULL,
    county_id TEXT NOT NULL REFERENCES jurisdictions (id),
    precinct_id TEXT NOT NULL REFERENCES precincts (id),
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    party TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'inactive', 'removed', 'denied', 'temporary')),
    registered_on DATE NOT NULL
);
CREATE INDEX voters_by_precinct ON voters (precinct_id, status);

CREATE TABLE staff_accounts (
    username TEXT PRIMARY KEY NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('administrator'))
);
