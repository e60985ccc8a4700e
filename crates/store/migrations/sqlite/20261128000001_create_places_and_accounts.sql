-- Places, staff accounts, sessions and the audit log (SQLite dialect).
-- The PostgreSQL file of the same name creates the same tables and columns.

CREATE TABLE subdistricts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    code TEXT,
    district TEXT,
    address TEXT,
    phone TEXT,
    is_demo BOOLEAN NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 1,
    archived_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE communities (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    subdistrict_id INTEGER NOT NULL REFERENCES subdistricts(id),
    name TEXT NOT NULL,
    description TEXT,
    is_demo BOOLEAN NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 1,
    archived_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (subdistrict_id, name)
);

CREATE TABLE neighbourhoods (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    subdistrict_id INTEGER NOT NULL REFERENCES subdistricts(id),
    community_id INTEGER NOT NULL REFERENCES communities(id),
    name TEXT NOT NULL,
    short_name TEXT,
    committee_name TEXT,
    secretary_name TEXT,
    office_phone TEXT,
    address TEXT,
    households INTEGER,
    population INTEGER,
    is_demo BOOLEAN NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 1,
    archived_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (community_id, name)
);
CREATE INDEX neighbourhoods_subdistrict ON neighbourhoods (subdistrict_id);

CREATE TABLE accounts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    subdistrict_id INTEGER NOT NULL REFERENCES subdistricts(id),
    neighbourhood_id INTEGER REFERENCES neighbourhoods(id),
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    partner_unit TEXT,
    phone TEXT,
    password_hash TEXT,
    locale TEXT NOT NULL DEFAULT 'zh-CN',
    disabled BOOLEAN NOT NULL DEFAULT 0,
    is_demo BOOLEAN NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 1,
    last_login_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX accounts_neighbourhood ON accounts (neighbourhood_id);

CREATE TABLE estates (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    subdistrict_id INTEGER NOT NULL REFERENCES subdistricts(id),
    neighbourhood_id INTEGER NOT NULL REFERENCES neighbourhoods(id),
    name TEXT NOT NULL,
    address TEXT,
    built_year INTEGER,
    property_manager TEXT,
    is_demo BOOLEAN NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 1,
    archived_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (neighbourhood_id, name)
);

CREATE TABLE blocks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    subdistrict_id INTEGER NOT NULL REFERENCES subdistricts(id),
    neighbourhood_id INTEGER NOT NULL REFERENCES neighbourhoods(id),
    name TEXT NOT NULL,
    worker_id INTEGER REFERENCES accounts(id),
    description TEXT,
    is_demo BOOLEAN NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 1,
    archived_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (neighbourhood_id, name)
);
CREATE INDEX blocks_worker ON blocks (worker_id);

CREATE TABLE buildings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    subdistrict_id INTEGER NOT NULL REFERENCES subdistricts(id),
    neighbourhood_id INTEGER NOT NULL REFERENCES neighbourhoods(id),
    estate_id INTEGER NOT NULL REFERENCES estates(id),
    number TEXT NOT NULL,
    units INTEGER,
    floors INTEGER,
    households INTEGER,
    lat REAL,
    lon REAL,
    leader_name TEXT,
    block_id INTEGER REFERENCES blocks(id),
    is_demo BOOLEAN NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 1,
    archived_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (estate_id, number)
);
CREATE INDEX buildings_neighbourhood ON buildings (neighbourhood_id);
CREATE INDEX buildings_block ON buildings (block_id);

CREATE TABLE stations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    subdistrict_id INTEGER NOT NULL REFERENCES subdistricts(id),
    neighbourhood_id INTEGER NOT NULL UNIQUE REFERENCES neighbourhoods(id),
    name TEXT NOT NULL,
    address TEXT,
    opening_hours TEXT,
    phone TEXT,
    lat REAL,
    lon REAL,
    office_area_before_m2 REAL,
    is_model BOOLEAN,
    is_demo BOOLEAN NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 1,
    archived_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE rooms (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    subdistrict_id INTEGER NOT NULL REFERENCES subdistricts(id),
    neighbourhood_id INTEGER NOT NULL REFERENCES neighbourhoods(id),
    station_id INTEGER NOT NULL REFERENCES stations(id),
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    area_m2 REAL NOT NULL,
    capacity INTEGER,
    is_office BOOLEAN,
    description TEXT,
    is_demo BOOLEAN NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 1,
    archived_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (station_id, name)
);

CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    csrf_token TEXT NOT NULL,
    ip TEXT,
    user_agent TEXT,
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL
);
CREATE INDEX sessions_account ON sessions (account_id);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT
);
CREATE INDEX api_tokens_account ON api_tokens (account_id);

CREATE TABLE login_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL,
    ip TEXT,
    succeeded BOOLEAN NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX login_attempts_username ON login_attempts (username, at);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    subdistrict_id INTEGER,
    actor_id INTEGER,
    actor_name TEXT,
    action TEXT NOT NULL,
    entity TEXT,
    entity_id INTEGER,
    detail TEXT,
    ip TEXT
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_entity ON audit_log (entity, entity_id);
CREATE INDEX audit_log_actor ON audit_log (actor_id);

-- The audit log is append-only: no row is ever changed or removed.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
