-- Snapshot file rows check their body's hash against a lean table of hashes. `results_bodies`
-- is WITHOUT ROWID with bodies of tens of kilobytes to megabytes (in three encodings) inside
-- its primary key's B-tree, so each of a snapshot's thousands of foreign-key checks walked a
-- tree of mostly overflow pages: most of a publication's store time. `results_body_hashes`
-- holds each stored body's hash (a trigger adds it as the body is stored) and is what
-- `results_snapshot_files.sha256` now references; the file table is rebuilt with its rows.
CREATE TABLE results_body_hashes (
    sha256 TEXT PRIMARY KEY NOT NULL
) STRICT, WITHOUT ROWID;
INSERT INTO results_body_hashes (sha256) SELECT sha256 FROM results_bodies;
CREATE TRIGGER results_bodies_keep_hash AFTER INSERT ON results_bodies
BEGIN
    INSERT INTO results_body_hashes (sha256) VALUES (NEW.sha256);
END;
CREATE TRIGGER results_body_hashes_no_update BEFORE UPDATE ON results_body_hashes
BEGIN
    SELECT RAISE(ABORT, 'results snapshots are append-only');
END;
CREATE TRIGGER results_body_hashes_no_delete BEFORE DELETE ON results_body_hashes
BEGIN
    SELECT RAISE(ABORT, 'results snapshots are append-only');
END;

CREATE TABLE results_snapshot_files_by_hash (
    election_id TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL REFERENCES results_body_hashes (sha256),
    content_type TEXT NOT NULL,
    PRIMARY KEY (election_id, sequence, path),
    FOREIGN KEY (election_id, sequence) REFERENCES results_snapshots (election_id, sequence)
) STRICT, WITHOUT ROWID;
INSERT INTO results_snapshot_files_by_hash (election_id, sequence, path, sha256, content_type)
SELECT election_id, sequence, path, sha256, content_type FROM results_snapshot_files;
DROP TABLE results_snapshot_files;
ALTER TABLE results_snapshot_files_by_hash RENAME TO results_snapshot_files;
CREATE TRIGGER results_snapshot_files_no_update BEFORE UPDATE ON results_snapshot_files
BEGIN
    SELECT RAISE(ABORT, 'results snapshots are append-only');
END;
CREATE TRIGGER results_snapshot_files_no_delete BEFORE DELETE ON results_snapshot_files
BEGIN
    SELECT RAISE(ABORT, 'results snapshots are append-only');
END;
