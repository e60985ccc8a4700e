//! Requests in the API: one-window intake, the inbox, a request with its timeline, moves
//! that carry the version they were based on, duplicates, figures and images.

use super::{ApiJson, page_json};
use crate::params::{ApiQuery, FromParams, Params};
use crate::session::CurrentUser;
use crate::{AppError, AppState};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use doorstep_domain::audit::RevealReason;
use doorstep_domain::mask::{mask_email, mask_name, mask_phone};
use doorstep_domain::requests::{Inbox, Move, State as RState};
use doorstep_domain::{AttachmentId, BuildingId, NeighbourhoodId, RequestId, ServiceItemId};
use doorstep_services::figures::{self, Period};
use doorstep_services::records::RequestOrder;
use doorstep_services::records::{DuplicateCandidate, FigureRow, Figures, RequestRecord};
use doorstep_services::requests::{self as svc, InboxQuery, attachments, duplicates};
use doorstep_services::reveal::{Secret, reveal as reveal_secret};
use serde_json::json;
use std::collections::HashMap;

/// The request as the API shows it: the resident's name and phone masked.
fn request_json(r: &RequestRecord) -> serde_json::Value {
    let mut v = json!(r);
    v["resident_name"] = r.resident_name.as_deref().map(mask_name).into();
    v["resident_phone"] = r.resident_phone.as_deref().map(mask_phone).into();
    v["resident_email"] = r.resident_email.as_deref().map(mask_email).into();
    v["state"] = json!(r.workflow.state);
    v
}

/// `GET /api/v1/requests`.
pub struct ListParams {
    q: InboxQuery,
}

impl FromParams for ListParams {
    fn from_params(p: &mut Params) -> Self {
        let (limit, offset) = p.paging();
        let mut q = InboxQuery::new(p.code::<Inbox>("box").unwrap_or(Inbox::Open));
        q.neighbourhood_id = p.id("neighbourhood_id");
        q.state = p.code::<RState>("state");
        q.text = p.text("q").filter(|t| !t.trim().is_empty());
        q.order = match p.text("sort").as_deref() {
            None | Some("newest") => RequestOrder::Newest,
            Some("deadline") => RequestOrder::Deadline,
            Some(_) => {
                p.error_with("sort", "invalid_choice", &[]);
                RequestOrder::Newest
            }
        };
        q.limit = limit;
        q.offset = offset;
        ListParams { q }
    }
}

pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(p): ApiQuery<ListParams>,
) -> Result<Json<serde_json::Value>, AppError> {
    let page = svc::inbox(&state.services, &user.caller(), &p.q).await?;
    let items: Vec<serde_json::Value> = page.items.iter().map(request_json).collect();
    Ok(Json(page_json(&items, page.total, p.q.limit, p.q.offset)))
}

pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson,
) -> Result<Response, AppError> {
    let r = svc::intake(&state.services, &user.caller(), &body).await?;
    Ok((StatusCode::CREATED, Json(request_json(&r))).into_response())
}

pub async fn get(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<RequestId>,
) -> Result<Json<serde_json::Value>, AppError> {
    let (r, timeline) = svc::with_timeline(&state.services, &user.caller(), id).await?;
    let mut v = request_json(&r);
    v["timeline"] = json!(timeline);
    Ok(Json(v))
}

pub async fn make_move(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<RequestId>,
    ApiJson(mut body): ApiJson,
) -> Result<Json<serde_json::Value>, AppError> {
    let version = match body.remove("version") {
        Some(v) => v
            .as_i64()
            .ok_or_else(|| AppError::validation("version", "not_integer"))?,
        None => return Err(AppError::validation("version", "required")),
    };
    let mv: Move = serde_json::from_value(serde_json::Value::Object(body))
        .map_err(|_| AppError::validation("move", "invalid"))?;
    let r = svc::apply_move(&state.services, &user.caller(), id, version, &mv).await?;
    Ok(Json(request_json(&r)))
}

/// `POST /api/v1/requests/{id}/reveal`: `{"field": "resident_phone", "reason": …}` gives
/// the unmasked value to the request's owner, handler or secretary, audited.
pub async fn reveal(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<RequestId>,
    ApiJson(body): ApiJson,
) -> Result<Json<serde_json::Value>, AppError> {
    let text = |k: &str| body.get(k).and_then(|v| v.as_str()).unwrap_or("");
    let mut errors = doorstep_domain::FieldErrors::new();
    let secret = match text("field") {
        "resident_phone" => Some(Secret::RequestPhone(id)),
        "" => {
            errors.add("field", "required");
            None
        }
        _ => {
            errors.add("field", "invalid_choice");
            None
        }
    };
    let reason = match text("reason") {
        "" => {
            errors.add("reason", "required");
            None
        }
        r => RevealReason::parse(r).or_else(|| {
            errors.add("reason", "invalid_choice");
            None
        }),
    };
    let (Some(secret), Some(reason)) = (secret, reason) else {
        return Err(AppError::Validation(errors));
    };
    let value = reveal_secret(&state.services, &user.caller(), secret, reason).await?;
    Ok(Json(json!({"field": secret.field(), "value": value})))
}

/// `GET /api/v1/requests/duplicates`.
pub struct DuplicateParams {
    m: duplicates::Matter,
}

impl FromParams for DuplicateParams {
    fn from_params(p: &mut Params) -> Self {
        let (lat, lon) = (p.float("lat"), p.float("lon"));
        DuplicateParams {
            m: duplicates::Matter {
                neighbourhood_id: p.id::<NeighbourhoodId>("neighbourhood_id"),
                building_id: p.id::<BuildingId>("building_id"),
                point: lat.zip(lon),
                description: p.text("description").unwrap_or_default(),
                service_item_id: p.id::<ServiceItemId>("service_item_id"),
                exclude: p.id::<RequestId>("exclude"),
            },
        }
    }
}

fn duplicate_json(c: &DuplicateCandidate, score: f64) -> serde_json::Value {
    json!({
        "id": c.id, "tracking_code": c.tracking_code, "description": c.description,
        "state": c.state, "version": c.version, "created_at": c.created_at,
        "building_id": c.building_id, "score": (score * 100.0).round() / 100.0,
    })
}

pub async fn duplicates(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(p): ApiQuery<DuplicateParams>,
) -> Result<Json<serde_json::Value>, AppError> {
    let hits = duplicates::find(&state.services, &user.caller(), &p.m).await?;
    let items: Vec<serde_json::Value> = hits.iter().map(|(c, s)| duplicate_json(c, *s)).collect();
    Ok(Json(json!({ "items": items })))
}

/// `GET /api/v1/figures`.
pub struct FigureParams {
    neighbourhood_id: Option<NeighbourhoodId>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
}

impl FromParams for FigureParams {
    fn from_params(p: &mut Params) -> Self {
        FigureParams {
            neighbourhood_id: p.id("neighbourhood_id"),
            from: p.date("from"),
            to: p.date("to"),
        }
    }
}

fn rate(x: Option<f64>) -> serde_json::Value {
    x.map(|v| (v * 1000.0).round() / 1000.0).into()
}

/// One row with its rates.
fn row_json(r: &FigureRow, name: Option<&String>) -> serde_json::Value {
    json!({
        "neighbourhood_id": r.neighbourhood_id,
        "neighbourhood": name,
        "total": r.total,
        "open": r.open,
        "overdue_open": r.overdue_open,
        "on_spot": r.on_spot,
        "resolved": r.resolved,
        "due": r.due,
        "on_time": r.on_time,
        "rated": r.rated,
        "satisfied": r.satisfied,
        "merged": r.merged,
        "on_time_rate": rate(r.on_time_rate()),
        "on_spot_rate": rate(r.on_spot_rate()),
        "resolution_rate": rate(r.resolution_rate()),
        "satisfaction_rate": rate(r.satisfaction_rate()),
        "median_hours_to_resolve": r.median_resolve_secs.map(|s| (s as f64 / 360.0).round() / 10.0),
    })
}

fn figures_json(
    f: &Figures,
    period: Period,
    names: &HashMap<NeighbourhoodId, String>,
) -> serde_json::Value {
    let name = |r: &FigureRow| r.neighbourhood_id.and_then(|n| names.get(&n));
    json!({
        "from": period.from.to_string(),
        "to": period.to.to_string(),
        "overall": row_json(&f.overall, name(&f.overall)),
        "neighbourhoods": f.neighbourhoods.iter().map(|r| row_json(r, name(r))).collect::<Vec<_>>(),
        "by_kind": f.by_kind,
        "by_category": f.by_category,
        "definitions": {
            "on_time_rate": "resolved by the deadline ÷ (resolved + open past the deadline)",
            "on_spot_rate": "resolved on the spot ÷ received",
            "resolution_rate": "resolved or closed ÷ received",
            "satisfaction_rate": "rated satisfied or basically satisfied ÷ rated",
            "median_hours_to_resolve": "median of intake → latest resolution, resolved requests only",
            "merged": "duplicates merged into another request; left out of every other figure"
        }
    })
}

pub async fn figures(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(p): ApiQuery<FigureParams>,
) -> Result<Json<serde_json::Value>, AppError> {
    let sv = &state.services;
    let period = Period::new(p.from, p.to, figures::today(sv))?;
    let f = figures::load(sv, &user.actor, p.neighbourhood_id, period).await?;
    let names = figures::neighbourhood_names(sv, &user.actor).await?;
    Ok(Json(figures_json(&f, period, &names)))
}

/// Adds an image to a request the caller may read.
pub async fn add_attachment(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<RequestId>,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    let a = attachments::attach(&state.services, &user.caller(), id, "attachment", &body).await?;
    Ok((StatusCode::CREATED, Json(json!(a))).into_response())
}

/// An image of a request; every view is audited, as photos can show people.
pub async fn get_attachment(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, attachment)): Path<(RequestId, AttachmentId)>,
) -> Result<Response, AppError> {
    let (content_type, data) =
        attachments::view(&state.services, &user.caller(), id, attachment).await?;
    // Served as the type it was stored as (a fresh re-encoded copy), under a name of
    // ours; nosniff is on every answer.
    let ext = match content_type.as_str() {
        "image/png" => "png",
        "image/webp" => "webp",
        _ => "jpg",
    };
    let disposition = format!("inline; filename=\"request-{id}-{attachment}.{ext}\"");
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "private, no-store".into()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        data,
    )
        .into_response())
}
