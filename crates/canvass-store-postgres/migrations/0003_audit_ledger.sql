-- The audit ledger: entries (the Merkle leaves, with copies of the fields admin search filters
-- on), the record ids each entry names, the tree's hash tiles, signed checkpoints and
-- witnesses' cosignatures. Entries, targets and checkpoints are append-only, enforced here by
-- triggers, so history cannot be rewritten through the store even by a buggy caller.
-- Secondary indexes are few on purpose: every one costs time on each append.

CREATE TABLE ledger_entries (
    idx BIGINT PRIMARY KEY NOT NULL CHECK (idx >= 0),
    body BYTEA NOT NULL,
    time_millis BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    jurisdiction TEXT,
    outcome TEXT NOT NULL
);
-- idx in each index lets a filtered search walk its matches newest first and stop at the limit.
CREATE INDEX ledger_entries_by_actor ON ledger_entries (actor, idx);
CREATE INDEX ledger_entries_by_action ON ledger_entries (action, idx);
CREATE INDEX ledger_entries_by_time ON ledger_entries (time_millis);

-- Keyed by target first: the primary key is the search index.
CREATE TABLE ledger_targets (
    target TEXT NOT NULL,
    idx BIGINT NOT NULL REFERENCES ledger_entries (idx),
    PRIMARY KEY (target, idx)
);

CREATE TABLE ledger_tiles (
    level BIGINT NOT NULL CHECK (level >= 0),
    idx BIGINT NOT NULL CHECK (idx >= 0),
    hashes BYTEA NOT NULL,
    PRIMARY KEY (level, idx)
);

CREATE TABLE ledger_checkpoints (
    size BIGINT PRIMARY KEY NOT NULL CHECK (size >= 0),
    note TEXT NOT NULL,
    time_millis BIGINT NOT NULL
);

CREATE TABLE ledger_cosignatures (
    size BIGINT NOT NULL REFERENCES ledger_checkpoints (size),
    witness TEXT NOT NULL,
    line TEXT NOT NULL,
    time_millis BIGINT NOT NULL,
    PRIMARY KEY (size, witness)
);

CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit ledger is append-only' USING ERRCODE = 'restrict_violation';
END;
$$;

-- Row triggers refuse UPDATE and DELETE; statement triggers refuse TRUNCATE, which bypasses
-- row triggers.
CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_targets_append_only BEFORE UPDATE OR DELETE ON ledger_targets
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_targets_no_truncate BEFORE TRUNCATE ON ledger_targets
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_checkpoints_append_only BEFORE UPDATE OR DELETE ON ledger_checkpoints
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_checkpoints_no_truncate BEFORE TRUNCATE ON ledger_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_tiles_no_delete BEFORE DELETE ON ledger_tiles
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_tiles_no_truncate BEFORE TRUNCATE ON ledger_tiles
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();

-- A tile only grows: its stored hashes stay a prefix of whatever replaces them, so a proof
-- checked against an earlier checkpoint stays checkable.
CREATE FUNCTION ledger_tile_only_grows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.level <> OLD.level OR NEW.idx <> OLD.idx OR length(NEW.hashes) < length(OLD.hashes)
        OR substring(NEW.hashes FROM 1 FOR length(OLD.hashes)) <> OLD.hashes THEN
        RAISE EXCEPTION 'a ledger tile only grows' USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER ledger_tiles_only_grow BEFORE UPDATE ON ledger_tiles
    FOR EACH ROW EXECUTE FUNCTION ledger_tile_only_grows();
