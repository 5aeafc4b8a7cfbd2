-- The record ids an entry names are indexed off the commit path. An append writes them here, in
-- index order, so a commit touches only the right edge of this table; the node later moves them
-- into ledger_targets in large batches sorted by target (Store::index_ledger_targets), where a
-- batch lands on each leaf page of that index once instead of once per entry. A search by
-- record reads both tables, so an entry is found by its targets from the moment it commits.
-- This table is a work queue, not history: rows leave it only in the transaction that copies
-- them into ledger_targets, which stays append-only. The Merkle tree over ledger_entries is
-- what proves history, and it does not depend on either table.
CREATE TABLE ledger_target_queue (
    idx INTEGER NOT NULL REFERENCES ledger_entries (idx),
    target TEXT NOT NULL,
    PRIMARY KEY (idx, target)
) STRICT, WITHOUT ROWID;
-- A queued pair is moved whole or not at all; nothing rewrites it on the way.
CREATE TRIGGER ledger_target_queue_no_update BEFORE UPDATE ON ledger_target_queue
BEGIN
    SELECT RAISE(ABORT, 'the audit ledger is append-only');
END;
