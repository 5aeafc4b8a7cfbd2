-- The incident register grows into a tracked record: when the problem was detected, which
-- classes of data and how many records it touched (counts only), what was done, a status with
-- the steps between open and closed, and a timeline of updates. Incidents are never removed and
-- their history is never rewritten: an update row is append-only, and an incident row changes
-- only together with a new update row that carries the new values (the trigger checks it).

ALTER TABLE incidents DROP CONSTRAINT incidents_status_check;
ALTER TABLE incidents ADD CONSTRAINT incidents_status_check
    CHECK (status IN ('open', 'investigating', 'contained', 'closed'));
ALTER TABLE incidents
    ADD COLUMN detected_at BIGINT,
    -- Comma-separated data class names, sorted: `voter_confidential,voter_public`.
    ADD COLUMN data_classes TEXT NOT NULL DEFAULT '',
    ADD COLUMN actions_taken TEXT NOT NULL DEFAULT '',
    -- The detector and its subject (`failed_sign_in:account:alice`), so a detector that fires
    -- again adds to the incident it already opened; NULL for an incident opened by hand.
    ADD COLUMN detector_key TEXT,
    -- How many updates the incident has had; each update's sequence is the next revision.
    ADD COLUMN revision BIGINT NOT NULL DEFAULT 0 CHECK (revision >= 0);
-- Before the trigger below exists: the only rewrite of incident rows there will ever be.
UPDATE incidents SET detected_at = opened_at,
    data_classes = CASE kind WHEN 'bulk_read' THEN 'voter_confidential' ELSE '' END;
ALTER TABLE incidents ALTER COLUMN detected_at SET NOT NULL;

CREATE INDEX incidents_by_jurisdiction ON incidents (jurisdiction_id, opened_at);
-- One unfinished incident per detector and subject: a detector firing again adds an update.
CREATE UNIQUE INDEX incidents_one_unfinished_per_detector ON incidents (detector_key)
    WHERE detector_key IS NOT NULL AND status <> 'closed';

CREATE TABLE incident_updates (
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    sequence BIGINT NOT NULL CHECK (sequence > 0),
    at BIGINT NOT NULL,
    -- A staff user name or `system` (a detector).
    author TEXT NOT NULL,
    -- The incident's values after this update.
    status TEXT NOT NULL CHECK (status IN ('open', 'investigating', 'contained', 'closed')),
    severity TEXT NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
    records_affected BIGINT NOT NULL CHECK (records_affected >= 0),
    data_classes TEXT NOT NULL,
    actions_taken TEXT NOT NULL,
    -- What the public transparency report may show, and what stays with the office.
    public_text TEXT NOT NULL,
    internal_text TEXT NOT NULL,
    PRIMARY KEY (incident_id, sequence)
);

CREATE FUNCTION incidents_change_only_through_an_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id IS DISTINCT FROM OLD.id OR NEW.jurisdiction_id IS DISTINCT FROM OLD.jurisdiction_id
        OR NEW.opened_at IS DISTINCT FROM OLD.opened_at OR NEW.kind IS DISTINCT FROM OLD.kind
        OR NEW.summary IS DISTINCT FROM OLD.summary OR NEW.subject IS DISTINCT FROM OLD.subject
        OR NEW.detected_at IS DISTINCT FROM OLD.detected_at OR NEW.detector_key IS DISTINCT FROM OLD.detector_key
        OR NEW.revision IS DISTINCT FROM OLD.revision + 1
        OR NOT EXISTS (
            SELECT 1 FROM incident_updates AS entry
            WHERE entry.incident_id = NEW.id AND entry.sequence = NEW.revision
              AND entry.status = NEW.status AND entry.severity = NEW.severity
              AND entry.records_affected = NEW.records_affected AND entry.data_classes = NEW.data_classes
              AND entry.actions_taken = NEW.actions_taken
        )
    THEN
        RAISE EXCEPTION 'an incident changes only through a new update' USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER incidents_change_only_through_an_update BEFORE UPDATE ON incidents
    FOR EACH ROW EXECUTE FUNCTION incidents_change_only_through_an_update();

CREATE FUNCTION incident_updates_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'incident updates are append-only' USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER incident_updates_append_only BEFORE UPDATE OR DELETE ON incident_updates
    FOR EACH ROW EXECUTE FUNCTION incident_updates_append_only();
CREATE TRIGGER incident_updates_no_truncate BEFORE TRUNCATE ON incident_updates
    FOR EACH STATEMENT EXECUTE FUNCTION incident_updates_append_only();
