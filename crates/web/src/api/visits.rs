//! `POST /api/v1/visits`: the visit form's way in when it was filled offline (the phone
//! keeps the visit and its key, and sends it when the connection returns).

use super::ApiJson;
use crate::session::CurrentUser;
use crate::{AppError, AppState};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use doorstep_domain::HouseholdId;
use doorstep_services::register::visits::{VisitInput, log as log_visit};
use serde_json::{Value, json};

const FIELDS: &[&str] = &[
    "household_id",
    "kind",
    "met",
    "notes",
    "finding",
    "visited_at",
    "client_key",
];

fn input(body: &serde_json::Map<String, Value>) -> Result<VisitInput, AppError> {
    if let Some(k) = body.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(AppError::validation(k, "unknown_field"));
    }
    let text = |k: &str| -> Result<Option<String>, AppError> {
        match body.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(AppError::validation(k, "invalid")),
        }
    };
    let household_id = match body.get("household_id") {
        None | Some(Value::Null) => None,
        Some(v) => {
            Some(HouseholdId(v.as_i64().ok_or_else(|| {
                AppError::validation("household_id", "not_integer")
            })?))
        }
    };
    let visited_at = match text("visited_at")? {
        None => None,
        Some(s) => Some(
            chrono::DateTime::parse_from_rfc3339(&s)
                .map_err(|_| AppError::validation("visited_at", "invalid_date"))?
                .with_timezone(&chrono::Utc),
        ),
    };
    Ok(VisitInput {
        household_id,
        kind: text("kind")?,
        met: text("met")?,
        notes: text("notes")?,
        finding: text("finding")?,
        visited_at,
        client_key: text("client_key")?,
    })
}

pub async fn log(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson,
) -> Result<Response, AppError> {
    let logged = log_visit(&state.services, &user.caller(), &input(&body)?).await?;
    let status = if logged.new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let v = &logged.visit;
    let out = json!({
        "id": v.id, "household_id": v.household_id, "kind": v.kind, "visited_at": v.visited_at,
        "client_key": v.client_key, "request_id": logged.request.as_ref().map(|r| r.id),
        "new": logged.new,
    });
    Ok((status, Json(out)).into_response())
}
