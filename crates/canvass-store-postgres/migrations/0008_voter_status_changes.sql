-- Every change of a voter record's status, with its NVRA reason code and the evidence the
-- list-maintenance rules were checked against (the confirmation notice's date, the voter's last
-- contact). Ids, codes and dates only: no personal value is written here. Rows are never changed
-- or deleted: a correction is a new change.

CREATE TABLE voter_status_changes (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    registration_number TEXT NOT NULL REFERENCES voters (registration_number),
    jurisdiction_id TEXT NOT NULL REFERENCES jurisdictions (id),
    from_status TEXT NOT NULL,
    to_status TEXT NOT NULL,
    reason TEXT NOT NULL,
    effective_on DATE NOT NULL,
    confirmation_notice_sent DATE,
    last_contact DATE,
    actor TEXT NOT NULL,
    recorded_at BIGINT NOT NULL
);
CREATE INDEX voter_status_changes_by_voter ON voter_status_changes (registration_number, id);

CREATE FUNCTION voter_status_changes_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'voter status changes are append-only' USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER voter_status_changes_append_only BEFORE UPDATE OR DELETE ON voter_status_changes
    FOR EACH ROW EXECUTE FUNCTION voter_status_changes_append_only();
CREATE TRIGGER voter_status_changes_no_truncate BEFORE TRUNCATE ON voter_status_changes
    FOR EACH STATEMENT EXECUTE FUNCTION voter_status_changes_append_only();
