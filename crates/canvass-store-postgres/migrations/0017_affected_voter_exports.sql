-- Two-person requests gain a kind: exporting the voters an incident's subject read
-- (`export_affected_voters`, subject = the incident id).
ALTER TABLE access_requests DROP CONSTRAINT access_requests_kind_check;
ALTER TABLE access_requests ADD CONSTRAINT access_requests_kind_check CHECK (kind IN (
    'export_voters', 'rotate_keys', 'shred_keys', 'grant_administrator', 'certify_results',
    'export_affected_voters'
));
