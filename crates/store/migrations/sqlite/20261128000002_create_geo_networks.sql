-- The walking network of a subdistrict (stored compactly as one blob) and the facilities
-- imported with it (SQLite dialect; the PostgreSQL file has the same tables and columns).

CREATE TABLE geo_networks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    subdistrict_id INTEGER NOT NULL REFERENCES subdistricts(id),
    name TEXT NOT NULL,
    source TEXT NOT NULL,
    synthetic BOOLEAN NOT NULL,
    nodes INTEGER NOT NULL,
    edges INTEGER NOT NULL,
    south REAL NOT NULL,
    west REAL NOT NULL,
    north REAL NOT NULL,
    east REAL NOT NULL,
    data BLOB NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX geo_networks_subdistrict ON geo_networks (subdistrict_id);

CREATE TABLE geo_facilities (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    network_id INTEGER NOT NULL REFERENCES geo_networks(id),
    category TEXT NOT NULL,
    name TEXT NOT NULL,
    lat REAL NOT NULL,
    lon REAL NOT NULL,
    source TEXT NOT NULL
);
CREATE INDEX geo_facilities_network ON geo_facilities (network_id);
