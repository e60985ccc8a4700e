//! The demo's room bookings (demo data): a month of what the stations do with their rooms,
//! after the seed — the calligraphy class, the Chinese class for foreign residents in two
//! levels, the garbage-sorting meeting of building leaders, the fire drill — and what
//! committees usually hold (the residents' council, the choir, the Party day, the
//! lawyer's and the deputy's receptions). Each neighbourhood's secretary books them.

use super::demo_ctx;
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc, Weekday};
use chrono_tz::Asia::Shanghai;
use doorstep_domain::bookings::{BookingState, Recurrence, Repeat, Schedule};
use doorstep_domain::{Entity, RoomId, Scope};
use doorstep_store::{ListQuery, NewBooking, PlaceRecord, Store};

/// The meta key that says the demo's bookings are loaded.
const LOADED: &str = "demo.bookings";

/// One repeating use of a room kind: (room kind, weekday, start, end, repeat, purpose,
/// for whom, attendance).
type Use = (
    &'static str,
    Weekday,
    &'static str,
    &'static str,
    Option<Repeat>,
    &'static str,
    &'static str,
    i64,
);

const USES: &[Use] = &[
    (
        "culture_lounge",
        Weekday::Wed,
        "14:00",
        "16:00",
        Some(Repeat::Weekly),
        "书法班",
        "书法兴趣班",
        20,
    ),
    (
        "culture_lounge",
        Weekday::Sat,
        "09:30",
        "11:00",
        Some(Repeat::Weekly),
        "外籍居民汉语班（入门班）",
        "外籍居民",
        15,
    ),
    (
        "culture_lounge",
        Weekday::Sat,
        "11:00",
        "12:30",
        Some(Repeat::Weekly),
        "外籍居民汉语班（提高班）",
        "外籍居民",
        12,
    ),
    (
        "culture_lounge",
        Weekday::Tue,
        "09:00",
        "10:30",
        Some(Repeat::Weekly),
        "老年合唱团排练",
        "合唱团",
        30,
    ),
    (
        "activity",
        Weekday::Wed,
        "09:30",
        "11:00",
        Some(Repeat::Monthly),
        "垃圾分类楼组长会议",
        "楼组长",
        90,
    ),
    (
        "activity",
        Weekday::Thu,
        "19:00",
        "20:30",
        Some(Repeat::Biweekly),
        "居民议事会",
        "居民代表",
        30,
    ),
    (
        "activity",
        Weekday::Fri,
        "14:00",
        "15:30",
        None,
        "消防演练",
        "志愿者、居民和物业",
        60,
    ),
    (
        "party_service",
        Weekday::Fri,
        "14:00",
        "16:00",
        Some(Repeat::Monthly),
        "主题党日",
        "党支部",
        20,
    ),
    (
        "reception",
        Weekday::Thu,
        "14:00",
        "16:00",
        Some(Repeat::Biweekly),
        "签约律师接待",
        "法律咨询",
        4,
    ),
    (
        "reception",
        Weekday::Tue,
        "09:00",
        "11:00",
        Some(Repeat::Monthly),
        "人大代表接待",
        "人大代表",
        6,
    ),
];

fn hm(s: &str) -> NaiveTime {
    NaiveTime::parse_from_str(s, "%H:%M").unwrap_or(NaiveTime::MIN)
}

/// The first `weekday` on or after `d`.
fn on_or_after(d: NaiveDate, weekday: Weekday) -> NaiveDate {
    let ahead = (7 + weekday.num_days_from_monday() - d.weekday().num_days_from_monday()) % 7;
    d + Duration::days(i64::from(ahead))
}

/// Books the month around `now` (from the Monday a week before to four weeks on) in
/// every station, once.
pub async fn add_bookings(store: &Store, now: DateTime<Utc>) -> anyhow::Result<()> {
    if store.meta().get(LOADED).await?.is_some() {
        return Ok(());
    }
    let Some(sd) = store.places().first_subdistrict().await? else {
        return Ok(());
    };
    let scope = Scope::Subdistrict(sd.subdistrict_id);
    let rooms = store
        .places()
        .list(Entity::Room, &ListQuery::new(scope).all())
        .await?
        .items;
    let stations = store
        .places()
        .list(Entity::Station, &ListQuery::new(scope).all())
        .await?
        .items;
    let today = now.with_timezone(&Shanghai).date_naive();
    let start = today - Duration::days(i64::from(today.weekday().num_days_from_monday()) + 7);
    let until = start + Duration::days(34);
    let ctx = demo_ctx(Some(sd.subdistrict_id), now);
    for (i, station) in stations.iter().enumerate() {
        let Some(nb) = station.neighbourhood_id else {
            continue;
        };
        let Ok(secretary) = store.accounts().receiver_for(sd.subdistrict_id, nb).await else {
            continue;
        };
        for (j, u) in USES.iter().enumerate() {
            let Some(room) = room_of(&rooms, station.id, u.0) else {
                continue;
            };
            // Stations differ a little: some lessons a day later, some meetings skipped.
            if (i + j) % 5 == 4 {
                continue;
            }
            let shift = i64::try_from(i % 2).unwrap_or(0) * i64::from(u.4 == Some(Repeat::Weekly));
            let first = on_or_after(start, u.1) + Duration::days(shift);
            let first = if u.4.is_none() {
                first + Duration::days(7)
            } else {
                first
            };
            let schedule = Schedule {
                first,
                start: hm(u.2),
                end: hm(u.3),
                recurrence: u.4.map(|repeat| Recurrence {
                    repeat,
                    until,
                    except: Vec::new(),
                }),
            };
            let capacity = room.get("capacity").as_i64().unwrap_or(u.7);
            let new = NewBooking {
                room_id: RoomId(room.id),
                stretches: schedule
                    .stretches()
                    .map_err(|(f, c)| anyhow::anyhow!("demo booking: {f} {c}"))?,
                recurrence: schedule.recurrence.clone(),
                purpose: u.5.to_string(),
                attendance: Some(u.7.min(capacity)),
                for_whom: Some(u.6.to_string()),
                booked_by: secretary,
                state: BookingState::Confirmed,
            };
            store.bookings().book(&new, &ctx).await?;
        }
    }
    store.meta().set(LOADED, "1").await?;
    Ok(())
}

/// The station's room of a kind, in use.
fn room_of<'a>(rooms: &'a [PlaceRecord], station: i64, kind: &str) -> Option<&'a PlaceRecord> {
    rooms.iter().find(|r| {
        r.is_active()
            && r.get("station_id").as_i64() == Some(station)
            && r.get("kind").as_str() == Some(kind)
    })
}
