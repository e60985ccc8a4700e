//! Room bookings in the API: book (once or repeating), a room's bookings over a period,
//! and a booking's approval, rejection or cancellation.

use super::{ApiJson, version_of};
use crate::params::{ApiQuery, FromParams, Params};
use crate::session::CurrentUser;
use crate::{AppError, AppState};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use chrono_tz::Asia::Shanghai;
use doorstep_domain::bookings::BookingState;
use doorstep_domain::{BookingId, RoomId};
use doorstep_services::audit::shanghai_midnight;
use doorstep_services::bookings as svc;
use serde_json::json;

/// `POST /api/v1/bookings`: 201 with every stretch booked; 409 `booking_overlap` names
/// the booking in the way.
pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson,
) -> Result<Response, AppError> {
    let input = svc::read_input(&body)?;
    let booked = svc::book(&state.services, &user.caller(), &input).await?;
    Ok((StatusCode::CREATED, Json(json!({"items": booked}))).into_response())
}

/// `?from=&to=`: Shanghai dates, both included (default: the coming four weeks).
pub struct Period {
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
}

impl FromParams for Period {
    fn from_params(p: &mut Params) -> Self {
        Period {
            from: p.date("from"),
            to: p.date("to"),
        }
    }
}

/// `GET /api/v1/rooms/{id}/bookings`: what holds the room, in time order.
pub async fn of_room(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(room): Path<RoomId>,
    ApiQuery(p): ApiQuery<Period>,
) -> Result<Json<serde_json::Value>, AppError> {
    let sv = &state.services;
    let today = sv.now().with_timezone(&Shanghai).date_naive();
    let from = p.from.unwrap_or(today);
    let to = p.to.unwrap_or(from + chrono::Duration::days(27));
    let items = svc::of_room(
        sv,
        &user.caller(),
        room,
        shanghai_midnight(from),
        shanghai_midnight(to + chrono::Duration::days(1)),
    )
    .await?;
    Ok(Json(
        json!({"room_id": room, "from": from, "to": to, "items": items}),
    ))
}

/// `POST /api/v1/bookings/{id}/state`: `{"version", "state"}` approves (confirmed),
/// rejects or cancels.
pub async fn set_state(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<BookingId>,
    ApiJson(body): ApiJson,
) -> Result<Json<serde_json::Value>, AppError> {
    let version = version_of(&body)?;
    let next = body
        .get("state")
        .and_then(|v| v.as_str())
        .and_then(BookingState::parse)
        .ok_or_else(|| AppError::validation("state", "invalid_choice"))?;
    let b = svc::set_state(&state.services, &user.caller(), id, version, next).await?;
    Ok(Json(json!(b)))
}
