-- Key rings per jurisdiction and voter rows whose personal fields are sealed under them.
-- The first schema's voters table held only the synthetic demo roll in the clear; it is
-- replaced, not migrated: no real roll could have been loaded into it.

CREATE TABLE key_rings (
    jurisdiction_id TEXT PRIMARY KEY NOT NULL REFERENCES jurisdictions (id),
    root_check BLOB NOT NULL,
    share_threshold INTEGER,
    share_count INTEGER,
    projected_rows INTEGER NOT NULL
) STRICT;

CREATE TABLE root_seals (
    jurisdiction_id TEXT NOT NULL REFERENCES key_rings (jurisdiction_id),
    method TEXT NOT NULL,
    sealed BLOB NOT NULL,
    PRIMARY KEY (jurisdiction_id, method)
) STRICT;

CREATE TABLE data_keys (
    jurisdiction_id TEXT NOT NULL REFERENCES key_rings (jurisdiction_id),
    purpose TEXT NOT NULL,
    version INTEGER NOT NULL,
    wrapped BLOB NOT NULL,
    index_bits INTEGER,
    state TEXT NOT NULL CHECK (state IN ('active', 'previous', 'retired')),
    PRIMARY KEY (jurisdiction_id, purpose, version)
) STRICT;

DROP TABLE voters;

CREATE TABLE voters (
    registration_number TEXT PRIMARY KEY NOT NULL,
    jurisdiction_id TEXT NOT NULL REFERENCES jurisdictions (id),
    county_id TEXT NOT NULL REFERENCES jurisdictions (id),
    precinct_id TEXT NOT NULL REFERENCES precincts (id),
    party TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'inactive', 'removed', 'denied', 'temporary')),
    registered_on TEXT NOT NULL,
    key_version INTEGER NOT NULL,
    first_name BLOB NOT NULL,
    last_name BLOB NOT NULL,
    birth_date BLOB,
    ssn_last_four BLOB,
    drivers_license BLOB,
    email BLOB,
    name_index INTEGER,
    identity_index INTEGER,
    drivers_license_index INTEGER
) STRICT;
CREATE INDEX voters_by_precinct ON voters (precinct_id, status);
CREATE INDEX voters_by_key_version ON voters (jurisdiction_id, key_version);
CREATE INDEX voters_by_name_index ON voters (jurisdiction_id, name_index);
CREATE INDEX voters_by_identity_index ON voters (jurisdiction_id, identity_index);
CREATE INDEX voters_by_drivers_license_index ON voters (jurisdiction_id, drivers_license_index);
