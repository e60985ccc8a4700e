-- The service catalogue (服务清单) of a subdistrict (SQLite dialect; the PostgreSQL file
-- matches it). Materials and steps are one per line.

CREATE TABLE service_items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    subdistrict_id INTEGER NOT NULL REFERENCES subdistricts(id),
    category TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    eligibility TEXT,
    materials TEXT,
    steps TEXT,
    location TEXT,
    time_limit_days INTEGER NOT NULL,
    post TEXT,
    remote_assist BOOLEAN,
    is_demo BOOLEAN NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 1,
    archived_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (subdistrict_id, name)
);
