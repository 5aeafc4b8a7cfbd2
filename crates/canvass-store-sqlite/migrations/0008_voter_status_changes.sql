-- Every change of a voter record's status, with its NVRA reason code and the evidence the
-- list-maintenance rules were checked against (the confirmation notice's date, the voter's last
-- contact). Ids, codes and dates only: no personal value is written here. Rows are never changed
-- or deleted: a correction is a new change.

CREATE TABLE voter_status_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    registration_number TEXT NOT NULL REFERENCES voters (registration_number),
    jurisdiction_id TEXT NOT NULL REFERENCES jurisdictions (id),
    from_status TEXT NOT NULL,
    to_status TEXT NOT NULL,
    reason TEXT NOT NULL,
    effective_on TEXT NOT NULL,
    confirmation_notice_sent TEXT,
    last_contact TEXT,
    actor TEXT NOT NULL,
    recorded_at INTEGER NOT NULL
) STRICT;
CREATE INDEX voter_status_changes_by_voter ON voter_status_changes (registration_number, id);

CREATE TRIGGER voter_status_changes_no_update BEFORE UPDATE ON voter_status_changes
BEGIN
    SELECT RAISE(ABORT, 'voter status changes are append-only');
END;
CREATE TRIGGER voter_status_changes_no_delete BEFORE DELETE ON voter_status_changes
BEGIN
    SELECT RAISE(ABORT, 'voter status changes are append-only');
END;
