//! A station's room bookings (一室多用): two weeks of what holds each room, day by day,
//! a form to book a room once or repeating, and cancelling a booking. Works on a phone.

use crate::forms::FormData;
use crate::params::{FromParams, PageQuery, Params};
use crate::render::page;
use crate::session::CurrentUser;
use crate::views::SelectOption;
use crate::{AppError, AppState};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{Datelike, Duration, NaiveDate, Utc};
use chrono_tz::Asia::Shanghai;
use doorstep_domain::bookings::{BookingState, Repeat};
use doorstep_domain::{BookingId, FieldErrors};
use doorstep_services::audit::shanghai_midnight;
use doorstep_services::bookings as svc;
use minijinja::context;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/stations/{id}/bookings", get(index).post(book))
        .route("/bookings/{id}/cancel", post(cancel))
}

/// The days shown at once.
const DAYS: i64 = 14;

struct Week {
    from: Option<NaiveDate>,
    booked: Option<i64>,
}

impl FromParams for Week {
    fn from_params(p: &mut Params) -> Self {
        Week {
            from: p.date("from"),
            booked: p.int("booked"),
        }
    }
}

fn monday_of(d: NaiveDate) -> NaiveDate {
    d - Duration::days(i64::from(d.weekday().num_days_from_monday()))
}

/// A form's strings as the booking's JSON: numbers as numbers, the left-out dates as a
/// list, empty fields left out.
fn booking_body(form: &FormData) -> Map<String, Value> {
    let mut body = Map::new();
    for (k, v) in form.input() {
        let Some(s) = v.as_str().map(str::trim).filter(|s| !s.is_empty()) else {
            continue;
        };
        let value = match k.as_str() {
            "room_id" | "attendance" => s.parse::<i64>().map_or_else(|_| json!(s), |n| json!(n)),
            "except" => json!(
                s.split([',', '，', ' ', '\n'])
                    .map(str::trim)
                    .filter(|x| !x.is_empty())
                    .collect::<Vec<_>>()
            ),
            _ => json!(s),
        };
        body.insert(k, value);
    }
    body
}

async fn index(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(station): Path<i64>,
    PageQuery(q): PageQuery<Week>,
) -> Result<Response, AppError> {
    let notice = q.booked.map(|n| {
        state
            .i18n
            .t_args(user.lang, "bookings.booked", &[n.to_string()])
    });
    render(
        &state,
        &user,
        station,
        q.from,
        &BTreeMap::new(),
        &FieldErrors::new(),
        None,
        notice,
        StatusCode::OK,
    )
    .await
}

/// The page: the form (with what was typed and its errors) and two weeks of bookings.
#[allow(clippy::too_many_arguments)]
async fn render(
    state: &AppState,
    user: &CurrentUser,
    station: i64,
    from: Option<NaiveDate>,
    raw: &BTreeMap<String, String>,
    errors: &FieldErrors,
    conflict: Option<String>,
    notice: Option<String>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let lang = user.lang;
    let tr = |k: &str| state.i18n.t(lang, k);
    let sv = &state.services;
    let today = sv.now().with_timezone(&Shanghai).date_naive();
    let first = monday_of(from.unwrap_or(today));
    let last = first + Duration::days(DAYS);
    let view = svc::of_station(
        sv,
        &user.caller(),
        station,
        shanghai_midnight(first),
        shanghai_midnight(last),
    )
    .await?;
    let days = agenda(state, lang, &view, first, today);
    let uses = usage(&view, first, last - Duration::days(1));
    let field_error = |k: &str| errors.get(k).map(|e| state.i18n.field_error(lang, e));
    let errs: BTreeMap<&str, Option<String>> = [
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
    ]
    .into_iter()
    .map(|k| (k, field_error(k)))
    .collect();
    let rooms: Vec<SelectOption> = view
        .rooms
        .iter()
        .map(|r| SelectOption {
            value: r.id.to_string(),
            label: r.label.clone(),
        })
        .collect();
    let repeats: Vec<SelectOption> = Repeat::ALL
        .iter()
        .map(|r| SelectOption {
            value: r.code().into(),
            label: tr(&format!("bookings.repeat.{r}")),
        })
        .collect();
    let title = format!("{} · {}", view.station.title(), tr("bookings.title"));
    let extra = context! {
        title => title.clone(), station, days, uses, rooms, repeats, raw, errs, conflict, notice,
        error => (!errors.is_empty()).then(|| tr("error.validation_failed")),
        prev => (first - Duration::days(7)).to_string(), next => (first + Duration::days(7)).to_string(),
        from => first.to_string(), default_date => raw.get("date").cloned().unwrap_or_else(|| today.to_string()),
        station_href => format!("/stations/{station}"),
    };
    Ok((
        status,
        page(
            state,
            lang,
            Some(user),
            "bookings/station.html",
            &title,
            extra,
        )?,
    )
        .into_response())
}

/// Each room's use over the fortnight (hours booked ÷ hours open); `None` when the
/// station's opening hours do not read.
fn usage(view: &svc::StationBookings, first: NaiveDate, last: NaiveDate) -> Option<Value> {
    let rows = svc::utilisation(view, first, last)?;
    let hours = |m: u32| format!("{:.1}", f64::from(m) / 60.0);
    let pct = |r: Option<f64>| r.map_or_else(|| "—".to_string(), |r| format!("{:.0}%", r * 100.0));
    let booked: u32 = rows.iter().map(|r| r.booked_minutes).sum();
    let open: u32 = rows.iter().map(|r| r.open_minutes).sum();
    let items: Vec<Value> = rows
        .iter()
        .map(|r| json!({"room": r.room.label, "booked": hours(r.booked_minutes), "open": hours(r.open_minutes), "rate": pct(r.rate())}))
        .collect();
    let total = (open > 0).then(|| f64::from(booked) / f64::from(open));
    Some(json!({"items": items, "total": pct(total), "booked": hours(booked), "open": hours(open)}))
}

/// Each day of the fortnight with what holds its rooms.
fn agenda(
    state: &AppState,
    lang: crate::i18n::Lang,
    view: &svc::StationBookings,
    first: NaiveDate,
    today: NaiveDate,
) -> Vec<Value> {
    let tr = |k: &str| state.i18n.t(lang, k);
    let room_name = |id: i64| {
        view.rooms
            .iter()
            .find(|r| r.id == id)
            .map_or_else(|| format!("#{id}"), |r| r.label.clone())
    };
    (0..DAYS)
        .map(|i| first + Duration::days(i))
        .map(|d| {
            let items: Vec<Value> = view
                .bookings
                .iter()
                .filter(|b| b.starts_at.with_timezone(&Shanghai).date_naive() == d)
                .map(|b| {
                    let local = |t: chrono::DateTime<Utc>| t.with_timezone(&Shanghai).format("%H:%M").to_string();
                    json!({
                        "id": b.id, "version": b.version, "time": format!("{}–{}", local(b.starts_at), local(b.ends_at)),
                        "room": room_name(b.room_id.get()), "purpose": b.purpose, "for_whom": b.for_whom,
                        "attendance": b.attendance, "repeats": b.series_id.is_some(),
                        "state": b.state.code(), "state_label": tr(&format!("bookings.state.{}", b.state)),
                        "may_cancel": b.state.may_become(BookingState::Cancelled),
                    })
                })
                .collect();
            let weekday = tr(&format!("bookings.weekday.{}", d.weekday().num_days_from_monday()));
            json!({"date": d.to_string(), "label": format!("{} {weekday}", d.format("%m-%d")), "today": d == today, "items": items})
        })
        .collect()
}

async fn book(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(station): Path<i64>,
    form: FormData,
) -> Result<Response, AppError> {
    user.check_csrf(form.get("_csrf"))?;
    let raw = form.raw();
    let body = booking_body(&form);
    let date = raw
        .get("date")
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    let sv = &state.services;
    let outcome = match svc::read_input(&body) {
        Ok(input) => svc::book(sv, &user.caller(), &input).await,
        Err(e) => Err(e),
    };
    match outcome {
        Ok(booked) => {
            let to = format!(
                "/stations/{station}/bookings?from={}&booked={}",
                date.map(|d| d.to_string()).unwrap_or_default(),
                booked.len()
            );
            Ok(Redirect::to(&to).into_response())
        }
        Err(doorstep_services::Error::Validation(fe)) => {
            render(
                &state,
                &user,
                station,
                date,
                &raw,
                &fe,
                None,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(doorstep_services::Error::Overlap(b)) => {
            let message = AppError::Overlap(b)
                .to_json(&state.i18n, user.lang)
                .get("message")
                .and_then(Value::as_str)
                .map(str::to_string);
            render(
                &state,
                &user,
                station,
                date,
                &raw,
                &FieldErrors::new(),
                message,
                None,
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

async fn cancel(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<BookingId>,
    form: FormData,
) -> Result<Response, AppError> {
    user.check_csrf(form.get("_csrf"))?;
    let b = svc::set_state(
        &state.services,
        &user.caller(),
        id,
        form.version()?,
        BookingState::Cancelled,
    )
    .await?;
    let day = b.starts_at.with_timezone(&Shanghai).date_naive();
    Ok(Redirect::to(&format!("/stations/{}/bookings?from={day}", b.station_id)).into_response())
}
