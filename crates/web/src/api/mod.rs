//! The JSON API under `/api/v1`. One table of operations ([`ops`]) drives both the router
//! and the OpenAPI document, so the two cannot drift apart.

mod circle;
pub(crate) mod requests;
mod spec;

pub use spec::openapi;

use crate::auth::CurrentUser;
use crate::pages::places_api as shared;
use crate::views;
use crate::{AppError, AppState};
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter, on};
use axum::{Json, Router};
use doorstep_domain::policy::Action;
use doorstep_domain::{Entity, FieldKind, Role, Scope, Value};
use doorstep_store::{Account, ListQuery};
use serde_json::json;
use std::collections::HashMap;

/// What an operation does (the handler it routes to).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    ListPlaces(Entity),
    GetPlace(Entity),
    CreatePlace(Entity),
    UpdatePlace(Entity),
    ArchivePlace(Entity),
    RestorePlace(Entity),
    ListAccounts,
    GetAccount,
    CreateAccount,
    UpdateAccount,
    SetAccountPassword,
    Me,
    PlaceStats,
    CatalogueSearch,
    ListRequests,
    CreateRequest,
    GetRequest,
    MoveRequest,
    RequestDuplicates,
    RequestFigures,
    AddAttachment,
    GetAttachment,
    CircleSummary,
    CircleBuildings,
    CircleGeojson,
    CircleSites,
    CircleXlsx,
    Health,
}

/// One operation of the API.
#[derive(Debug, Clone)]
pub struct Op {
    pub method: Method,
    /// The axum path (`{id}` parameters), which is also the OpenAPI path.
    pub path: String,
    pub kind: OpKind,
}

/// Every operation of the API.
pub fn ops() -> Vec<Op> {
    let mut out = Vec::new();
    let op = |method: Method, path: String, kind| Op { method, path, kind };
    for e in Entity::ALL {
        let base = format!("/api/v1/{}", e.table());
        out.push(op(Method::GET, base.clone(), OpKind::ListPlaces(e)));
        if e != Entity::Subdistrict {
            out.push(op(Method::POST, base.clone(), OpKind::CreatePlace(e)));
        }
        out.push(op(
            Method::GET,
            format!("{base}/{{id}}"),
            OpKind::GetPlace(e),
        ));
        out.push(op(
            Method::PATCH,
            format!("{base}/{{id}}"),
            OpKind::UpdatePlace(e),
        ));
        if e != Entity::Subdistrict {
            out.push(op(
                Method::POST,
                format!("{base}/{{id}}/archive"),
                OpKind::ArchivePlace(e),
            ));
            out.push(op(
                Method::POST,
                format!("{base}/{{id}}/restore"),
                OpKind::RestorePlace(e),
            ));
        }
    }
    out.push(op(
        Method::GET,
        "/api/v1/accounts".into(),
        OpKind::ListAccounts,
    ));
    out.push(op(
        Method::POST,
        "/api/v1/accounts".into(),
        OpKind::CreateAccount,
    ));
    out.push(op(
        Method::GET,
        "/api/v1/accounts/{id}".into(),
        OpKind::GetAccount,
    ));
    out.push(op(
        Method::PATCH,
        "/api/v1/accounts/{id}".into(),
        OpKind::UpdateAccount,
    ));
    out.push(op(
        Method::POST,
        "/api/v1/accounts/{id}/password".into(),
        OpKind::SetAccountPassword,
    ));
    out.push(op(Method::GET, "/api/v1/me".into(), OpKind::Me));
    out.push(op(
        Method::GET,
        "/api/v1/stats/places".into(),
        OpKind::PlaceStats,
    ));
    out.push(op(
        Method::GET,
        "/api/v1/catalogue/search".into(),
        OpKind::CatalogueSearch,
    ));
    out.push(op(
        Method::GET,
        "/api/v1/requests".into(),
        OpKind::ListRequests,
    ));
    out.push(op(
        Method::POST,
        "/api/v1/requests".into(),
        OpKind::CreateRequest,
    ));
    out.push(op(
        Method::GET,
        "/api/v1/requests/{id}".into(),
        OpKind::GetRequest,
    ));
    out.push(op(
        Method::POST,
        "/api/v1/requests/{id}/moves".into(),
        OpKind::MoveRequest,
    ));
    out.push(op(
        Method::GET,
        "/api/v1/requests/duplicates".into(),
        OpKind::RequestDuplicates,
    ));
    out.push(op(
        Method::POST,
        "/api/v1/requests/{id}/attachments".into(),
        OpKind::AddAttachment,
    ));
    out.push(op(
        Method::GET,
        "/api/v1/requests/{id}/attachments/{attachment_id}".into(),
        OpKind::GetAttachment,
    ));
    out.push(op(
        Method::GET,
        "/api/v1/figures".into(),
        OpKind::RequestFigures,
    ));
    out.push(op(
        Method::GET,
        "/api/v1/circle".into(),
        OpKind::CircleSummary,
    ));
    out.push(op(
        Method::GET,
        "/api/v1/circle/buildings".into(),
        OpKind::CircleBuildings,
    ));
    out.push(op(
        Method::GET,
        "/api/v1/circle/buildings.geojson".into(),
        OpKind::CircleGeojson,
    ));
    out.push(op(
        Method::GET,
        "/api/v1/circle/sites".into(),
        OpKind::CircleSites,
    ));
    out.push(op(
        Method::GET,
        "/api/v1/circle/export.xlsx".into(),
        OpKind::CircleXlsx,
    ));
    out.push(op(Method::GET, "/healthz".into(), OpKind::Health));
    out
}

fn handler(kind: OpKind, filter: MethodFilter) -> MethodRouter<AppState> {
    match kind {
        OpKind::ListPlaces(e) => on(filter, move |s, u, q| list_places(e, s, u, q)),
        OpKind::GetPlace(e) => on(filter, move |s, u, p| get_place(e, s, u, p)),
        OpKind::CreatePlace(e) => on(filter, move |s, u, b| create_place(e, s, u, b)),
        OpKind::UpdatePlace(e) => on(filter, move |s, u, p, b| update_place(e, s, u, p, b)),
        OpKind::ArchivePlace(e) => on(filter, move |s, u, p, b| archive_place(e, true, s, u, p, b)),
        OpKind::RestorePlace(e) => on(filter, move |s, u, p, b| {
            archive_place(e, false, s, u, p, b)
        }),
        OpKind::ListAccounts => on(filter, list_accounts),
        OpKind::GetAccount => on(filter, get_account),
        OpKind::CreateAccount => on(filter, create_account),
        OpKind::UpdateAccount => on(filter, update_account),
        OpKind::SetAccountPassword => on(filter, set_account_password),
        OpKind::Me => on(filter, me),
        OpKind::PlaceStats => on(filter, place_stats),
        OpKind::CatalogueSearch => on(filter, catalogue_search),
        OpKind::ListRequests => on(filter, requests::list),
        OpKind::CreateRequest => on(filter, requests::create),
        OpKind::GetRequest => on(filter, requests::get),
        OpKind::MoveRequest => on(filter, requests::make_move),
        OpKind::RequestDuplicates => on(filter, requests::duplicates),
        OpKind::RequestFigures => on(filter, requests::figures),
        OpKind::AddAttachment => on(filter, requests::add_attachment).layer(
            axum::extract::DefaultBodyLimit::max(crate::attachments::MAX_BYTES + 1),
        ),
        OpKind::GetAttachment => on(filter, requests::get_attachment),
        OpKind::CircleSummary => on(filter, circle::summary),
        OpKind::CircleBuildings => on(filter, circle::buildings),
        OpKind::CircleGeojson => on(filter, circle::geojson),
        OpKind::CircleSites => on(filter, circle::sites),
        OpKind::CircleXlsx => on(filter, circle::xlsx),
        OpKind::Health => on(filter, health),
    }
}

pub fn routes() -> Router<AppState> {
    let mut r = Router::new().route("/api/openapi.json", axum::routing::get(openapi_json));
    for op in ops() {
        let filter = MethodFilter::try_from(op.method.clone()).unwrap_or(MethodFilter::GET);
        r = r.route(&op.path, handler(op.kind, filter));
    }
    r.route(
        "/api/{*rest}",
        axum::routing::any(|| async { AppError::NotFound }),
    )
}

async fn openapi_json() -> Json<serde_json::Value> {
    Json(openapi())
}

/// A JSON object body; anything else (or malformed JSON) is a 400.
pub struct ApiJson(pub serde_json::Map<String, serde_json::Value>);

impl<S: Send + Sync> FromRequest<S> for ApiJson {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json") || v.contains("+json"));
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| AppError::BadRequest(e.body_text()))?;
        // An empty body is an empty object (e.g. POST …/archive without a version).
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(ApiJson(serde_json::Map::new()));
        }
        if !json_type {
            return Err(AppError::BadRequest(
                "expected Content-Type: application/json".into(),
            ));
        }
        match serde_json::from_slice::<serde_json::Value>(&bytes) {
            Ok(serde_json::Value::Object(m)) => Ok(ApiJson(m)),
            Ok(_) => Err(AppError::BadRequest("expected a JSON object".into())),
            Err(e) => Err(AppError::BadRequest(format!("invalid JSON: {e}"))),
        }
    }
}

fn version_of(body: &serde_json::Map<String, serde_json::Value>) -> Result<Option<i64>, AppError> {
    match body.get("version") {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| AppError::validation("version", "not_integer")),
    }
}

/// An optional whole-number query parameter; anything else is a 422 on that parameter.
fn int_param(p: &HashMap<String, String>, k: &str) -> Result<Option<i64>, AppError> {
    p.get(k)
        .map(|v| {
            v.parse::<i64>()
                .map_err(|_| AppError::validation(k, "not_integer"))
        })
        .transpose()
}

fn page_json<T: serde::Serialize>(
    items: &[T],
    total: i64,
    limit: i64,
    offset: i64,
) -> serde_json::Value {
    json!({ "items": items, "total": total, "page": offset / limit.max(1) + 1, "per_page": limit })
}

async fn list_places(
    entity: Entity,
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<HashMap<String, String>>,
) -> Result<Json<serde_json::Value>, AppError> {
    let int = |k: &str| int_param(&p, k);
    let (limit, offset) = views::paging(int("page")?, int("per_page")?);
    let mut q = ListQuery::new(user.actor.list_scope(entity));
    q.limit = limit;
    q.offset = offset;
    q.q = p.get("q").cloned();
    q.include_archived = matches!(p.get("archived").map(String::as_str), Some("true" | "1"));
    for (k, v) in &p {
        if matches!(k.as_str(), "page" | "per_page" | "q" | "archived") {
            continue;
        }
        let is_ref = matches!(entity.field(k).map(|f| f.kind), Some(FieldKind::Ref(_)));
        if !(is_ref || (k == "neighbourhood_id" && entity.in_neighbourhood())) {
            return Err(AppError::validation(k, "unknown_field"));
        }
        let id: i64 = v
            .parse()
            .map_err(|_| AppError::validation(k, "not_integer"))?;
        q = q.filter(k, Value::Int(id));
    }
    let page = state.store.list_places(entity, &q).await?;
    Ok(Json(page_json(&page.items, page.total, limit, offset)))
}

async fn get_place(
    entity: Entity,
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<serde_json::Value>, AppError> {
    let r = shared::readable(&state, &user.actor, entity, id).await?;
    Ok(Json(json!(r)))
}

async fn create_place(
    entity: Entity,
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson,
) -> Result<Response, AppError> {
    let values = doorstep_domain::validate(entity.fields(), &body, None, &[])?;
    let parent = state.store.parent_place(entity, &values).await?;
    let Some(parent) = parent else {
        return Err(AppError::validation(
            entity.parent().map(|(_, fk)| fk).unwrap_or("parent"),
            "invalid_reference",
        ));
    };
    shared::check(
        user.actor
            .may(Action::Create, entity, shared::child_place(&parent, entity)),
    )?;
    let r = state
        .store
        .create_place(entity, &values, &user.ctx(&state))
        .await?;
    let mut res = (StatusCode::CREATED, Json(json!(r))).into_response();
    if let Ok(loc) = HeaderValue::from_str(&format!("/api/v1/{}/{}", entity.table(), r.id)) {
        res.headers_mut().insert(header::LOCATION, loc);
    }
    Ok(res)
}

async fn update_place(
    entity: Entity,
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson,
) -> Result<Json<serde_json::Value>, AppError> {
    let r = shared::readable(&state, &user.actor, entity, id).await?;
    shared::check(user.actor.may(Action::Update, entity, r.place()))?;
    let version = version_of(&body)?;
    let r = state
        .store
        .update_place(entity, id, version, &user.ctx(&state), |cur| {
            shared::merged(entity, &body, cur)
        })
        .await?;
    Ok(Json(json!(r)))
}

async fn archive_place(
    entity: Entity,
    archive: bool,
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson,
) -> Result<Json<serde_json::Value>, AppError> {
    let r = shared::readable(&state, &user.actor, entity, id).await?;
    shared::check(user.actor.may(Action::Archive, entity, r.place()))?;
    let r = state
        .store
        .archive_place(entity, id, version_of(&body)?, archive, &user.ctx(&state))
        .await?;
    Ok(Json(json!(r)))
}

async fn list_accounts(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<HashMap<String, String>>,
) -> Result<Json<serde_json::Value>, AppError> {
    let int = |k: &str| int_param(&p, k);
    for k in p.keys() {
        if !matches!(
            k.as_str(),
            "page" | "per_page" | "q" | "role" | "neighbourhood_id"
        ) {
            return Err(AppError::validation(k, "unknown_field"));
        }
    }
    let nb = match user.actor.role {
        Role::Admin => int("neighbourhood_id")?,
        Role::Secretary => {
            if int("neighbourhood_id")?.is_some_and(|n| Some(n) != user.actor.neighbourhood_id) {
                return Err(AppError::Forbidden);
            }
            user.actor.neighbourhood_id
        }
        _ => return Err(AppError::Forbidden),
    };
    let role = p
        .get("role")
        .map(|r| Role::parse(r).ok_or_else(|| AppError::validation("role", "invalid_choice")))
        .transpose()?;
    let (limit, offset) = views::paging(int("page")?, int("per_page")?);
    let page = state
        .store
        .list_accounts(
            user.actor.subdistrict_id,
            nb,
            role,
            p.get("q").map(String::as_str),
            limit,
            offset,
        )
        .await?;
    Ok(Json(page_json(&page.items, page.total, limit, offset)))
}

async fn readable_account(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
) -> Result<Account, AppError> {
    let a = state.store.get_account(id).await?;
    shared::check(
        user.actor
            .may_read_account(a.subdistrict_id, a.neighbourhood_id, a.id),
    )?;
    Ok(a)
}

async fn get_account(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<Account>, AppError> {
    Ok(Json(readable_account(&state, &user, id).await?))
}

async fn create_account(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson,
) -> Result<Response, AppError> {
    if !user.actor.may_manage_accounts() {
        return Err(AppError::Forbidden);
    }
    let mut body = body;
    let password = match body.remove("password") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(s),
        Some(_) => return Err(AppError::validation("password", "invalid")),
    };
    let mut v = shared::validate_account(&body, None)?;
    let username = v
        .get("username")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_lowercase();
    v.insert("username", Value::Text(username.clone()));
    let hash = match password {
        Some(pw) => {
            if let Some(code) = doorstep_domain::accounts::check_password(&pw, &username) {
                return Err(AppError::validation("password", code));
            }
            Some(crate::auth::hash_password(pw).await?)
        }
        None => None,
    };
    let p = shared::patch_from(&v);
    let new = doorstep_store::NewAccount {
        username,
        display_name: p.display_name,
        role: p.role,
        neighbourhood_id: p.neighbourhood_id,
        partner_unit: p.partner_unit,
        phone: p.phone,
        locale: p.locale,
        password_hash: hash,
    };
    let a = state
        .store
        .create_account(user.actor.subdistrict_id, &new, &user.ctx(&state))
        .await?;
    Ok((StatusCode::CREATED, Json(a)).into_response())
}

async fn update_account(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson,
) -> Result<Json<Account>, AppError> {
    let a = readable_account(&state, &user, id).await?;
    if !user.actor.may_manage_accounts() {
        return Err(AppError::Forbidden);
    }
    if a.id == user.account.id && (body.contains_key("role") || body.contains_key("disabled")) {
        return Err(AppError::conflict("cannot_change_own_role"));
    }
    let version = version_of(&body)?;
    let a = state
        .store
        .update_account(id, version, &user.ctx(&state), |cur| {
            let v = shared::validate_account(&body, Some(&shared::account_values(cur)))?;
            Ok(shared::patch_from(&v))
        })
        .await?;
    Ok(Json(a))
}

async fn set_account_password(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson,
) -> Result<StatusCode, AppError> {
    let a = readable_account(&state, &user, id).await?;
    if !user.actor.may_manage_accounts() {
        return Err(AppError::Forbidden);
    }
    let pw = body
        .get("password")
        .and_then(|v| v.as_str())
        .ok_or_else(|| AppError::validation("password", "required"))?;
    if let Some(code) = doorstep_domain::accounts::check_password(pw, &a.username) {
        return Err(AppError::validation("password", code));
    }
    let hash = crate::auth::hash_password(pw.to_string()).await?;
    state
        .store
        .set_password(id, &hash, &user.ctx(&state))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn me(user: CurrentUser) -> Json<serde_json::Value> {
    Json(json!({ "account": user.account, "lang": user.lang.code() }))
}

async fn place_stats(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<HashMap<String, String>>,
) -> Result<Json<serde_json::Value>, AppError> {
    let scope = match p.get("neighbourhood_id") {
        Some(v) => {
            let nb: i64 = v
                .parse()
                .map_err(|_| AppError::validation("neighbourhood_id", "not_integer"))?;
            let r = state.store.get_place(Entity::Neighbourhood, nb).await?;
            // Figures of a neighbourhood include its buildings: its scope is needed.
            shared::check(user.actor.may(Action::Read, Entity::Estate, r.place()))?;
            Scope::Neighbourhood {
                subdistrict_id: r.subdistrict_id,
                neighbourhood_id: nb,
            }
        }
        None => match (user.actor.role, user.actor.neighbourhood_id) {
            (Role::Admin, _) | (_, None) => Scope::Subdistrict(user.actor.subdistrict_id),
            (_, Some(nb)) => Scope::Neighbourhood {
                subdistrict_id: user.actor.subdistrict_id,
                neighbourhood_id: nb,
            },
        },
    };
    let totals = state.store.place_totals(scope).await?;
    let stations = state.store.room_areas(scope).await?;
    Ok(Json(json!({ "totals": totals, "stations": stations })))
}

async fn catalogue_search(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<HashMap<String, String>>,
) -> Result<Json<serde_json::Value>, AppError> {
    for k in p.keys() {
        if !matches!(k.as_str(), "q" | "category" | "limit") {
            return Err(AppError::validation(k, "unknown_field"));
        }
    }
    let category = match p.get("category").filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => Some(
            doorstep_domain::catalogue::Category::parse(c)
                .ok_or_else(|| AppError::validation("category", "invalid_choice"))?,
        ),
    };
    let limit = int_param(&p, "limit")?.unwrap_or(10);
    if !(1..=100).contains(&limit) {
        return Err(AppError::Validation(doorstep_domain::FieldErrors(vec![
            doorstep_domain::FieldError {
                field: "limit".into(),
                code: "out_of_range",
                params: vec!["1".into(), "100".into()],
            },
        ])));
    }
    let cat = crate::catalogue::load(&state, user.actor.subdistrict_id).await?;
    let q = p.get("q").map(String::as_str).unwrap_or("");
    let items: Vec<serde_json::Value> = cat
        .search(q, category, limit as usize)
        .into_iter()
        .map(|(r, s)| crate::catalogue::hit_json(r, s))
        .collect();
    Ok(Json(
        json!({ "q": q, "total": items.len(), "items": items }),
    ))
}

async fn health(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => Json(json!({"status": "ok", "backend": format!("{:?}", state.store.backend()).to_lowercase()})).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            AppError::Unavailable.into_response()
        }
    }
}
