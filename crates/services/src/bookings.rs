//! Room bookings (一室多用): staff book their station's rooms for a class, a meeting, a
//! team or a partner, once or repeating; the store keeps a room from being booked twice,
//! and a refusal names the booking in the way.

use crate::{Caller, Error, Result, Services};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use doorstep_domain::bookings::{
    BookingState, MAX_PURPOSE_CHARS, Recurrence, Repeat, Schedule, ScheduleError,
};
use doorstep_domain::fields::check_text;
use doorstep_domain::{BookingId, Entity, FieldErrors, RoomId};
use doorstep_store::{Booking, NewBooking, RoomPlace, StoreError};
use serde_json::{Map, Value};

/// The longest period one listing of bookings covers.
pub const MAX_LIST_DAYS: i64 = 92;

/// What a booking asks for, read from its form or JSON body.
#[derive(Debug, Clone)]
pub struct BookingInput {
    pub room_id: RoomId,
    pub schedule: Schedule,
    pub purpose: String,
    pub attendance: Option<i64>,
    pub for_whom: Option<String>,
}

fn text<'a>(body: &'a Map<String, Value>, k: &str, e: &mut FieldErrors) -> Option<&'a str> {
    match body.get(k) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.trim()).filter(|s| !s.is_empty()),
        Some(_) => {
            e.add(k, "not_text");
            None
        }
    }
}

fn parsed<T>(
    body: &Map<String, Value>,
    k: &str,
    e: &mut FieldErrors,
    parse: impl Fn(&str) -> Option<T>,
) -> Option<T> {
    let v = text(body, k, e)?;
    let out = parse(v);
    if out.is_none() {
        e.add(k, "invalid");
    }
    out
}

fn date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

fn time(s: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(s, "%H:%M").ok()
}

/// Reads a booking: `room_id`, `date`, `start`, `end` (`HH:MM`, Shanghai), `purpose`,
/// optional `attendance`, `for_whom`, and for a repeating one `repeat`, `until` and
/// `except` (dates). Every problem is named at once.
pub fn read_input(body: &Map<String, Value>) -> Result<BookingInput> {
    const KNOWN: &[&str] = &[
        "room_id",
        "date",
        "start",
        "end",
        "purpose",
        "attendance",
        "for_whom",
        "repeat",
        "until",
        "except",
    ];
    let mut e = FieldErrors::new();
    for k in body.keys().filter(|k| !KNOWN.contains(&k.as_str())) {
        e.add(k, "unknown_field");
    }
    let room_id = body.get("room_id").and_then(Value::as_i64).map(RoomId);
    if room_id.is_none() {
        e.add("room_id", "required");
    }
    let first = parsed(body, "date", &mut e, date);
    let start = parsed(body, "start", &mut e, time);
    let end = parsed(body, "end", &mut e, time);
    for (k, v) in [
        ("date", first.is_some()),
        ("start", start.is_some()),
        ("end", end.is_some()),
    ] {
        if !v && !e.0.iter().any(|x| x.field == k) {
            e.add(k, "required");
        }
    }
    let purpose = text(body, "purpose", &mut e)
        .unwrap_or_default()
        .to_string();
    if purpose.is_empty() {
        e.add("purpose", "required");
    }
    check_text(&mut e, "purpose", &purpose, MAX_PURPOSE_CHARS, false);
    let for_whom = text(body, "for_whom", &mut e).map(str::to_string);
    if let Some(w) = &for_whom {
        check_text(&mut e, "for_whom", w, 100, false);
    }
    let attendance = match body.get("attendance") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_i64() {
            Some(n) if (1..=10_000).contains(&n) => Some(n),
            _ => {
                e.add_with(
                    "attendance",
                    "out_of_range",
                    vec!["1".into(), "10000".into()],
                );
                None
            }
        },
    };
    let recurrence = read_recurrence(body, &mut e);
    match (room_id, first, start, end) {
        (Some(room_id), Some(first), Some(start), Some(end)) if e.is_empty() => Ok(BookingInput {
            room_id,
            schedule: Schedule {
                first,
                start,
                end,
                recurrence,
            },
            purpose,
            attendance,
            for_whom,
        }),
        _ => Err(Error::Validation(e)),
    }
}

fn read_recurrence(body: &Map<String, Value>, e: &mut FieldErrors) -> Option<Recurrence> {
    let repeat = parsed(body, "repeat", e, Repeat::parse)?;
    let until = parsed(body, "until", e, date);
    if until.is_none() && !e.0.iter().any(|x| x.field == "until") {
        e.add("until", "required");
    }
    let except = match body.get("except") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(xs)) => xs
            .iter()
            .filter_map(|x| {
                let d = x.as_str().and_then(date);
                if d.is_none() {
                    e.add("except", "invalid");
                }
                d
            })
            .collect(),
        Some(_) => {
            e.add("except", "invalid");
            Vec::new()
        }
    };
    Some(Recurrence {
        repeat,
        until: until?,
        except,
    })
}

fn schedule_error((field, code): ScheduleError) -> Error {
    Error::validation(field, code)
}

/// Where the room is, if the caller may book it: staff of its neighbourhood (an admin
/// anywhere in the subdistrict).
async fn bookable(sv: &Services, who: &Caller, room: RoomId) -> Result<RoomPlace> {
    let place = sv
        .store
        .bookings()
        .room_place(room)
        .await?
        .ok_or_else(|| Error::validation("room_id", "invalid_reference"))?;
    let actor = &who.actor;
    if place.subdistrict_id != actor.subdistrict_id {
        return Err(Error::validation("room_id", "invalid_reference"));
    }
    if !actor.staff_of(place.neighbourhood_id) {
        return Err(Error::Forbidden);
    }
    Ok(place)
}

/// Books a room once or repeating: every occurrence or none. 409 `booking_overlap`
/// names the booking in the way; a group larger than the room is refused.
pub async fn book(sv: &Services, who: &Caller, input: &BookingInput) -> Result<Vec<Booking>> {
    bookable(sv, who, input.room_id).await?;
    let room = sv
        .store
        .places()
        .find(Entity::Room, input.room_id.get())
        .await?
        .ok_or(Error::NotFound)?;
    if let (Some(n), Some(cap)) = (input.attendance, room.get("capacity").as_i64())
        && cap > 0
        && n > cap
    {
        let mut e = FieldErrors::new();
        e.add_with("attendance", "over_capacity", vec![cap.to_string()]);
        return Err(Error::Validation(e));
    }
    let stretches = input.schedule.stretches().map_err(schedule_error)?;
    let new = NewBooking {
        room_id: input.room_id,
        stretches,
        recurrence: input.schedule.recurrence.clone(),
        purpose: input.purpose.clone(),
        attendance: input.attendance,
        for_whom: input.for_whom.clone(),
        booked_by: who.actor.account_id,
        state: BookingState::Confirmed,
    };
    match sv.store.bookings().book(&new, &sv.ctx(who)).await {
        Ok(b) => Ok(b),
        Err(StoreError::Overlap(other)) => Err(Error::Overlap(other)),
        Err(e) => Err(e.into()),
    }
}

/// The bookings of a room the caller may book, between two instants (at most
/// [`MAX_LIST_DAYS`] apart).
pub async fn of_room(
    sv: &Services,
    who: &Caller,
    room: RoomId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Booking>> {
    bookable(sv, who, room).await?;
    if to <= from || (to - from).num_days() > MAX_LIST_DAYS {
        return Err(Error::validation("to", "invalid_period"));
    }
    Ok(sv.store.bookings().in_room(room, from, to).await?)
}

/// Approves, rejects or cancels a booking of a room the caller may book.
pub async fn set_state(
    sv: &Services,
    who: &Caller,
    id: BookingId,
    version: Option<i64>,
    next: BookingState,
) -> Result<Booking> {
    let b = sv.store.bookings().get(id).await?;
    bookable(sv, who, b.room_id).await.map_err(|e| match e {
        Error::Validation(_) => Error::NotFound,
        other => other,
    })?;
    let version = version.ok_or(Error::VersionRequired)?;
    if !b.state.may_become(next) {
        return Err(Error::conflict("illegal_move"));
    }
    Ok(sv
        .store
        .bookings()
        .set_state(id, version, next, &sv.ctx(who))
        .await?)
}

/// A station's rooms (those that can be booked: not the office) and their bookings over
/// a period, for its staff.
pub struct StationBookings {
    pub station: doorstep_store::PlaceRecord,
    pub rooms: Vec<crate::places::Choice>,
    pub bookings: Vec<Booking>,
}

/// What a station's booking page shows, for staff of its neighbourhood (admins: any).
pub async fn of_station(
    sv: &Services,
    who: &Caller,
    station: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<StationBookings> {
    let st = sv
        .store
        .places()
        .find(Entity::Station, station)
        .await?
        .filter(|s| s.subdistrict_id == who.actor.subdistrict_id && s.is_active())
        .ok_or(Error::NotFound)?;
    let nb = st.neighbourhood_id.ok_or(Error::NotFound)?;
    let actor = &who.actor;
    if !actor.staff_of(nb) {
        return Err(Error::Forbidden);
    }
    if to <= from || (to - from).num_days() > MAX_LIST_DAYS {
        return Err(Error::validation("to", "invalid_period"));
    }
    let scope = doorstep_domain::Scope::Neighbourhood {
        subdistrict_id: st.subdistrict_id,
        neighbourhood_id: nb,
    };
    let rooms = crate::places::all_in(sv, Entity::Room, scope)
        .await?
        .into_iter()
        .filter(|r| {
            r.is_active()
                && r.get("station_id").as_i64() == Some(station)
                && !r.get("is_office").as_bool()
        })
        .map(|r| crate::places::Choice {
            id: r.id,
            label: r.get("name").as_str().unwrap_or("").to_string(),
        })
        .collect();
    let bookings = sv.store.bookings().in_station(station, from, to).await?;
    Ok(StationBookings {
        station: st,
        rooms,
        bookings,
    })
}

/// How much a room was used: minutes booked (confirmed, inside opening hours) against
/// minutes open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomUse {
    pub room: crate::places::Choice,
    pub booked_minutes: u32,
    pub open_minutes: u32,
}

impl RoomUse {
    pub fn rate(&self) -> Option<f64> {
        (self.open_minutes > 0)
            .then(|| f64::from(self.booked_minutes) / f64::from(self.open_minutes))
    }
}

/// Each room's use from `first` to `last` (both included), measured against the
/// station's opening hours; `None` when the hours do not read (say so, not guess).
pub fn utilisation(
    view: &StationBookings,
    first: NaiveDate,
    last: NaiveDate,
) -> Option<Vec<RoomUse>> {
    use chrono::Timelike;
    use chrono_tz::Asia::Shanghai;
    use doorstep_domain::opening::{OpeningHours, open_minutes_within};
    let hours = OpeningHours::parse(view.station.get("opening_hours").as_str()?)?;
    let open = hours.minutes_between(first, last);
    Some(
        view.rooms
            .iter()
            .map(|room| {
                let booked = view
                    .bookings
                    .iter()
                    .filter(|b| b.room_id.get() == room.id && b.state == BookingState::Confirmed)
                    .map(|b| {
                        let (s, e) = (
                            b.starts_at.with_timezone(&Shanghai),
                            b.ends_at.with_timezone(&Shanghai),
                        );
                        let day = s.date_naive();
                        if day < first || day > last {
                            return 0;
                        }
                        let m = |t: chrono::DateTime<chrono_tz::Tz>| t.hour() * 60 + t.minute();
                        open_minutes_within(hours.on(day), m(s), m(e).max(m(s)))
                    })
                    .sum();
                RoomUse {
                    room: room.clone(),
                    booked_minutes: booked,
                    open_minutes: open,
                }
            })
            .collect(),
    )
}
