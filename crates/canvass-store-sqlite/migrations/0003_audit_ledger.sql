-- The audit ledger: entries (the Merkle leaves, with copies of the fields admin search filters
-- on), the record ids each entry names, the tree's hash tiles, signed checkpoints and
-- witnesses' cosignatures. Entries, targets and checkpoints are append-only, enforced here by
-- triggers, so history cannot be rewritten through the store even by a buggy caller.
-- Secondary indexes are few on purpose: every one costs time on each append.

-- idx is the rowid (INTEGER PRIMARY KEY), so appends go to the end of the table's B-tree and
-- every secondary index carries idx for free, ordering its matches newest first.
CREATE TABLE ledger_entries (
    idx INTEGER PRIMARY KEY NOT NULL CHECK (idx >= 0),
    body BLOB NOT NULL,
    time_millis INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    jurisdiction TEXT,
    outcome TEXT NOT NULL
) STRICT;
CREATE INDEX ledger_entries_by_actor ON ledger_entries (actor);
CREATE INDEX ledger_entries_by_action ON ledger_entries (action);
CREATE INDEX ledger_entries_by_time ON ledger_entries (time_millis);

-- Keyed by target first: the primary key is the search index, with no separate table B-tree.
CREATE TABLE ledger_targets (
    target TEXT NOT NULL,
    idx INTEGER NOT NULL REFERENCES ledger_entries (idx),
    PRIMARY KEY (target, idx)
) STRICT, WITHOUT ROWID;

CREATE TABLE ledger_tiles (
    level INTEGER NOT NULL CHECK (level >= 0),
    idx INTEGER NOT NULL CHECK (idx >= 0),
    hashes BLOB NOT NULL,
    PRIMARY KEY (level, idx)
) STRICT;

CREATE TABLE ledger_checkpoints (
    size INTEGER PRIMARY KEY NOT NULL CHECK (size >= 0),
    note TEXT NOT NULL,
    time_millis INTEGER NOT NULL
) STRICT;

CREATE TABLE ledger_cosignatures (
    size INTEGER NOT NULL REFERENCES ledger_checkpoints (size),
    witness TEXT NOT NULL,
    line TEXT NOT NULL,
    time_millis INTEGER NOT NULL,
    PRIMARY KEY (size, witness)
) STRICT;

CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE ON ledger_entries
BEGIN
    SELECT RAISE(ABORT, 'the audit ledger is append-only');
END;
CREATE TRIGGER ledger_entries_no_delete BEFORE DELETE ON ledger_entries
BEGIN
    SELECT RAISE(ABORT, 'the audit ledger is append-only');
END;
CREATE TRIGGER ledger_targets_no_update BEFORE UPDATE ON ledger_targets
BEGIN
    SELECT RAISE(ABORT, 'the audit ledger is append-only');
END;
CREATE TRIGGER ledger_targets_no_delete BEFORE DELETE ON ledger_targets
BEGIN
    SELECT RAISE(ABORT, 'the audit ledger is append-only');
END;
CREATE TRIGGER ledger_checkpoints_no_update BEFORE UPDATE ON ledger_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'the audit ledger is append-only');
END;
CREATE TRIGGER ledger_checkpoints_no_delete BEFORE DELETE ON ledger_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'the audit ledger is append-only');
END;

CREATE TRIGGER ledger_tiles_no_delete BEFORE DELETE ON ledger_tiles
BEGIN
    SELECT RAISE(ABORT, 'the audit ledger is append-only');
END;
-- A tile only grows: its stored hashes stay a prefix of whatever replaces them, so a proof
-- checked against an earlier checkpoint stays checkable.
CREATE TRIGGER ledger_tiles_only_grow BEFORE UPDATE ON ledger_tiles
WHEN length(NEW.hashes) < length(OLD.hashes) OR substr(NEW.hashes, 1, length(OLD.hashes)) != OLD.hashes
    OR NEW.level != OLD.level OR NEW.idx != OLD.idx
BEGIN
    SELECT RAISE(ABORT, 'a ledger tile only grows');
END;
