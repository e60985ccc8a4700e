-- Care tags an admin defines beyond the seed's groups (e.g. 失独家庭, 退役军人), kept per
-- subdistrict and stored on residents as `custom:<name>`; and the retention rule's mark on
-- residents whose record was archived long enough ago to have its personal data erased.

CREATE TABLE care_tag_kinds (
    subdistrict_id INTEGER NOT NULL REFERENCES subdistricts(id),
    name TEXT NOT NULL,
    sensitive BOOLEAN NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    retired_at TEXT,
    PRIMARY KEY (subdistrict_id, name)
);

ALTER TABLE residents ADD COLUMN purged_at TEXT;
CREATE INDEX residents_archived ON residents (archived_at) WHERE archived_at IS NOT NULL AND purged_at IS NULL;
