-- The voter roll as imported from a state's voter file: the rest of each row's public-record
-- columns sealed in one value, a keyed digest of the source row so a re-import recognises an
-- unchanged row without opening anything, a blind index on last name + first name + date of
-- birth (the public lookup and duplicate detection), the revisions a changed row replaced, and
-- the imports themselves (for resuming one after an interruption).

ALTER TABLE voters ADD COLUMN details BLOB;
ALTER TABLE voters ADD COLUMN row_digest INTEGER;
ALTER TABLE voters ADD COLUMN lookup_index INTEGER;
ALTER TABLE voters ADD COLUMN revision INTEGER NOT NULL DEFAULT 1;
ALTER TABLE voters ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX voters_by_lookup_index ON voters (jurisdiction_id, lookup_index);

CREATE TABLE voter_history (
    registration_number TEXT NOT NULL REFERENCES voters (registration_number),
    revision INTEGER NOT NULL,
    replaced_at INTEGER NOT NULL,
    import_id TEXT,
    jurisdiction_id TEXT NOT NULL,
    county_id TEXT NOT NULL,
    precinct_id TEXT NOT NULL,
    party TEXT NOT NULL,
    status TEXT NOT NULL,
    registered_on TEXT NOT NULL,
    key_version INTEGER NOT NULL,
    first_name BLOB NOT NULL,
    last_name BLOB NOT NULL,
    birth_date BLOB,
    ssn_last_four BLOB,
    drivers_license BLOB,
    email BLOB,
    details BLOB,
    row_digest INTEGER,
    PRIMARY KEY (registration_number, revision)
) STRICT;

CREATE TABLE voter_imports (
    id TEXT PRIMARY KEY NOT NULL,
    jurisdiction_id TEXT NOT NULL REFERENCES jurisdictions (id),
    format TEXT NOT NULL,
    file_digest TEXT NOT NULL,
    actor TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    finished_at INTEGER,
    position INTEGER NOT NULL,
    line INTEGER NOT NULL,
    inserted INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    unchanged INTEGER NOT NULL,
    rejected INTEGER NOT NULL
) STRICT;
CREATE INDEX voter_imports_by_file ON voter_imports (jurisdiction_id, file_digest);
