-- Room bookings (一室多用): each row holds one room for one stretch of time; a repeating
-- booking is a series whose rule is kept beside its rows (for calendars). Two bookings
-- that hold a room (pending or confirmed) never overlap: the store checks it inside the
-- write, under a lock of the room.
CREATE TABLE booking_series (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    room_id INTEGER NOT NULL REFERENCES rooms(id),
    rule TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE room_bookings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    subdistrict_id INTEGER NOT NULL REFERENCES subdistricts(id),
    neighbourhood_id INTEGER NOT NULL REFERENCES neighbourhoods(id),
    station_id INTEGER NOT NULL REFERENCES stations(id),
    room_id INTEGER NOT NULL REFERENCES rooms(id),
    series_id INTEGER REFERENCES booking_series(id),
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL,
    purpose TEXT NOT NULL,
    attendance INTEGER,
    booked_by INTEGER REFERENCES accounts(id),
    for_whom TEXT,
    state TEXT NOT NULL,
    is_demo BOOLEAN NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX room_bookings_room ON room_bookings (room_id, starts_at);
CREATE INDEX room_bookings_station ON room_bookings (station_id, starts_at);
CREATE INDEX room_bookings_series ON room_bookings (series_id) WHERE series_id IS NOT NULL;
