-- The access layer: accounts lose their single role and gain an email address, suspension and
-- a second factor; roles become grants on a jurisdiction or the whole node. Sessions, API
-- tokens, two-person requests, the incident register and the mail outbox are new.

-- SQLite cannot drop a column with a CHECK on it, so the accounts table is rebuilt. Nothing
-- references it yet, so renaming the old table first rewrites no foreign key.
ALTER TABLE staff_accounts RENAME TO staff_accounts_before_0004;

CREATE TABLE staff_accounts (
    username TEXT PRIMARY KEY NOT NULL,
    password_hash TEXT NOT NULL,
    email TEXT,
    suspended INTEGER NOT NULL DEFAULT 0 CHECK (suspended IN (0, 1)),
    -- Sealed under a key derived from the node's key, never the secret itself.
    totp_secret BLOB,
    totp_last_step INTEGER NOT NULL DEFAULT 0
) STRICT;

INSERT INTO staff_accounts (username, password_hash)
SELECT username, password_hash FROM staff_accounts_before_0004;

-- jurisdiction_id NULL is the whole node. `scope` gives it a value ('' is no jurisdiction id)
-- so the unique index treats two node-wide grants as equal, which it would not do for NULLs.
-- One permanent grant per role and scope, and at most one emergency grant beside it (opening
-- break-glass access again replaces its expiry).
CREATE TABLE staff_grants (
    id INTEGER PRIMARY KEY NOT NULL,
    username TEXT NOT NULL REFERENCES staff_accounts (username) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN (
        'state_administrator', 'county_administrator', 'registration_clerk', 'results_reporter', 'auditor', 'observer'
    )),
    jurisdiction_id TEXT REFERENCES jurisdictions (id),
    scope TEXT NOT NULL GENERATED ALWAYS AS (COALESCE(jurisdiction_id, '')) VIRTUAL,
    expires_at INTEGER,
    emergency INTEGER NOT NULL DEFAULT 0 CHECK (emergency IN (0, 1))
) STRICT;
CREATE UNIQUE INDEX staff_grants_once ON staff_grants (username, role, scope, emergency);

-- Every former administrator keeps full power: state administrator on the whole node.
INSERT INTO staff_grants (username, role, jurisdiction_id, expires_at, emergency)
SELECT username, 'state_administrator', NULL, NULL, 0 FROM staff_accounts_before_0004 WHERE role = 'administrator';

DROP TABLE staff_accounts_before_0004;

-- id_hash is SHA-256 of the cookie: a copied database holds no usable session.
CREATE TABLE staff_sessions (
    id_hash BLOB PRIMARY KEY NOT NULL,
    username TEXT NOT NULL REFERENCES staff_accounts (username) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    second_factor INTEGER NOT NULL DEFAULT 0 CHECK (second_factor IN (0, 1))
) STRICT;
CREATE INDEX staff_sessions_by_username ON staff_sessions (username);

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    secret_hash BLOB NOT NULL,
    label TEXT NOT NULL,
    owner TEXT NOT NULL REFERENCES staff_accounts (username),
    role TEXT NOT NULL CHECK (role IN (
        'state_administrator', 'county_administrator', 'registration_clerk', 'results_reporter', 'auditor', 'observer'
    )),
    jurisdiction_id TEXT REFERENCES jurisdictions (id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1))
) STRICT;
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
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'executed')),
    approver TEXT REFERENCES staff_accounts (username),
    decided_at INTEGER
) STRICT;
CREATE INDEX access_requests_by_status ON access_requests (status, created_at);
CREATE INDEX access_requests_by_created_at ON access_requests (created_at);

-- The incident register. No foreign keys: a detector must be able to record whatever it saw
-- (a login name that does not exist, say), and an incident is never removed.
CREATE TABLE incidents (
    id TEXT PRIMARY KEY NOT NULL,
    jurisdiction_id TEXT,
    opened_at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    severity TEXT NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
    summary TEXT NOT NULL,
    subject TEXT,
    records_affected INTEGER NOT NULL CHECK (records_affected >= 0),
    status TEXT NOT NULL CHECK (status IN ('open', 'closed'))
) STRICT;
CREATE INDEX incidents_by_opened_at ON incidents (opened_at);

CREATE TRIGGER incidents_no_delete BEFORE DELETE ON incidents
BEGIN
    SELECT RAISE(ABORT, 'an incident is never removed');
END;

-- AUTOINCREMENT: an id is never reused, even after the newest message is gone.
CREATE TABLE mail_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    sent_at INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error TEXT
) STRICT;
CREATE INDEX mail_outbox_pending ON mail_outbox (id) WHERE sent_at IS NULL;
