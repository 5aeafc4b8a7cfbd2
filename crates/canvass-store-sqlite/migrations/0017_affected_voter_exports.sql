-- Two-person requests gain a kind: exporting the voters an incident's subject read
-- (`export_affected_voters`, subject = the incident id). SQLite cannot change a CHECK
-- constraint, so the table is rebuilt with its rows, columns and indexes as they were.
CREATE TABLE access_requests_widened (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN (
        'export_voters', 'rotate_keys', 'shred_keys', 'grant_administrator', 'certify_results',
        'export_affected_voters'
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
INSERT INTO access_requests_widened
    (id, kind, requester, jurisdiction_id, subject, justification, created_at, expires_at, status, approver, decided_at)
SELECT id, kind, requester, jurisdiction_id, subject, justification, created_at, expires_at, status, approver, decided_at
FROM access_requests;
DROP TABLE access_requests;
ALTER TABLE access_requests_widened RENAME TO access_requests;
CREATE INDEX access_requests_by_status ON access_requests (status, created_at);
CREATE INDEX access_requests_by_created_at ON access_requests (created_at);
