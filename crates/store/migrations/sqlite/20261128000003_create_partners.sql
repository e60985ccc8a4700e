-- Partner units (共建单位 / 辖区单位): health centres, schools, property managers… that
-- co-build the doorstep service (SQLite dialect; the PostgreSQL file matches it).

CREATE TABLE partners (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    subdistrict_id INTEGER NOT NULL REFERENCES subdistricts(id),
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    neighbourhood_id INTEGER REFERENCES neighbourhoods(id),
    address TEXT,
    contact_name TEXT,
    phone TEXT,
    lat REAL,
    lon REAL,
    resources TEXT,
    description TEXT,
    is_demo BOOLEAN NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 1,
    archived_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (subdistrict_id, name)
);
CREATE INDEX partners_neighbourhood ON partners (neighbourhood_id);
