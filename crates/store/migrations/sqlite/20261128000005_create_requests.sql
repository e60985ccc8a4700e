-- Requests (诉求/工单) and their append-only timeline (SQLite dialect; the PostgreSQL file
-- matches it). The workflow columns of `requests` are kept in step with the events in
-- the same transaction.

CREATE TABLE requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    subdistrict_id INTEGER NOT NULL REFERENCES subdistricts(id),
    neighbourhood_id INTEGER NOT NULL REFERENCES neighbourhoods(id),
    tracking_code TEXT NOT NULL UNIQUE,
    channel TEXT NOT NULL,
    kind TEXT NOT NULL,
    service_item_id INTEGER REFERENCES service_items(id),
    description TEXT NOT NULL,
    building_id INTEGER REFERENCES buildings(id),
    lat REAL,
    lon REAL,
    resident_name TEXT,
    resident_phone TEXT,
    owner_id INTEGER NOT NULL REFERENCES accounts(id),
    state TEXT NOT NULL,
    workflow TEXT NOT NULL,
    handler_account_id INTEGER REFERENCES accounts(id),
    escalated BOOLEAN NOT NULL DEFAULT 0,
    deadline_at TEXT NOT NULL,
    resolved_at TEXT,
    closed_at TEXT,
    is_demo BOOLEAN NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX requests_neighbourhood ON requests (neighbourhood_id, state);
CREATE INDEX requests_owner ON requests (owner_id, state);
CREATE INDEX requests_handler ON requests (handler_account_id, state);
CREATE INDEX requests_deadline ON requests (state, deadline_at);

CREATE TABLE request_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id INTEGER NOT NULL REFERENCES requests(id),
    seq INTEGER NOT NULL,
    at TEXT NOT NULL,
    actor_id INTEGER,
    actor_name TEXT NOT NULL,
    relation TEXT NOT NULL,
    move TEXT NOT NULL,
    state_after TEXT NOT NULL,
    UNIQUE (request_id, seq)
);

CREATE TRIGGER request_events_no_update BEFORE UPDATE ON request_events
BEGIN SELECT RAISE(ABORT, 'request_events is append-only'); END;
CREATE TRIGGER request_events_no_delete BEFORE DELETE ON request_events
BEGIN SELECT RAISE(ABORT, 'request_events is append-only'); END;
