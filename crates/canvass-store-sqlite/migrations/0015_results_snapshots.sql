-- Published results snapshots: each is the signed manifest of one publication of an election's
-- results, and the files it lists. File bodies are kept once per SHA-256 with the gzip and
-- brotli encodings made at publication, since consecutive snapshots share almost every file.
-- Results are public records; nothing here is personal. Rows are never changed or deleted: a
-- snapshot is what the public was shown, and a correction is a newer snapshot.

CREATE TABLE results_bodies (
    sha256 TEXT PRIMARY KEY,
    body BLOB NOT NULL,
    gzip BLOB NOT NULL,
    brotli BLOB NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE results_snapshots (
    election_id TEXT NOT NULL,
    sequence INTEGER NOT NULL CHECK (sequence > 0),
    election_name TEXT NOT NULL,
    election_date TEXT NOT NULL,
    published_at INTEGER NOT NULL,
    manifest BLOB NOT NULL,
    signature BLOB NOT NULL,
    manifest_sha256 TEXT NOT NULL,
    PRIMARY KEY (election_id, sequence)
) STRICT;

CREATE TABLE results_snapshot_files (
    election_id TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL REFERENCES results_bodies (sha256),
    content_type TEXT NOT NULL,
    PRIMARY KEY (election_id, sequence, path),
    FOREIGN KEY (election_id, sequence) REFERENCES results_snapshots (election_id, sequence)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER results_bodies_no_update BEFORE UPDATE ON results_bodies
BEGIN
    SELECT RAISE(ABORT, 'results snapshots are append-only');
END;
CREATE TRIGGER results_bodies_no_delete BEFORE DELETE ON results_bodies
BEGIN
    SELECT RAISE(ABORT, 'results snapshots are append-only');
END;
CREATE TRIGGER results_snapshots_no_update BEFORE UPDATE ON results_snapshots
BEGIN
    SELECT RAISE(ABORT, 'results snapshots are append-only');
END;
CREATE TRIGGER results_snapshots_no_delete BEFORE DELETE ON results_snapshots
BEGIN
    SELECT RAISE(ABORT, 'results snapshots are append-only');
END;
CREATE TRIGGER results_snapshot_files_no_update BEFORE UPDATE ON results_snapshot_files
BEGIN
    SELECT RAISE(ABORT, 'results snapshots are append-only');
END;
CREATE TRIGGER results_snapshot_files_no_delete BEFORE DELETE ON results_snapshot_files
BEGIN
    SELECT RAISE(ABORT, 'results snapshots are append-only');
END;
