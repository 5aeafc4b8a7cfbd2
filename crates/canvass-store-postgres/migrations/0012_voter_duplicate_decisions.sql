-- Clerks' decisions on candidate duplicate voter records: the pair (first sorting before
-- second), merged (which record was kept) or dismissed, the written reason, who and when.
-- Ids and codes only, no personal value. Rows are never changed or deleted: a decision made in
-- error is corrected by a status change, not by rewriting it. The candidate query pairs rows of
-- one roll on equal blind indexes (voters_by_lookup_index, voters_by_drivers_license_index).

CREATE TABLE voter_duplicate_decisions (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    jurisdiction_id TEXT NOT NULL REFERENCES jurisdictions (id),
    first_registration_number TEXT NOT NULL REFERENCES voters (registration_number),
    second_registration_number TEXT NOT NULL REFERENCES voters (registration_number),
    decision TEXT NOT NULL CHECK (decision IN ('merged', 'dismissed')),
    kept_registration_number TEXT,
    reason TEXT NOT NULL,
    actor TEXT NOT NULL,
    decided_at BIGINT NOT NULL,
    CHECK (first_registration_number COLLATE "C" < second_registration_number COLLATE "C"),
    CHECK ((decision = 'merged') = (kept_registration_number IS NOT NULL))
);
CREATE INDEX voter_duplicate_decisions_by_pair
    ON voter_duplicate_decisions (first_registration_number, second_registration_number);
CREATE INDEX voter_duplicate_decisions_by_second ON voter_duplicate_decisions (second_registration_number);

CREATE FUNCTION voter_duplicate_decisions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'voter duplicate decisions are append-only' USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER voter_duplicate_decisions_append_only BEFORE UPDATE OR DELETE ON voter_duplicate_decisions
    FOR EACH ROW EXECUTE FUNCTION voter_duplicate_decisions_append_only();
CREATE TRIGGER voter_duplicate_decisions_no_truncate BEFORE TRUNCATE ON voter_duplicate_decisions
    FOR EACH STATEMENT EXECUTE FUNCTION voter_duplicate_decisions_append_only();
