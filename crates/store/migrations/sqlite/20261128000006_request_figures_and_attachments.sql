-- What figures, duplicates, web intake and Open311 need of requests (SQLite dialect; the
-- PostgreSQL file matches it). The new workflow columns are kept in step with the
-- `workflow` JSON by the same UPDATE, so figures aggregate columns, not JSON.

ALTER TABLE requests ADD COLUMN on_spot BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE requests ADD COLUMN rating TEXT;
ALTER TABLE requests ADD COLUMN merged_into INTEGER REFERENCES requests(id);
-- Seconds from intake to the (latest) resolution.
ALTER TABLE requests ADD COLUMN resolve_secs BIGINT;
-- Where the resident says it is, in their words (web form, Open311 address_string).
ALTER TABLE requests ADD COLUMN address TEXT;
ALTER TABLE requests ADD COLUMN resident_email TEXT;

CREATE INDEX requests_nb_created ON requests (neighbourhood_id, created_at);
CREATE INDEX requests_sd_created ON requests (subdistrict_id, created_at);
CREATE INDEX requests_building ON requests (building_id, created_at);

CREATE TABLE request_attachments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id INTEGER NOT NULL REFERENCES requests(id),
    content_type TEXT NOT NULL,
    byte_size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    data BLOB NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX request_attachments_request ON request_attachments (request_id);
