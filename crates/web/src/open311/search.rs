//! Reading requests: the search, one request by id, and a tracking code's request.

use super::format::{Failure, Format, fail, respond, split};
use super::{GENERAL, jurisdiction, service_item};
use crate::AppState;
use crate::i18n::{Lang, negotiate};
use crate::session::client_ip;
use crate::{LOOKUP_WINDOW, LOOKUPS_PER_WINDOW};
use axum::extract::Request;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use doorstep_domain::RequestId;
use doorstep_domain::requests::State as RState;
use doorstep_services::records::{PublicFilter, PublicRequest};
use doorstep_services::requests::resident as svc;
use serde_json::{Value, json};
use std::collections::HashMap;

/// The most requests one search returns.
const MAX_RESULTS: i64 = 1000;
/// A search without dates covers this many days back (the spec's default).
const DEFAULT_DAYS: i64 = 90;

fn w3c(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn parse_time(k: &str, v: &str) -> Result<DateTime<Utc>, Failure> {
    DateTime::parse_from_rfc3339(v.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            fail(
                StatusCode::BAD_REQUEST,
                format!("{k} must be a W3C datetime such as 2026-11-01T00:00:00Z"),
            )
        })
}

/// One request as Open311 shows it: no name, phone or e-mail.
fn public_json(p: &PublicRequest, state: &AppState, lang: Lang) -> Value {
    let tr = |k: &str| state.i18n.t(lang, k);
    let r = &p.record;
    let st = r.workflow.state;
    let open = st.is_open();
    let mut notes = tr(&format!("request.state.{st}"));
    if let Some(into) = r.workflow.merged_into {
        notes = format!("{notes} · {} {into}", tr("request.merged_into"));
    }
    // The services hand over only what may be public (the place at the building, the
    // description when the resident allowed it). The tracking code (`token`) is the
    // resident's key to the tracking page and their rating: it is answered to whoever
    // made the request (POST) and never listed. The resident's own address words may
    // name a flat: only the building is public.
    json!({
        "service_request_id": r.id.to_string(),
        "status": if open { "open" } else { "closed" },
        "status_notes": notes,
        "service_name": p.service_name.clone().unwrap_or_else(|| tr("open311.general")),
        "service_code": r.service_item_id.map(|i| i.to_string()).unwrap_or_else(|| GENERAL.into()),
        "description": r.description,
        "agency_responsible": tr("open311.agency"),
        "service_notice": "",
        "requested_datetime": w3c(r.created_at),
        "updated_datetime": w3c(r.updated_at),
        "expected_datetime": if open && st != RState::Resolved { Value::String(w3c(r.deadline_at)) } else { Value::Null },
        "address": p.building_label.clone().unwrap_or_default(),
        "address_id": r.building_id.map(|b| b.to_string()).unwrap_or_default(),
        "zipcode": "",
        "lat": r.lat,
        "long": r.lon,
        "media_url": "",
    })
}

/// `status=open,closed`: `Some(open)` when it names one of them, `None` for both.
fn status_filter(s: &str) -> Result<Option<bool>, Failure> {
    let mut open = None;
    for part in s.split(',') {
        let this = match part.trim() {
            "open" => true,
            "closed" => false,
            other => {
                return Err(fail(
                    StatusCode::BAD_REQUEST,
                    format!("status {other} is neither open nor closed"),
                ));
            }
        };
        open = match open {
            None => Some(Some(this)),
            Some(Some(prev)) if prev != this => Some(None),
            keep => keep,
        };
    }
    Ok(open.flatten())
}

/// The period of a search: as given, else 90 days from or to the one given, else the
/// last 90 days.
fn period(
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(DateTime<Utc>, DateTime<Utc>), Failure> {
    let days = chrono::Duration::days(DEFAULT_DAYS);
    let (from, to) = match (start, end) {
        (Some(a), Some(b)) => (a, b),
        (Some(a), None) => (a, a + days),
        (None, Some(b)) => (b - days, b),
        (None, None) => (now - days, now + chrono::Duration::days(1)),
    };
    if from > to {
        return Err(fail(
            StatusCode::BAD_REQUEST,
            "start_date is after end_date",
        ));
    }
    Ok((from, to))
}

pub(super) async fn search(
    state: &AppState,
    q: &HashMap<String, String>,
    lang: Lang,
) -> Result<Value, Failure> {
    let sd = jurisdiction(state, q.get("jurisdiction_id").map(String::as_str)).await?;
    let nonempty = |k: &str| q.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let mut f = PublicFilter {
        subdistrict_id: sd,
        ids: None,
        items: None,
        from: None,
        to: None,
        open: None,
        limit: MAX_RESULTS,
    };
    if let Some(ids) = nonempty("service_request_id") {
        let parsed: Result<Vec<RequestId>, _> = ids.split(',').map(|s| s.trim().parse()).collect();
        f.ids = Some(parsed.map_err(|_| {
            fail(
                StatusCode::BAD_REQUEST,
                "service_request_id must be numbers, comma separated",
            )
        })?);
    } else {
        if let Some(codes) = nonempty("service_code") {
            let mut items = Vec::new();
            for c in codes.split(',') {
                items.push(service_item(state, sd, c.trim()).await?);
            }
            f.items = Some(items);
        }
        if let Some(s) = nonempty("status") {
            f.open = status_filter(s)?;
        }
        let start = nonempty("start_date")
            .map(|v| parse_time("start_date", v))
            .transpose()?;
        let end = nonempty("end_date")
            .map(|v| parse_time("end_date", v))
            .transpose()?;
        let (from, to) = period(start, end, state.services.now())?;
        f.from = Some(from);
        f.to = Some(to);
    }
    let rows = svc::public(&state.services, &f).await?;
    Ok(Value::Array(
        rows.iter().map(|p| public_json(p, state, lang)).collect(),
    ))
}

pub(super) async fn one_request(
    State(state): State<AppState>,
    Path(file): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: axum::http::HeaderMap,
) -> Response {
    let Some((id, f)) = split(&file) else {
        return fail(StatusCode::NOT_FOUND, "use .json or .xml").respond(Format::Json);
    };
    let lang = negotiate(&headers, true);
    let r = async {
        let sd = jurisdiction(&state, q.get("jurisdiction_id").map(String::as_str)).await?;
        let missing = || fail(StatusCode::NOT_FOUND, format!("request {id} not found"));
        let rid: RequestId = id.parse().map_err(|_| missing())?;
        let p = svc::public_one(&state.services, sd, rid)
            .await?
            .ok_or_else(missing)?;
        Ok(Value::Array(vec![public_json(&p, &state, lang)]))
    }
    .await;
    respond(f, "service_requests", "request", r)
}

pub(super) async fn token(
    State(state): State<AppState>,
    Path(file): Path<String>,
    req: Request,
) -> Response {
    let Some((tok, f)) = split(&file) else {
        return fail(StatusCode::NOT_FOUND, "use .json or .xml").respond(Format::Json);
    };
    let (parts, _) = req.into_parts();
    let r = async {
        // A token is a resident's key: guesses are limited per address, as on /track.
        let lookup = state.lookup_throttle.take(
            &state.services,
            client_ip(&parts),
            LOOKUPS_PER_WINDOW,
            LOOKUP_WINDOW,
        );
        match lookup.await {
            Ok(()) => {}
            Err(crate::AppError::TooManyRequests { retry_after }) => {
                return Err(Failure {
                    retry_after: Some(retry_after),
                    ..fail(
                        StatusCode::TOO_MANY_REQUESTS,
                        "too many token lookups; try again later",
                    )
                });
            }
            // The limit cannot be counted (the database is away): no lookup either.
            Err(_) => {
                return Err(fail(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable; try again later",
                ));
            }
        }
        match svc::by_code(&state.services, &tok.to_uppercase()).await? {
            Some(r) => {
                Ok(json!([{"service_request_id": r.id.to_string(), "token": r.tracking_code}]))
            }
            None => Err(fail(
                StatusCode::NOT_FOUND,
                format!("token {tok} not found"),
            )),
        }
    }
    .await;
    respond(f, "service_requests", "request", r)
}
