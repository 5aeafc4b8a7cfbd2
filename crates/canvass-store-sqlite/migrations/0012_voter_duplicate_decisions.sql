-- Clerks' decisions on candidate duplicate voter records: the pair (first sorting before
-- second), merged (which record was kept) or dismissed, the written reason, who and when.
-- Ids and codes only, no personal value. Rows are never changed or deleted: a decision made in
-- error is corrected by a status change, not by rewriting it. The candidate query pairs rows of
-- one roll on equal blind indexes (voters_by_lookup_index, voters_by_drivers_license_index).

CREATE TABLE voter_duplicate_decisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    jurisdiction_id TEXT NOT NULL REFERENCES jurisdictions (id),
    first_registration_number TEXT NOT NULL REFERENCES voters (registration_number),
    second_registration_number TEXT NOT NULL REFERENCES voters (registration_number),
    decision TEXT NOT NULL CHECK (decision IN ('merged', 'dismissed')),
    kept_registration_number TEXT,
    reason TEXT NOT NULL,
    actor TEXT NOT NULL,
    decided_at INTEGER NOT NULL,
    CHECK (first_registration_number < second_registration_number),
    CHECK ((decision = 'merged') = (kept_registration_number IS NOT NULL))
) STRICT;
CREATE INDEX voter_duplicate_decisions_by_pair
    ON voter_duplicate_decisions (first_registration_number, second_registration_number);
CREATE INDEX voter_duplicate_decisions_by_second ON voter_duplicate_decisions (second_registration_number);

CREATE TRIGGER voter_duplicate_decisions_no_update BEFORE UPDATE ON voter_duplicate_decisions
BEGIN
    SELECT RAISE(ABORT, 'voter duplicate decisions are append-only');
END;
CREATE TRIGGER voter_duplicate_decisions_no_delete BEFORE DELETE ON voter_duplicate_decisions
BEGIN
    SELECT RAISE(ABORT, 'voter duplicate decisions are append-only');
END;
