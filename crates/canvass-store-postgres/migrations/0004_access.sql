-- The access layer: accounts lose their single role and gain an email address, suspension and
-- a second factor; roles become grants on a jurisdiction or the whole node. Sessions, API
-- tokens, two-person requests, the incident register and the mail outbox are new.

ALTER TABLE staff_accounts
    ADD COLUMN email TEXT,
    ADD COLUMN suspended BOOLEAN NOT NULL DEFAULT FALSE,
    -- Sealed under a key derived from the node's key, never the secret itself.
    ADD COLUMN totp_secret BYTEA,
    ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;

-- jurisdiction_id NULL is the whole node. `scope` gives it a value ('' is no jurisdiction id)
-- so the unique index treats two node-wide grants as equal, which it would not do for NULLs.
-- One permanent grant per role and scope, and at most one emergency grant beside it (opening
-- break-glass access again replaces its expiry).
CREATE TABLE staff_grants (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username TEXT NOT NULL REFERENCES staff_accounts (username) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN (
        'state_administrator', 'county_administrator', 'registration_clerk', 'results_reporter', 'auditor', 'observer'
    )),
    jurisdiction_id TEXT REFERENCES jurisdictions (id),
    scope TEXT NOT NULL GENERATED ALWAYS AS (COALESCE(jurisdiction_id, '')) STORED,
    expires_at BIGINT,
    emergency BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE UNIQUE INDEX staff_grants_once ON staff_grants (username, role, scope, emergency);

-- Every former administrator keeps full power: state administrator on the whole node.
INSERT INTO staff_grants (username, role, jurisdiction_id, expires_at, emergency)
SELECT username, 'state_administrator', NULL, NULL, FALSE FROM staff_accounts WHERE role = 'administrator';

ALTER TABLE staff_accounts DROP COLUMN role;

-- id_hash is SHA-256 of the cookie: a copied database holds no usable session.
CREATE TABLE staff_sessions (
    id_hash BYTEA PRIMARY KEY NOT NULL,
    username TEXT NOT NULL REFERENCES staff_accounts (username) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    second_factor BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX staff_sessions_by_username ON staff_sessions (username);

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    secret_hash BYTEA NOT NULL,
    label TEXT NOT NULL,
    owner TEXT NOT NULL REFERENCES staff_accounts (username),
    role TEXT NOT NULL CHECK (role IN (
        'state_administrator', 'county_administrator', 'registration_clerk', 'results_reporter', 'auditor', 'observer'
    )),
    jurisdiction_id TEXT REFERENCES jurisdictions (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX api_tokens_by_created_at ON api_tokens (created_at);

CREATE TABLE access_requests (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN (
        'export_voters', 'rotate_keys', 'shred_keys', 'grant_administrator', 'certify_results'
    )),
    requester TEXT NOT NULL REFERENCES staff_accounts (username),
    jurisdiction_id TEXT NOT NULL REFERENCES jurisdictions (id),
    subject TEXT NOT NULL,
    justification TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'executed')),
    approver TEXT REFERENCES staff_accounts (username),
    decided_at BIGINT
);
CREATE INDEX access_requests_by_status ON access_requests (status, created_at);
CREATE INDEX access_requests_by_created_at ON access_requests (created_at);

-- The incident register. No foreign keys: a detector must be able to record whatever it saw
-- (a login name that does not exist, say), and an incident is never removed.
CREATE TABLE incidents (
    id TEXT PRIMARY KEY NOT NULL,
    jurisdiction_id TEXT,
    opened_at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    severity TEXT NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
    summary TEXT NOT NULL,
    subject TEXT,
    records_affected BIGINT NOT NULL CHECK (records_affected >= 0),
    status TEXT NOT NULL CHECK (status IN ('open', 'closed'))
);
CREATE INDEX incidents_by_opened_at ON incidents (opened_at);

CREATE FUNCTION incidents_never_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'an incident is never removed' USING ERRCODE = 'restrict_violation';
END;
$$;
-- The statement trigger refuses TRUNCATE, which bypasses row triggers.
CREATE TRIGGER incidents_no_delete BEFORE DELETE ON incidents
    FOR EACH ROW EXECUTE FUNCTION incidents_never_removed();
CREATE TRIGGER incidents_no_truncate BEFORE TRUNCATE ON incidents
    FOR EACH STATEMENT EXECUTE FUNCTION incidents_never_removed();

CREATE TABLE mail_outbox (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    sent_at BIGINT,
    attempts BIGINT NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error TEXT
);
CREATE INDEX mail_outbox_pending ON mail_outbox (id) WHERE sent_at IS NULL;
