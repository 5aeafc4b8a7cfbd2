-- Absentee and provisional ballots per voter and election (issue 6): each ballot's current
-- status (its code carries a rejection's or a provisional decision's reason) and cure deadline,
-- and the append-only history of its status changes (who, when, to what). Ids, codes and dates
-- only: no personal value is written here.

CREATE TABLE ballots (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    registration_number TEXT NOT NULL REFERENCES voters (registration_number),
    jurisdiction_id TEXT NOT NULL REFERENCES jurisdictions (id),
    election_id TEXT NOT NULL REFERENCES elections (id),
    kind TEXT NOT NULL CHECK (kind IN ('absentee', 'provisional')),
    status TEXT NOT NULL,
    cure_deadline DATE,
    opened_on DATE NOT NULL,
    status_on DATE NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX ballots_by_voter ON ballots (registration_number, id);
-- One live ballot of each kind per voter and election; a cancelled one may be replaced.
CREATE UNIQUE INDEX ballots_one_live_per_election
    ON ballots (registration_number, election_id, kind) WHERE status <> 'cancelled';

CREATE TABLE ballot_status_changes (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ballot_id BIGINT NOT NULL REFERENCES ballots (id),
    registration_number TEXT NOT NULL REFERENCES voters (registration_number),
    from_status TEXT,
    to_status TEXT NOT NULL,
    cure_deadline DATE,
    changed_on DATE NOT NULL,
    actor TEXT NOT NULL,
    recorded_at BIGINT NOT NULL
);
CREATE INDEX ballot_status_changes_by_voter ON ballot_status_changes (registration_number, id);

CREATE FUNCTION ballot_status_changes_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ballot status changes are append-only' USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER ballot_status_changes_append_only BEFORE UPDATE OR DELETE ON ballot_status_changes
    FOR EACH ROW EXECUTE FUNCTION ballot_status_changes_append_only();
CREATE TRIGGER ballot_status_changes_no_truncate BEFORE TRUNCATE ON ballot_status_changes
    FOR EACH STATEMENT EXECUTE FUNCTION ballot_status_changes_append_only();

-- A ballot row is never removed: its history points at it.
CREATE FUNCTION ballots_never_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ballots are never deleted; cancel one instead' USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER ballots_never_deleted BEFORE DELETE ON ballots
    FOR EACH ROW EXECUTE FUNCTION ballots_never_deleted();
CREATE TRIGGER ballots_no_truncate BEFORE TRUNCATE ON ballots
    FOR EACH STATEMENT EXECUTE FUNCTION ballots_never_deleted();
