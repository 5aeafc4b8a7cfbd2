-- The voter roll as imported from a state's voter file: the rest of each row's public-record
-- columns sealed in one value, a keyed digest of the source row so a re-import recognises an
-- unchanged row without opening anything, a blind index on last name + first name + date of
-- birth (the public lookup and duplicate detection), the revisions a changed row replaced, and
-- the imports themselves (for resuming one after an interruption).

ALTER TABLE voters ADD COLUMN details BYTEA;
ALTER TABLE voters ADD COLUMN row_digest BIGINT;
ALTER TABLE voters ADD COLUMN lookup_index BIGINT;
ALTER TABLE voters ADD COLUMN revision BIGINT NOT NULL DEFAULT 1;
ALTER TABLE voters ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX voters_by_lookup_index ON voters (jurisdiction_id, lookup_index);

CREATE TABLE voter_history (
    registration_number TEXT NOT NULL REFERENCES voters (registration_number),
    revision BIGINT NOT NULL,
    replaced_at BIGINT NOT NULL,
    import_id TEXT,
    jurisdiction_id TEXT NOT NULL,
    county_id TEXT NOT NULL,
    precinct_id TEXT NOT NULL,
    party TEXT NOT NULL,
    status TEXT NOT NULL,
    registered_on DATE NOT NULL,
    key_version BIGINT NOT NULL,
    first_name BYTEA NOT NULL,
    last_name BYTEA NOT NULL,
    birth_date BYTEA,
    ssn_last_four BYTEA,
    drivers_license BYTEA,
    email BYTEA,
    details BYTEA,
    row_digest BIGINT,
    PRIMARY KEY (registration_number, revision)
);

CREATE TABLE voter_imports (
    id TEXT PRIMARY KEY NOT NULL,
    jurisdiction_id TEXT NOT NULL REFERENCES jurisdictions (id),
    format TEXT NOT NULL,
    file_digest TEXT NOT NULL,
    actor TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    finished_at BIGINT,
    position BIGINT NOT NULL,
    line BIGINT NOT NULL,
    inserted BIGINT NOT NULL,
    updated BIGINT NOT NULL,
    unchanged BIGINT NOT NULL,
    rejected BIGINT NOT NULL
);
CREATE INDEX voter_imports_by_file ON voter_imports (jurisdiction_id, file_digest);
