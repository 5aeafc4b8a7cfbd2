-- Polling places: public data (where and when to vote), imported for a jurisdiction from a
-- feed and replaced whole by its next import; each import is kept as provenance (file digest,
-- who, when, what it gave). Nothing here is sealed: none of it is about a person.

CREATE TABLE polling_place_imports (
    id TEXT PRIMARY KEY NOT NULL,
    jurisdiction_id TEXT NOT NULL REFERENCES jurisdictions (id),
    format TEXT NOT NULL,
    file_digest TEXT NOT NULL,
    actor TEXT NOT NULL,
    imported_at INTEGER NOT NULL,
    places INTEGER NOT NULL,
    precincts_matched INTEGER NOT NULL,
    precincts_unmatched INTEGER NOT NULL
) STRICT;
CREATE INDEX polling_place_imports_by_jurisdiction ON polling_place_imports (jurisdiction_id, imported_at);

CREATE TABLE polling_places (
    jurisdiction_id TEXT NOT NULL REFERENCES jurisdictions (id),
    id TEXT NOT NULL,
    import_id TEXT NOT NULL REFERENCES polling_place_imports (id),
    name TEXT,
    address TEXT NOT NULL,
    hours TEXT,
    directions TEXT,
    early_voting INTEGER NOT NULL CHECK (early_voting IN (0, 1)),
    drop_box INTEGER NOT NULL CHECK (drop_box IN (0, 1)),
    PRIMARY KEY (jurisdiction_id, id)
) STRICT;

CREATE TABLE polling_place_precincts (
    jurisdiction_id TEXT NOT NULL,
    place_id TEXT NOT NULL,
    precinct_id TEXT NOT NULL REFERENCES precincts (id),
    PRIMARY KEY (jurisdiction_id, place_id, precinct_id),
    FOREIGN KEY (jurisdiction_id, place_id) REFERENCES polling_places (jurisdiction_id, id)
) STRICT;
-- The public lookup goes from a voter's precinct to its places.
CREATE INDEX polling_place_precincts_by_precinct ON polling_place_precincts (precinct_id);
