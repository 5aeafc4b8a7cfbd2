-- Overseas and military voters (UOCAVA, issue 9): the requests received (an FPCA from the public
-- form or a VRI import: voter, calendar year, how the blank ballot should reach them), each blank
-- ballot delivered (by mail, or a one-time download link stored only as its SHA-256 hash) and
-- each Federal Write-In Absentee Ballot received. Ids, codes and times only: no personal value.

CREATE TABLE uocava_requests (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    registration_number TEXT NOT NULL REFERENCES voters (registration_number),
    jurisdiction_id TEXT NOT NULL REFERENCES jurisdictions (id),
    year INTEGER NOT NULL CHECK (year BETWEEN 1900 AND 9999),
    delivery TEXT NOT NULL CHECK (delivery IN ('mail', 'email', 'online')),
    classification TEXT NOT NULL CHECK (classification IN ('military', 'overseas')),
    received_at BIGINT NOT NULL
);
CREATE INDEX uocava_requests_by_year ON uocava_requests (year, id);

CREATE FUNCTION uocava_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'UOCAVA requests and FWAB receipts are append-only' USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER uocava_requests_append_only BEFORE UPDATE OR DELETE ON uocava_requests
    FOR EACH ROW EXECUTE FUNCTION uocava_append_only();
CREATE TRIGGER uocava_requests_no_truncate BEFORE TRUNCATE ON uocava_requests
    FOR EACH STATEMENT EXECUTE FUNCTION uocava_append_only();

CREATE TABLE uocava_deliveries (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    registration_number TEXT NOT NULL REFERENCES voters (registration_number),
    election_id TEXT NOT NULL REFERENCES elections (id),
    style_id TEXT NOT NULL,
    method TEXT NOT NULL CHECK (method IN ('mail', 'link')),
    -- SHA-256 of the link's token, hex; only for links. The token itself is never stored.
    token_hash TEXT UNIQUE,
    sent_at BIGINT NOT NULL,
    expires_at BIGINT,
    downloaded_at BIGINT,
    CHECK ((method = 'link') = (token_hash IS NOT NULL AND expires_at IS NOT NULL)),
    CHECK (method = 'link' OR downloaded_at IS NULL)
);
CREATE INDEX uocava_deliveries_by_election ON uocava_deliveries (election_id, id);

-- A delivery changes once: its link is used. Nothing else is ever rewritten or removed.
CREATE FUNCTION uocava_deliveries_used_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'UPDATE'
        OR OLD.downloaded_at IS NOT NULL
        OR NEW.downloaded_at IS NULL
        OR (NEW.id, NEW.registration_number, NEW.election_id, NEW.style_id, NEW.method, NEW.token_hash,
            NEW.sent_at, NEW.expires_at)
           IS DISTINCT FROM
           (OLD.id, OLD.registration_number, OLD.election_id, OLD.style_id, OLD.method, OLD.token_hash,
            OLD.sent_at, OLD.expires_at)
    THEN
        RAISE EXCEPTION 'a UOCAVA delivery only records its one download' USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER uocava_deliveries_used_once BEFORE UPDATE OR DELETE ON uocava_deliveries
    FOR EACH ROW EXECUTE FUNCTION uocava_deliveries_used_once();
CREATE TRIGGER uocava_deliveries_no_truncate BEFORE TRUNCATE ON uocava_deliveries
    FOR EACH STATEMENT EXECUTE FUNCTION uocava_append_only();

CREATE TABLE uocava_fwabs (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    registration_number TEXT NOT NULL REFERENCES voters (registration_number),
    election_id TEXT NOT NULL REFERENCES elections (id),
    received_on DATE NOT NULL,
    actor TEXT NOT NULL,
    recorded_at BIGINT NOT NULL,
    UNIQUE (registration_number, election_id)
);
CREATE TRIGGER uocava_fwabs_append_only BEFORE UPDATE OR DELETE ON uocava_fwabs
    FOR EACH ROW EXECUTE FUNCTION uocava_append_only();
CREATE TRIGGER uocava_fwabs_no_truncate BEFORE TRUNCATE ON uocava_fwabs
    FOR EACH STATEMENT EXECUTE FUNCTION uocava_append_only();
