-- FPCAs from the public form held for a clerk (issue 9): an anonymous request that matches a
-- voter already on the roll is not applied, so that nobody who knows a voter's name and date of
-- birth can redirect their ballot. The request is kept sealed under the roll's key ring (no
-- plaintext personal value) until a clerk confirms it (it is then applied as an FPCA is) or
-- rejects it with a reason. Both tables are append-only: a decision is made once.

CREATE TABLE uocava_pending_fpcas (
    id TEXT PRIMARY KEY,
    registration_number TEXT NOT NULL REFERENCES voters (registration_number),
    jurisdiction_id TEXT NOT NULL REFERENCES jurisdictions (id),
    sealed_request BYTEA NOT NULL,
    received_at BIGINT NOT NULL
);

CREATE FUNCTION uocava_pending_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'held FPCAs and their decisions are append-only' USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER uocava_pending_fpcas_append_only BEFORE UPDATE OR DELETE ON uocava_pending_fpcas
    FOR EACH ROW EXECUTE FUNCTION uocava_pending_append_only();
CREATE TRIGGER uocava_pending_fpcas_no_truncate BEFORE TRUNCATE ON uocava_pending_fpcas
    FOR EACH STATEMENT EXECUTE FUNCTION uocava_pending_append_only();

CREATE TABLE uocava_pending_decisions (
    pending_id TEXT PRIMARY KEY REFERENCES uocava_pending_fpcas (id),
    decision TEXT NOT NULL CHECK (decision IN ('confirmed', 'rejected')),
    reason TEXT NOT NULL,
    actor TEXT NOT NULL,
    decided_at BIGINT NOT NULL
);
CREATE TRIGGER uocava_pending_decisions_append_only BEFORE UPDATE OR DELETE ON uocava_pending_decisions
    FOR EACH ROW EXECUTE FUNCTION uocava_pending_append_only();
CREATE TRIGGER uocava_pending_decisions_no_truncate BEFORE TRUNCATE ON uocava_pending_decisions
    FOR EACH STATEMENT EXECUTE FUNCTION uocava_pending_append_only();
