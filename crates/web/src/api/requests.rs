//! Requests in the API: one-window intake, the inbox, a request with its timeline, and
//! moves that carry the version they were based on.

use super::{ApiJson, int_param, page_json};
use crate::auth::CurrentUser;
use crate::{AppError, AppState};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use doorstep_domain::mask::{mask_email, mask_name, mask_phone};
use doorstep_domain::requests::{Channel, Handler, Kind, Move, Relation, Workflow};
use doorstep_domain::{Entity, FieldErrors, FieldKind, FieldSpec, Role, Value};
use doorstep_store::{DuplicateCandidate, NewRequest, RequestFilter, RequestRecord, StoreError};
use serde_json::json;
use std::collections::HashMap;

const CHANNELS: &[&str] = &["desk", "phone", "visit", "web", "open311"];
const KINDS: &[&str] = &[
    "consultation",
    "help",
    "complaint",
    "report",
    "suggestion",
    "praise",
];

/// The fields of an intake.
pub const REQUEST_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("neighbourhood_id", FieldKind::Ref("neighbourhoods")),
    FieldSpec::new("channel", FieldKind::Choice(CHANNELS)).required(),
    FieldSpec::new("kind", FieldKind::Choice(KINDS)).required(),
    FieldSpec::new("service_item_id", FieldKind::Ref("service_items")),
    FieldSpec::long_text("description", 2000).required(),
    FieldSpec::new("building_id", FieldKind::Ref("buildings")),
    FieldSpec::float("lat", 18.0, 54.0),
    FieldSpec::float("lon", 73.0, 136.0),
    FieldSpec::text("address", 200),
    FieldSpec::text("resident_name", 30),
    FieldSpec::new("resident_phone", FieldKind::Phone),
];

fn parse_code<T: serde::de::DeserializeOwned>(v: Option<&Value>) -> Option<T> {
    v.and_then(Value::as_str)
        .and_then(|s| serde_json::from_value(serde_json::Value::String(s.into())).ok())
}

/// A tracking code residents can read out on the phone: no 0/O, 1/I.
fn tracking_code() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = doorstep_domain::requests::TRACKING_CODE_ALPHABET;
    let mut rng = rand::rng();
    (0..10)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// The request as the API shows it: the resident's name and phone masked.
pub fn request_json(r: &RequestRecord) -> serde_json::Value {
    let mut v = json!(r);
    v["resident_name"] = r.resident_name.as_deref().map(mask_name).into();
    v["resident_phone"] = r.resident_phone.as_deref().map(mask_phone).into();
    v["resident_email"] = r.resident_email.as_deref().map(mask_email).into();
    v["state"] = json!(r.workflow.state);
    v
}

/// Who may read a request: the subdistrict, and the staff of its neighbourhood.
pub(crate) fn may_read(user: &CurrentUser, r: &RequestRecord) -> Result<(), AppError> {
    let a = &user.actor;
    if a.subdistrict_id != r.subdistrict_id {
        return Err(AppError::NotFound);
    }
    let ok = a.role == Role::Admin
        || (matches!(a.role, Role::Secretary | Role::Worker)
            && a.neighbourhood_id == Some(r.neighbourhood_id))
        || r.owner_id == user.account.id;
    if ok { Ok(()) } else { Err(AppError::Forbidden) }
}

fn is_supervisor(user: &CurrentUser, r: &RequestRecord) -> bool {
    let a = &user.actor;
    a.role == Role::Admin
        || (a.role == Role::Secretary && a.neighbourhood_id == Some(r.neighbourhood_id))
}

/// How the caller relates to the request for this move.
pub(crate) fn relation(
    user: &CurrentUser,
    r: &RequestRecord,
    mv: &Move,
) -> Result<Relation, AppError> {
    let me = user.account.id;
    let handler = r.workflow.handler == Some(Handler::Worker(me));
    let owner = r.owner_id == me;
    let supervisor = is_supervisor(user, r);
    let rel = match mv {
        Move::DecideExtension { .. } | Move::Escalate => supervisor.then_some(Relation::Supervisor),
        Move::FollowUp { .. } | Move::Close | Move::Merge { .. } => {
            if owner {
                Some(Relation::Owner)
            } else {
                supervisor.then_some(Relation::Supervisor)
            }
        }
        Move::Accept | Move::Return { .. } => handler.then_some(Relation::Handler),
        _ => {
            if handler {
                Some(Relation::Handler)
            } else {
                owner.then_some(Relation::Owner)
            }
        }
    };
    rel.ok_or(AppError::Forbidden)
}

pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson,
) -> Result<Response, AppError> {
    let r = intake(&state, &user, &body).await?;
    Ok((StatusCode::CREATED, Json(request_json(&r))).into_response())
}

/// One-window intake, shared by the API and the desk form: the caller becomes the owner.
pub(crate) async fn intake(
    state: &AppState,
    user: &CurrentUser,
    body: &serde_json::Map<String, serde_json::Value>,
) -> Result<RequestRecord, AppError> {
    if !matches!(
        user.actor.role,
        Role::Admin | Role::Secretary | Role::Worker
    ) {
        return Err(AppError::Forbidden);
    }
    let v = doorstep_domain::validate(REQUEST_FIELDS, body, None, &[])?;
    let nb = match (
        user.actor.role,
        v.get("neighbourhood_id").and_then(Value::as_i64),
    ) {
        (Role::Admin, Some(n)) => n,
        (Role::Admin, None) => return Err(AppError::validation("neighbourhood_id", "required")),
        (_, Some(n)) if Some(n) != user.actor.neighbourhood_id => return Err(AppError::Forbidden),
        (_, _) => user.actor.neighbourhood_id.ok_or(AppError::Forbidden)?,
    };
    let channel: Channel = parse_code(v.get("channel"))
        .ok_or_else(|| AppError::validation("channel", "invalid_choice"))?;
    let owner = user.account.id;
    create_checked(
        state,
        user.actor.subdistrict_id,
        nb,
        &v,
        channel,
        owner,
        &[],
        &user.ctx(state),
    )
    .await
}

#[allow(clippy::too_many_arguments)]
/// Checks an intake's references (the neighbourhood, catalogue item and building belong to
/// the subdistrict and are in use) and stores it with its working-day deadline, owned by
/// `owner`. Shared by every channel.
pub(crate) async fn create_checked(
    state: &AppState,
    subdistrict_id: i64,
    nb: i64,
    v: &doorstep_domain::Values,
    channel: Channel,
    owner: i64,
    attachments: &[doorstep_store::NewAttachment],
    ctx: &doorstep_store::WriteCtx,
) -> Result<RequestRecord, AppError> {
    let mut errors = FieldErrors::new();
    match state.store.find_place(Entity::Neighbourhood, nb).await? {
        Some(n) if n.subdistrict_id == subdistrict_id && n.archived_at.is_none() => {}
        _ => errors.add("neighbourhood_id", "invalid_reference"),
    }
    if let Some(id) = v.get("service_item_id").and_then(Value::as_i64) {
        match state.store.find_place(Entity::ServiceItem, id).await? {
            Some(s) if s.subdistrict_id == subdistrict_id && s.archived_at.is_none() => {}
            _ => errors.add("service_item_id", "invalid_reference"),
        }
    }
    if let Some(id) = v.get("building_id").and_then(Value::as_i64) {
        match state.store.find_place(Entity::Building, id).await? {
            Some(b) if b.neighbourhood_id == Some(nb) && b.archived_at.is_none() => {}
            _ => errors.add("building_id", "invalid_reference"),
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let kind: Kind =
        parse_code(v.get("kind")).ok_or_else(|| AppError::validation("kind", "invalid_choice"))?;
    let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let mut attempt = 0;
    loop {
        let new = NewRequest {
            neighbourhood_id: nb,
            tracking_code: tracking_code(),
            channel,
            kind,
            service_item_id: v.get("service_item_id").and_then(Value::as_i64),
            description: text("description").unwrap_or_default(),
            building_id: v.get("building_id").and_then(Value::as_i64),
            lat: v.get("lat").and_then(Value::as_f64),
            lon: v.get("lon").and_then(Value::as_f64),
            resident_name: text("resident_name"),
            resident_phone: text("resident_phone"),
            resident_email: text("resident_email"),
            address: text("address"),
            owner_id: owner,
            deadline_at: state.calendar.deadline(ctx.at, kind.time_limit_days()),
            attachments: attachments.to_vec(),
        };
        match state
            .intake_queue
            .submit(&state.store, new, ctx.clone())
            .await
        {
            Ok(r) => return Ok(r),
            // A tracking code collided: draw another.
            Err(StoreError::Duplicate(_)) if attempt < 3 => attempt += 1,
            Err(e) => return Err(e.into()),
        }
    }
}

pub async fn get(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<serde_json::Value>, AppError> {
    let r = state.store.get_request(id).await?;
    may_read(&user, &r)?;
    let timeline = state.store.request_timeline(id).await?;
    let mut v = request_json(&r);
    v["timeline"] = json!(timeline);
    Ok(Json(v))
}

pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<HashMap<String, String>>,
) -> Result<Json<serde_json::Value>, AppError> {
    for k in p.keys() {
        if !matches!(
            k.as_str(),
            "box" | "state" | "neighbourhood_id" | "page" | "per_page"
        ) {
            return Err(AppError::validation(k, "unknown_field"));
        }
    }
    let mut f = inbox_filter(
        &user,
        p.get("box").map(String::as_str).unwrap_or("open"),
        state.clock.now(),
        int_param(&p, "neighbourhood_id")?,
    )?;
    if let Some(s) = p.get("state") {
        f.state = Some(
            serde_json::from_value(json!(s))
                .map_err(|_| AppError::validation("state", "invalid_choice"))?,
        );
    }
    let (limit, offset) = crate::views::paging(int_param(&p, "page")?, int_param(&p, "per_page")?);
    f.limit = limit;
    f.offset = offset;
    let page = state.store.list_requests(&f).await?;
    let items: Vec<serde_json::Value> = page.items.iter().map(request_json).collect();
    Ok(Json(page_json(&items, page.total, limit, offset)))
}

pub async fn make_move(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
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
    let r = apply_move(&state, &user, id, version, &mv).await?;
    Ok(Json(request_json(&r)))
}

/// Checks who the caller is to the request and applies the move (API and pages).
pub(crate) async fn apply_move(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    version: i64,
    mv: &Move,
) -> Result<RequestRecord, AppError> {
    let mv = mv.clone();
    let r = state.store.get_request(id).await?;
    may_read(user, &r)?;
    let rel = relation(user, &r, &mv)?;
    match mv {
        // Only a merge writes the other side.
        Move::Absorb { .. } => return Err(AppError::validation("move", "invalid")),
        Move::Merge { into } => {
            let target = state
                .store
                .find_request(into)
                .await?
                .filter(|t| {
                    t.subdistrict_id == r.subdistrict_id && t.neighbourhood_id == r.neighbourhood_id
                })
                .ok_or_else(|| AppError::validation("into", "invalid_reference"))?;
            return Ok(state
                .store
                .merge_requests(id, version, target.id, rel, &user.ctx(state))
                .await?);
        }
        _ => {}
    }
    if let Move::Assign {
        to: Handler::Worker(w),
    } = &mv
    {
        match state.store.find_account(*w).await? {
            Some(a)
                if a.neighbourhood_id == Some(r.neighbourhood_id)
                    && matches!(a.role, Role::Worker | Role::Secretary)
                    && !a.disabled => {}
            _ => return Err(AppError::validation("to", "invalid_reference")),
        }
    }
    let calendar = state.calendar.clone();
    let deadline = move |cur: &RequestRecord, next: &Workflow| {
        if next.extra_days != cur.workflow.extra_days {
            calendar.deadline(cur.created_at, cur.kind.time_limit_days() + next.extra_days)
        } else {
            cur.deadline_at
        }
    };
    Ok(state
        .store
        .move_request(id, version, &mv, rel, &user.ctx(state), deadline)
        .await?)
}

/// The requests a box shows the caller: admins all (or one neighbourhood), secretaries
/// their neighbourhood, workers what they own or handle.
pub(crate) fn inbox_filter(
    user: &CurrentUser,
    inbox: &str,
    now: chrono::DateTime<chrono::Utc>,
    neighbourhood: Option<i64>,
) -> Result<RequestFilter, AppError> {
    let a = &user.actor;
    let mut f = RequestFilter {
        subdistrict_id: a.subdistrict_id,
        ..Default::default()
    };
    match a.role {
        Role::Admin => f.neighbourhood_id = neighbourhood,
        Role::Secretary => f.neighbourhood_id = a.neighbourhood_id,
        Role::Worker => {
            f.neighbourhood_id = a.neighbourhood_id;
            f.involving = Some(user.account.id);
        }
        _ => return Err(AppError::Forbidden),
    }
    match inbox {
        "owned" => {
            f.owner = Some(user.account.id);
            f.open_only = true;
        }
        "assigned" => {
            f.handler = Some(user.account.id);
            f.open_only = true;
        }
        "due_soon" => {
            f.open_only = true;
            f.deadline_after = Some(now);
            f.deadline_before = Some(now + chrono::Duration::days(1));
        }
        "overdue" => {
            f.open_only = true;
            f.deadline_before = Some(now);
        }
        "open" => f.open_only = true,
        "all" => {}
        _ => return Err(AppError::validation("box", "invalid_choice")),
    }
    Ok(f)
}

/// Likely duplicates of a matter (same building or within 50 m, similar words, open,
/// received in the last 14 days), best first, at most five.
pub(crate) async fn find_duplicates(
    state: &AppState,
    neighbourhood_id: i64,
    building_id: Option<i64>,
    point: Option<(f64, f64)>,
    text: &str,
    item: Option<i64>,
    exclude: Option<i64>,
) -> Result<Vec<(DuplicateCandidate, f64)>, AppError> {
    use doorstep_domain::duplicates::{Spot, WINDOW_DAYS, score};
    let point = match (point, building_id) {
        (Some(p), _) => Some(p),
        (None, Some(b)) => state.store.building_point(b).await?,
        (None, None) => None,
    };
    let spot = Spot { building_id, point };
    if text.trim().is_empty() || (spot.building_id.is_none() && spot.point.is_none()) {
        return Ok(Vec::new());
    }
    let since = state.clock.now() - chrono::Duration::days(WINDOW_DAYS);
    let cands = state
        .store
        .duplicate_candidates(neighbourhood_id, since, exclude, 500)
        .await?;
    let mut hits: Vec<(DuplicateCandidate, f64)> = cands
        .into_iter()
        .filter_map(|c| {
            let other = Spot {
                building_id: c.building_id,
                point: c.lat.zip(c.lon),
            };
            score(text, &spot, item, &c.description, &other, c.service_item_id).map(|s| (c, s))
        })
        .collect();
    hits.sort_by(|a, b| {
        b.1.total_cmp(&a.1)
            .then(b.0.created_at.cmp(&a.0.created_at))
    });
    hits.truncate(5);
    Ok(hits)
}

pub(crate) fn duplicate_json(c: &DuplicateCandidate, score: f64) -> serde_json::Value {
    json!({
        "id": c.id, "tracking_code": c.tracking_code, "description": c.description,
        "state": c.state, "version": c.version, "created_at": c.created_at,
        "building_id": c.building_id, "score": (score * 100.0).round() / 100.0,
    })
}

pub async fn duplicates(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<HashMap<String, String>>,
) -> Result<Json<serde_json::Value>, AppError> {
    for k in p.keys() {
        if !matches!(
            k.as_str(),
            "neighbourhood_id"
                | "building_id"
                | "lat"
                | "lon"
                | "description"
                | "service_item_id"
                | "exclude"
        ) {
            return Err(AppError::validation(k, "unknown_field"));
        }
    }
    let nb = match (user.actor.role, int_param(&p, "neighbourhood_id")?) {
        (Role::Admin, Some(n)) => n,
        (Role::Admin, None) => return Err(AppError::validation("neighbourhood_id", "required")),
        (Role::Secretary | Role::Worker, asked) => {
            let mine = user.actor.neighbourhood_id.ok_or(AppError::Forbidden)?;
            if asked.is_some_and(|n| n != mine) {
                return Err(AppError::Forbidden);
            }
            mine
        }
        _ => return Err(AppError::Forbidden),
    };
    match state.store.find_place(Entity::Neighbourhood, nb).await? {
        Some(n) if n.subdistrict_id == user.actor.subdistrict_id => {}
        _ => return Err(AppError::NotFound),
    }
    let float = |k: &str| {
        p.get(k)
            .filter(|v| !v.is_empty())
            .map(|v| {
                v.parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| AppError::validation(k, "not_number"))
            })
            .transpose()
    };
    let point = float("lat")?.zip(float("lon")?);
    let text = p.get("description").map(String::as_str).unwrap_or("");
    let hits = find_duplicates(
        &state,
        nb,
        int_param(&p, "building_id")?,
        point,
        text,
        int_param(&p, "service_item_id")?,
        int_param(&p, "exclude")?,
    )
    .await?;
    let items: Vec<serde_json::Value> = hits.iter().map(|(c, s)| duplicate_json(c, *s)).collect();
    Ok(Json(json!({ "items": items })))
}

pub async fn figures(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<HashMap<String, String>>,
) -> Result<Json<serde_json::Value>, AppError> {
    for k in p.keys() {
        if !matches!(k.as_str(), "neighbourhood_id" | "from" | "to") {
            return Err(AppError::validation(k, "unknown_field"));
        }
    }
    let period = crate::figures::period(&p, crate::figures::today(&state))?;
    let f = crate::figures::load(&state, &user, int_param(&p, "neighbourhood_id")?, period).await?;
    let names = crate::figures::neighbourhood_names(&state, &user).await?;
    Ok(Json(crate::figures::figures_json(&f, period, &names)))
}

/// Who may add images to a request: staff who may read it.
pub async fn add_attachment(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    let r = state.store.get_request(id).await?;
    may_read(&user, &r)?;
    let a = crate::attachments::attach(&state, id, "attachment", &body, &user.ctx(&state)).await?;
    Ok((StatusCode::CREATED, Json(json!(a))).into_response())
}

/// An image of a request; every view is audited, as photos can show people.
pub async fn get_attachment(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, attachment)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    let r = state.store.get_request(id).await?;
    may_read(&user, &r)?;
    let (content_type, data) = state.store.attachment_data(id, attachment).await?;
    state
        .store
        .record_audit(
            &user.ctx(&state),
            doorstep_store::AuditEntry::write(
                "view_attachment",
                "request",
                id,
                json!({"attachment": attachment}),
            ),
        )
        .await?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, content_type),
            (
                axum::http::header::CACHE_CONTROL,
                "private, no-store".into(),
            ),
            (axum::http::header::CONTENT_DISPOSITION, "inline".into()),
        ],
        data,
    )
        .into_response())
}
