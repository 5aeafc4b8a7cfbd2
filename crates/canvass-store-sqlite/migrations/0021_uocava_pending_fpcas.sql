-- FPCAs from the public form held for a clerk (issue 9): an anonymous request that matches a
-- voter already on the roll is not applied, so that nobody who knows a voter's name and date of
-- birth can redirect their ballot. The request is kept sealed under the roll's key ring (no
-- plaintext personal value) until a clerk confirms it (it is then applied as an FPCA is) or
-- rejects it with a reason. Both tables are append-only: a decision is made once.

CREATE TABLE uocava_pending_fpcas (
    id TEXT PRIMARY KEY,
    registration_number TEXT NOT NULL REFERENCES voters (registration_number),
    jurisdiction_id TEXT NOT NULL REFERENCES jurisdictions (id),
    sealed_request BLOB NOT NULL,
    received_at INTEGER NOT NULL
) STRICT;

CREATE TRIGGER uocava_pending_fpcas_no_update BEFORE UPDATE ON uocava_pending_fpcas
BEGIN
    SELECT RAISE(ABORT, 'held FPCAs are append-only');
END;
CREATE TRIGGER uocava_pending_fpcas_no_delete BEFORE DELETE ON uocava_pending_fpcas
BEGIN
    SELECT RAISE(ABORT, 'held FPCAs are append-only');
END;

CREATE TABLE uocava_pending_decisions (
    pending_id TEXT PRIMARY KEY REFERENCES uocava_pending_fpcas (id),
    decision TEXT NOT NULL CHECK (decision IN ('confirmed', 'rejected')),
    reason TEXT NOT NULL,
    actor TEXT NOT NULL,
    decided_at INTEGER NOT NULL
) STRICT;

CREATE TRIGGER uocava_pending_decisions_no_update BEFORE UPDATE ON uocava_pending_decisions
BEGIN
    SELECT RAISE(ABORT, 'a held FPCA is decided once');
END;
CREATE TRIGGER uocava_pending_decisions_no_delete BEFORE DELETE ON uocava_pending_decisions
BEGIN
    SELECT RAISE(ABORT, 'a held FPCA is decided once');
END;
