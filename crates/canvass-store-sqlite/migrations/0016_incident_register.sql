-- The incident register grows into a tracked record: when the problem was detected, which
-- classes of data and how many records it touched (counts only), what was done, a status with
-- the steps between open and closed, and a timeline of updates. Incidents are never removed and
-- their history is never rewritten: an update row is append-only, and an incident row changes
-- only together with a new update row that carries the new values (the trigger checks it).
--
-- SQLite cannot change a CHECK constraint, so the table is rebuilt. DROP TABLE removes the old
-- table's triggers before its rows, so the no-delete trigger does not fire; it is created again
-- below.

CREATE TABLE incidents_0016 (
    id TEXT PRIMARY KEY NOT NULL,
    jurisdiction_id TEXT,
    opened_at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    severity TEXT NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
    summary TEXT NOT NULL,
    subject TEXT,
    records_affected INTEGER NOT NULL CHECK (records_affected >= 0),
    status TEXT NOT NULL CHECK (status IN ('open', 'investigating', 'contained', 'closed')),
    detected_at INTEGER NOT NULL,
    -- Comma-separated data class names, sorted: `voter_confidential,voter_public`.
    data_classes TEXT NOT NULL DEFAULT '',
    actions_taken TEXT NOT NULL DEFAULT '',
    -- The detector and its subject (`failed_sign_in:account:alice`), so a detector that fires
    -- again adds to the incident it already opened; NULL for an incident opened by hand.
    detector_key TEXT,
    -- How many updates the incident has had; each update's sequence is the next revision.
    revision INTEGER NOT NULL DEFAULT 0 CHECK (revision >= 0)
) STRICT;

INSERT INTO incidents_0016 (
    id, jurisdiction_id, opened_at, kind, severity, summary, subject, records_affected, status, detected_at,
    data_classes
)
SELECT id, jurisdiction_id, opened_at, kind, severity, summary, subject, records_affected, status, opened_at,
       CASE kind WHEN 'bulk_read' THEN 'voter_confidential' ELSE '' END
FROM incidents;

DROP TABLE incidents;
ALTER TABLE incidents_0016 RENAME TO incidents;

CREATE INDEX incidents_by_opened_at ON incidents (opened_at);
CREATE INDEX incidents_by_jurisdiction ON incidents (jurisdiction_id, opened_at);
-- One unfinished incident per detector and subject: a detector firing again adds an update.
CREATE UNIQUE INDEX incidents_one_unfinished_per_detector ON incidents (detector_key)
    WHERE detector_key IS NOT NULL AND status <> 'closed';

CREATE TABLE incident_updates (
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    sequence INTEGER NOT NULL CHECK (sequence > 0),
    at INTEGER NOT NULL,
    -- A staff user name or `system` (a detector).
    author TEXT NOT NULL,
    -- The incident's values after this update.
    status TEXT NOT NULL CHECK (status IN ('open', 'investigating', 'contained', 'closed')),
    severity TEXT NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
    records_affected INTEGER NOT NULL CHECK (records_affected >= 0),
    data_classes TEXT NOT NULL,
    actions_taken TEXT NOT NULL,
    -- What the public transparency report may show, and what stays with the office.
    public_text TEXT NOT NULL,
    internal_text TEXT NOT NULL,
    PRIMARY KEY (incident_id, sequence)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER incidents_no_delete BEFORE DELETE ON incidents
BEGIN
    SELECT RAISE(ABORT, 'an incident is never removed');
END;

CREATE TRIGGER incidents_change_only_through_an_update BEFORE UPDATE ON incidents
WHEN NOT (
    NEW.id IS OLD.id AND NEW.jurisdiction_id IS OLD.jurisdiction_id AND NEW.opened_at IS OLD.opened_at
    AND NEW.kind IS OLD.kind AND NEW.summary IS OLD.summary AND NEW.subject IS OLD.subject
    AND NEW.detected_at IS OLD.detected_at AND NEW.detector_key IS OLD.detector_key
    AND NEW.revision = OLD.revision + 1
    AND EXISTS (
        SELECT 1 FROM incident_updates AS entry
        WHERE entry.incident_id = NEW.id AND entry.sequence = NEW.revision
          AND entry.status = NEW.status AND entry.severity = NEW.severity
          AND entry.records_affected = NEW.records_affected AND entry.data_classes = NEW.data_classes
          AND entry.actions_taken = NEW.actions_taken
    )
)
BEGIN
    SELECT RAISE(ABORT, 'an incident changes only through a new update');
END;

CREATE TRIGGER incident_updates_no_update BEFORE UPDATE ON incident_updates
BEGIN
    SELECT RAISE(ABORT, 'incident updates are append-only');
END;
CREATE TRIGGER incident_updates_no_delete BEFORE DELETE ON incident_updates
BEGIN
    SELECT RAISE(ABORT, 'incident updates are append-only');
END;
