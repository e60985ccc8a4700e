//! Room bookings: booked in one write that first looks, under a lock of the room, for a
//! booking holding any of the asked stretches; the room is never booked twice.

use crate::audit::{self, AuditEntry};
use crate::db::{DbRow, Exec, Sql};
use crate::{Backend, Result, Store, StoreError, WriteCtx};
use chrono::{DateTime, Utc};
use doorstep_domain::audit::{AuditAction, AuditEntity};
use doorstep_domain::bookings::{BookingState, Recurrence, Stretch};
use doorstep_domain::{AccountId, BookingId, NeighbourhoodId, RoomId, SubdistrictId};
use serde::Serialize;

/// The bookings' table.
#[derive(Debug, Clone, Copy)]
pub struct BookingStore<'a>(pub(crate) &'a Store);

/// What is booked: the stretches (one, or a series' occurrences), its rule, and why.
#[derive(Debug, Clone)]
pub struct NewBooking {
    pub room_id: RoomId,
    pub stretches: Vec<Stretch>,
    pub recurrence: Option<Recurrence>,
    pub purpose: String,
    pub attendance: Option<i64>,
    /// The team, partner or resident it is for, when not the staff member booking.
    pub for_whom: Option<String>,
    pub booked_by: AccountId,
    pub state: BookingState,
}

/// One stored booking (one stretch).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Booking {
    pub id: BookingId,
    pub subdistrict_id: SubdistrictId,
    pub neighbourhood_id: NeighbourhoodId,
    pub station_id: i64,
    pub room_id: RoomId,
    pub series_id: Option<i64>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub purpose: String,
    pub attendance: Option<i64>,
    pub booked_by: Option<AccountId>,
    pub for_whom: Option<String>,
    pub state: BookingState,
    pub version: i64,
    pub created_at: DateTime<Utc>,
}

impl Booking {
    pub fn stretch(&self) -> Stretch {
        Stretch {
            start: self.starts_at,
            end: self.ends_at,
        }
    }
}

/// Where a room is: its station, neighbourhood and subdistrict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoomPlace {
    pub station_id: i64,
    pub neighbourhood_id: NeighbourhoodId,
    pub subdistrict_id: SubdistrictId,
}

fn read(r: &DbRow) -> Result<Booking> {
    Ok(Booking {
        id: r.id("id")?,
        subdistrict_id: r.id("subdistrict_id")?,
        neighbourhood_id: r.id("neighbourhood_id")?,
        station_id: r.get("station_id")?,
        room_id: r.id("room_id")?,
        series_id: r.get("series_id")?,
        starts_at: r.get("starts_at")?,
        ends_at: r.get("ends_at")?,
        purpose: r.get("purpose")?,
        attendance: r.get("attendance")?,
        booked_by: r.opt_id("booked_by")?,
        for_whom: r.get("for_whom")?,
        state: r.code("state")?,
        version: r.get("version")?,
        created_at: r.get("created_at")?,
    })
}

/// The states that hold a room, for SQL.
fn holding() -> String {
    let codes: Vec<String> = [BookingState::Pending, BookingState::Confirmed]
        .iter()
        .map(|s| format!("'{}'", s.code()))
        .collect();
    format!(" IN ({})", codes.join(", "))
}

impl BookingStore<'_> {
    /// Where a room in use is (`None`: no such room, or archived).
    pub async fn room_place(self, room: RoomId) -> Result<Option<RoomPlace>> {
        let row = Sql::new(
            "SELECT r.station_id, s.neighbourhood_id, n.subdistrict_id FROM rooms r \
             JOIN stations s ON s.id = r.station_id \
             JOIN neighbourhoods n ON n.id = s.neighbourhood_id \
             WHERE r.id = $1 AND r.archived_at IS NULL AND s.archived_at IS NULL",
        )
        .bind(room.get())
        .fetch_optional(&mut self.0.db())
        .await?;
        row.map(|r| {
            Ok(RoomPlace {
                station_id: r.get("station_id")?,
                neighbourhood_id: r.id("neighbourhood_id")?,
                subdistrict_id: r.id("subdistrict_id")?,
            })
        })
        .transpose()
    }

    /// Books every stretch of `new`, or none: `StoreError::Overlap` names the first
    /// booking that holds one of them.
    pub async fn book(self, new: &NewBooking, ctx: &WriteCtx) -> Result<Vec<Booking>> {
        let (Some(first), Some(last)) = (new.stretches.first(), new.stretches.last()) else {
            return Ok(Vec::new());
        };
        let place = self
            .room_place(new.room_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let mut tx = self.0.begin().await?;
        if self.0.backend() == Backend::Postgres {
            // One writer per room at a time, across every server.
            Sql::new("SELECT pg_advisory_xact_lock(hashtextextended($1, 1))")
                .bind(format!("room {}", new.room_id))
                .execute(&mut tx)
                .await?;
        }
        let held = holding_between(&mut tx, new.room_id, first.start, last.end).await?;
        for s in &new.stretches {
            if let Some(b) = held.iter().find(|b| b.stretch().meets(s)) {
                return Err(StoreError::Overlap(Box::new(b.clone())));
            }
        }
        let series_id = match &new.recurrence {
            None => None,
            Some(rule) => Some(
                Sql::new(
                    "INSERT INTO booking_series (room_id, rule, created_at) VALUES ($1, $2, $3) \
                     RETURNING id",
                )
                .bind(new.room_id.get())
                .bind(serde_json::to_string(rule).unwrap_or_default())
                .bind(ctx.at)
                .scalar::<i64>(&mut tx)
                .await?,
            ),
        };
        let mut q = Sql::new(
            "INSERT INTO room_bookings (subdistrict_id, neighbourhood_id, station_id, room_id, \
             series_id, starts_at, ends_at, purpose, attendance, booked_by, for_whom, state, \
             is_demo, version, created_at, updated_at) VALUES ",
        );
        q.push_tuples(new.stretches.iter(), |t, s| {
            t.bind(place.subdistrict_id)
                .bind(place.neighbourhood_id)
                .bind(place.station_id)
                .bind(new.room_id.get())
                .bind(series_id)
                .bind(s.start)
                .bind(s.end)
                .bind(&new.purpose)
                .bind(new.attendance)
                .bind(new.booked_by)
                .bind(&new.for_whom)
                .bind(new.state)
                .bind(ctx.demo)
                .raw("1")
                .bind(ctx.at)
                .bind(ctx.at);
        });
        q.push(" RETURNING *");
        let rows = q.fetch_all(&mut tx).await?;
        let booked = rows.iter().map(read).collect::<Result<Vec<_>>>()?;
        let detail = serde_json::json!({
            "room_id": new.room_id, "series_id": series_id, "purpose": new.purpose,
            "stretches": new.stretches.len(), "from": first.start, "to": last.end,
            "state": new.state,
        });
        let id = booked.first().map_or(0, |b| b.id.get());
        let entry = AuditEntry::write(AuditAction::Create, AuditEntity::Booking, id, detail);
        audit::insert(&mut tx, ctx, entry).await?;
        tx.commit().await?;
        Ok(booked)
    }

    /// The bookings holding `room` that meet `from`–`to`, in time order.
    pub async fn in_room(
        self,
        room: RoomId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Booking>> {
        holding_between(&mut self.0.db(), room, from, to).await
    }

    /// The bookings of every room of `station` that meet `from`–`to` (any state), in
    /// time order.
    pub async fn in_station(
        self,
        station: i64,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Booking>> {
        Sql::new(
            "SELECT * FROM room_bookings WHERE station_id = $1 AND starts_at < $2 \
             AND ends_at > $3 ORDER BY starts_at, room_id, id",
        )
        .bind(station)
        .bind(to)
        .bind(from)
        .fetch_all(&mut self.0.db())
        .await?
        .iter()
        .map(read)
        .collect()
    }

    pub async fn get(self, id: BookingId) -> Result<Booking> {
        let row = Sql::new("SELECT * FROM room_bookings WHERE id = $1")
            .bind(id.get())
            .fetch_optional(&mut self.0.db())
            .await?
            .ok_or(StoreError::NotFound)?;
        read(&row)
    }

    /// Moves a booking to `state` (approve, reject, cancel) if it is at `version`.
    pub async fn set_state(
        self,
        id: BookingId,
        version: i64,
        state: BookingState,
        ctx: &WriteCtx,
    ) -> Result<Booking> {
        let mut tx = self.0.begin().await?;
        let n = Sql::new(
            "UPDATE room_bookings SET state = $1, version = version + 1, updated_at = $2 \
             WHERE id = $3 AND version = $4",
        )
        .bind(state)
        .bind(ctx.at)
        .bind(id.get())
        .bind(version)
        .execute(&mut tx)
        .await?;
        let row = Sql::new("SELECT * FROM room_bookings WHERE id = $1")
            .bind(id.get())
            .fetch_optional(&mut tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let b = read(&row)?;
        if n != 1 {
            return Err(StoreError::VersionConflict { current: b.version });
        }
        let detail = serde_json::json!({"state": state});
        let entry = AuditEntry::write(AuditAction::Update, AuditEntity::Booking, id.get(), detail);
        audit::insert(&mut tx, ctx, entry).await?;
        tx.commit().await?;
        Ok(b)
    }
}

/// What holds `room` between `from` and `to` (inside a booking's write, or not).
async fn holding_between(
    db: &mut impl Exec,
    room: RoomId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Booking>> {
    let sql = format!(
        "SELECT * FROM room_bookings WHERE room_id = $1 AND state{} \
         AND starts_at < $2 AND ends_at > $3 ORDER BY starts_at, id",
        holding()
    );
    Sql::new(sql)
        .bind(room.get())
        .bind(to)
        .bind(from)
        .fetch_all(db)
        .await?
        .iter()
        .map(read)
        .collect()
}
