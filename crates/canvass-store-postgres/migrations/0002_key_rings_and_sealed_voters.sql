-- Key rings per jurisdiction and voter rows whose personal fields are sealed under them.
-- The first schema's voters table held only the synthetic demo roll in the clear; it is
-- replaced, not migrated: no real roll could have been loaded into it.

CREATE TABLE key_rings (
    jurisdiction_id TEXT PRIMARY KEY NOT NULL REFERENCES jurisdictions (id),
    root_check BYTEA NOT NULL,
    share_threshold BIGINT,
    share_count BIGINT,
    projected_rows BIGINT NOT NULL
);

CREATE TABLE root_seals (
    jurisdiction_id TEXT NOT NULL REFERENCES key_rings (jurisdiction_id),
    method TEXT NOT NULL,
    sealed BYTEA NOT NULL,
    PRIMARY KEY (jurisdiction_id, method)
);

CREATE TABLE data_keys (
    jurisdiction_id TEXT NOT NULL REFERENCES key_rings (jurisdiction_id),
    purpose TEXT NOT NULL,
    version BIGINT NOT NULL,
    wrapped BYTEA NOT NULL,
    index_bits BIGINT,
    state TEXT NOT NULL CHECK (state IN ('active', 'previous', 'retired')),
    PRIMARY KEY (jurisdiction_id, purpose, version)
);

DROP TABLE voters;

CREATE TABLE voters (
    registration_number TEXT PRIMARY KEY NOT NULL,
    jurisdiction_id TEXT NOT NULL REFERENCES jurisdictions (id),
    county_id TEXT NOT NULL REFERENCES jurisdictions (id),
    precinct_id TEXT NOT NULL REFERENCES precincts (id),
    party TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'inactive', 'removed', 'denied', 'temporary')),
    registered_on DATE NOT NULL,
    key_version BIGINT NOT NULL,
    first_name BYTEA NOT NULL,
    last_name BYTEA NOT NULL,
    birth_date BYTEA,
    ssn_last_four BYTEA,
    drivers_license BYTEA,
    email BYTEA,
    name_index BIGINT,
    identity_index BIGINT,
    drivers_license_index BIGINT
);
CREATE INDEX voters_by_precinct ON voters (precinct_id, status);
CREATE INDEX voters_by_key_version ON voters (jurisdiction_id, key_version);
CREATE INDEX voters_by_name_index ON voters (jurisdiction_id, name_index);
CREATE INDEX voters_by_identity_index ON voters (jurisdiction_id, identity_index);
CREATE INDEX voters_by_drivers_license_index ON voters (jurisdiction_id, drivers_license_index);
