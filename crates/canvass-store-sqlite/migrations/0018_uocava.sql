-- Overseas and military voters (UOCAVA, issue 9): the requests received (an FPCA from the public
-- form or a VRI import: voter, calendar year, how the blank ballot should reach them), each blank
-- ballot delivered (by mail, or a one-time download link stored only as its SHA-256 hash) and
-- each Federal Write-In Absentee Ballot received. Ids, codes and times only: no personal value.

CREATE TABLE uocava_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    registration_number TEXT NOT NULL REFERENCES voters (registration_number),
    jurisdiction_id TEXT NOT NULL REFERENCES jurisdictions (id),
    year INTEGER NOT NULL CHECK (year BETWEEN 1900 AND 9999),
    delivery TEXT NOT NULL CHECK (delivery IN ('mail', 'email', 'online')),
    classification TEXT NOT NULL CHECK (classification IN ('military', 'overseas')),
    received_at INTEGER NOT NULL
) STRICT;
CREATE INDEX uocava_requests_by_year ON uocava_requests (year, id);

CREATE TRIGGER uocava_requests_no_update BEFORE UPDATE ON uocava_requests
BEGIN
    SELECT RAISE(ABORT, 'UOCAVA requests are append-only; a later request supersedes');
END;
CREATE TRIGGER uocava_requests_no_delete BEFORE DELETE ON uocava_requests
BEGIN
    SELECT RAISE(ABORT, 'UOCAVA requests are append-only; a later request supersedes');
END;

CREATE TABLE uocava_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    registration_number TEXT NOT NULL REFERENCES voters (registration_number),
    election_id TEXT NOT NULL REFERENCES elections (id),
    style_id TEXT NOT NULL,
    method TEXT NOT NULL CHECK (method IN ('mail', 'link')),
    -- SHA-256 of the link's token, hex; only for links. The token itself is never stored.
    token_hash TEXT UNIQUE,
    sent_at INTEGER NOT NULL,
    expires_at INTEGER,
    downloaded_at INTEGER,
    CHECK ((method = 'link') = (token_hash IS NOT NULL AND expires_at IS NOT NULL)),
    CHECK (method = 'link' OR downloaded_at IS NULL)
) STRICT;
CREATE INDEX uocava_deliveries_by_election ON uocava_deliveries (election_id, id);

-- A delivery changes once: its link is used. Nothing else is ever rewritten or removed.
CREATE TRIGGER uocava_deliveries_used_once BEFORE UPDATE ON uocava_deliveries
WHEN OLD.downloaded_at IS NOT NULL
    OR NEW.downloaded_at IS NULL
    OR NEW.id IS NOT OLD.id
    OR NEW.registration_number IS NOT OLD.registration_number
    OR NEW.election_id IS NOT OLD.election_id
    OR NEW.style_id IS NOT OLD.style_id
    OR NEW.method IS NOT OLD.method
    OR NEW.token_hash IS NOT OLD.token_hash
    OR NEW.sent_at IS NOT OLD.sent_at
    OR NEW.expires_at IS NOT OLD.expires_at
BEGIN
    SELECT RAISE(ABORT, 'a UOCAVA delivery only records its one download');
END;
CREATE TRIGGER uocava_deliveries_no_delete BEFORE DELETE ON uocava_deliveries
BEGIN
    SELECT RAISE(ABORT, 'UOCAVA deliveries are never deleted');
END;

CREATE TABLE uocava_fwabs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    registration_number TEXT NOT NULL REFERENCES voters (registration_number),
    election_id TEXT NOT NULL REFERENCES elections (id),
    received_on TEXT NOT NULL,
    actor TEXT NOT NULL,
    recorded_at INTEGER NOT NULL,
    UNIQUE (registration_number, election_id)
) STRICT;

CREATE TRIGGER uocava_fwabs_no_update BEFORE UPDATE ON uocava_fwabs
BEGIN
    SELECT RAISE(ABORT, 'FWAB receipts are append-only');
END;
CREATE TRIGGER uocava_fwabs_no_delete BEFORE DELETE ON uocava_fwabs
BEGIN
    SELECT RAISE(ABORT, 'FWAB receipts are append-only');
END;
