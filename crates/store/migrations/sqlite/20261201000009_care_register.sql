-- The care register (SQLite dialect; the PostgreSQL file matches it): households at a
-- building's unit and room, residents with their ID number and phone sealed (AES-GCM, the
-- key outside the database) and found by keyed hash, care tags kept as history (a change
-- ends a row and starts another), door-to-door visits, and the visit plan per tag.

CREATE TABLE households (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    subdistrict_id INTEGER NOT NULL REFERENCES subdistricts(id),
    neighbourhood_id INTEGER NOT NULL REFERENCES neighbourhoods(id),
    building_id INTEGER NOT NULL REFERENCES buildings(id),
    unit TEXT NOT NULL DEFAULT '',
    room TEXT NOT NULL,
    note TEXT,
    is_demo BOOLEAN NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 1,
    archived_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (building_id, unit, room)
);
CREATE INDEX households_nb ON households (neighbourhood_id, building_id);

CREATE TABLE residents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    subdistrict_id INTEGER NOT NULL REFERENCES subdistricts(id),
    neighbourhood_id INTEGER NOT NULL REFERENCES neighbourhoods(id),
    household_id INTEGER NOT NULL REFERENCES households(id),
    name TEXT NOT NULL,
    sex TEXT,
    birth_date TEXT,
    id_number_sealed TEXT,
    id_number_lookup TEXT,
    phone_sealed TEXT,
    phone_lookup TEXT,
    residency TEXT NOT NULL,
    languages TEXT,
    is_demo BOOLEAN NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 1,
    archived_at TEXT,
    archived_reason TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (subdistrict_id, id_number_lookup)
);
CREATE INDEX residents_household ON residents (household_id);
CREATE INDEX residents_nb ON residents (neighbourhood_id);
CREATE INDEX residents_phone ON residents (subdistrict_id, phone_lookup);

CREATE TABLE care_tags (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    resident_id INTEGER NOT NULL REFERENCES residents(id),
    tag TEXT NOT NULL,
    detail TEXT,
    note TEXT,
    started_on TEXT NOT NULL,
    ended_on TEXT,
    created_at TEXT NOT NULL,
    created_by INTEGER REFERENCES accounts(id)
);
CREATE INDEX care_tags_resident ON care_tags (resident_id, ended_on);
CREATE INDEX care_tags_tag ON care_tags (tag, ended_on);

CREATE TABLE visits (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    subdistrict_id INTEGER NOT NULL REFERENCES subdistricts(id),
    neighbourhood_id INTEGER NOT NULL REFERENCES neighbourhoods(id),
    household_id INTEGER NOT NULL REFERENCES households(id),
    worker_id INTEGER NOT NULL REFERENCES accounts(id),
    kind TEXT NOT NULL,
    met TEXT,
    notes TEXT,
    said TEXT,
    visited_at TEXT NOT NULL,
    client_key TEXT NOT NULL UNIQUE,
    request_id INTEGER REFERENCES requests(id),
    is_demo BOOLEAN NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE INDEX visits_household ON visits (household_id, visited_at);
CREATE INDEX visits_worker ON visits (worker_id, visited_at);

CREATE TABLE visit_plans (
    subdistrict_id INTEGER NOT NULL REFERENCES subdistricts(id),
    tag TEXT NOT NULL,
    every_days INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (subdistrict_id, tag)
);
