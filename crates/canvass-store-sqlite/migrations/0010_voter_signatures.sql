-- Voters' signature images, confidential in North Carolina (G.S. 163-82.10): each sealed under the
-- jurisdiction's field key, bound to (jurisdiction, voter, field `signature`, key version), so the
-- table holds no image in the clear. One per voter; a new image replaces the old one.

CREATE TABLE voter_signatures (
    registration_number TEXT PRIMARY KEY NOT NULL REFERENCES voters (registration_number),
    jurisdiction_id TEXT NOT NULL REFERENCES jurisdictions (id),
    key_version INTEGER NOT NULL,
    sealed_image BLOB NOT NULL,
    media_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    added_at INTEGER NOT NULL,
    added_by TEXT NOT NULL
) STRICT;
CREATE INDEX voter_signatures_by_key_version ON voter_signatures (jurisdiction_id, key_version);
