-- Absentee and provisional ballots per voter and election (issue 6): each ballot's current
-- status (its code carries a rejection's or a provisional decision's reason) and cure deadline,
-- and the append-only history of its status changes (who, when, to what). Ids, codes and dates
-- only: no personal value is written here.

CREATE TABLE ballots (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    registration_number TEXT NOT NULL REFERENCES voters (registration_number),
    jurisdiction_id TEXT NOT NULL REFERENCES jurisdictions (id),
    election_id TEXT NOT NULL REFERENCES elections (id),
    kind TEXT NOT NULL CHECK (kind IN ('absentee', 'provisional')),
    status TEXT NOT NULL,
    cure_deadline TEXT,
    opened_on TEXT NOT NULL,
    status_on TEXT NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX ballots_by_voter ON ballots (registration_number, id);
-- One live ballot of each kind per voter and election; a cancelled one may be replaced.
CREATE UNIQUE INDEX ballots_one_live_per_election
    ON ballots (registration_number, election_id, kind) WHERE status <> 'cancelled';

CREATE TABLE ballot_status_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ballot_id INTEGER NOT NULL REFERENCES ballots (id),
    registration_number TEXT NOT NULL REFERENCES voters (registration_number),
    from_status TEXT,
    to_status TEXT NOT NULL,
    cure_deadline TEXT,
    changed_on TEXT NOT NULL,
    actor TEXT NOT NULL,
    recorded_at INTEGER NOT NULL
) STRICT;
CREATE INDEX ballot_status_changes_by_voter ON ballot_status_changes (registration_number, id);

CREATE TRIGGER ballot_status_changes_no_update BEFORE UPDATE ON ballot_status_changes
BEGIN
    SELECT RAISE(ABORT, 'ballot status changes are append-only');
END;
CREATE TRIGGER ballot_status_changes_no_delete BEFORE DELETE ON ballot_status_changes
BEGIN
    SELECT RAISE(ABORT, 'ballot status changes are append-only');
END;
-- A ballot row is never removed: its history points at it.
CREATE TRIGGER ballots_no_delete BEFORE DELETE ON ballots
BEGIN
    SELECT RAISE(ABORT, 'ballots are never deleted; cancel one instead');
END;
