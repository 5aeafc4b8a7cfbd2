-- Published results snapshots: each is the signed manifest of one publication of an election's
-- results, and the files it lists. File bodies are kept once per SHA-256 with the gzip and
-- brotli encodings made at publication, since consecutive snapshots share almost every file.
-- Results are public records; nothing here is personal. Rows are never changed or deleted: a
-- snapshot is what the public was shown, and a correction is a newer snapshot.

CREATE TABLE results_bodies (
    sha256 TEXT PRIMARY KEY,
    body BYTEA NOT NULL,
    gzip BYTEA NOT NULL,
    brotli BYTEA NOT NULL
);

CREATE TABLE results_snapshots (
    election_id TEXT NOT NULL,
    sequence BIGINT NOT NULL CHECK (sequence > 0),
    election_name TEXT NOT NULL,
    election_date TEXT NOT NULL,
    published_at BIGINT NOT NULL,
    manifest BYTEA NOT NULL,
    signature BYTEA NOT NULL,
    manifest_sha256 TEXT NOT NULL,
    PRIMARY KEY (election_id, sequence)
);

CREATE TABLE results_snapshot_files (
    election_id TEXT NOT NULL,
    sequence BIGINT NOT NULL,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL REFERENCES results_bodies (sha256),
    content_type TEXT NOT NULL,
    PRIMARY KEY (election_id, sequence, path),
    FOREIGN KEY (election_id, sequence) REFERENCES results_snapshots (election_id, sequence)
);

CREATE FUNCTION results_snapshots_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'results snapshots are append-only' USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER results_bodies_append_only BEFORE UPDATE OR DELETE ON results_bodies
    FOR EACH ROW EXECUTE FUNCTION results_snapshots_append_only();
CREATE TRIGGER results_bodies_no_truncate BEFORE TRUNCATE ON results_bodies
    FOR EACH STATEMENT EXECUTE FUNCTION results_snapshots_append_only();
CREATE TRIGGER results_snapshots_append_only BEFORE UPDATE OR DELETE ON results_snapshots
    FOR EACH ROW EXECUTE FUNCTION results_snapshots_append_only();
CREATE TRIGGER results_snapshots_no_truncate BEFORE TRUNCATE ON results_snapshots
    FOR EACH STATEMENT EXECUTE FUNCTION results_snapshots_append_only();
CREATE TRIGGER results_snapshot_files_append_only BEFORE UPDATE OR DELETE ON results_snapshot_files
    FOR EACH ROW EXECUTE FUNCTION results_snapshots_append_only();
CREATE TRIGGER results_snapshot_files_no_truncate BEFORE TRUNCATE ON results_snapshot_files
    FOR EACH STATEMENT EXECUTE FUNCTION results_snapshots_append_only();
