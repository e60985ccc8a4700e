//! The JSON API under `/api/v1`: adapters over the services, one file per capability.
//! One table of operations ([`ops`]) drives both the router and the OpenAPI document, so
//! the two cannot drift apart.

mod accounts;
mod bookings;
mod catalogue;
mod circle;
mod docs;
mod health;
mod places;
mod requests;
mod spec;
mod visits;

pub use spec::openapi;

use crate::{AppError, AppState};
use axum::extract::{FromRequest, Request};
use axum::http::{Method, header};
use axum::routing::{MethodFilter, MethodRouter, on};
use axum::{Json, Router};
use doorstep_domain::Entity;
use doorstep_domain::requests::MAX_ATTACHMENT_BYTES;
use serde_json::json;

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
    RevealContact,
    RequestDuplicates,
    RequestFigures,
    AddAttachment,
    GetAttachment,
    CircleSummary,
    CircleBuildings,
    CircleGeojson,
    CircleSites,
    CircleXlsx,
    LogVisit,
    CreateBooking,
    RoomBookings,
    SetBookingState,
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

/// The fixed operations (the places' operations are generated per entity).
#[rustfmt::skip]
const FIXED: &[(Method, &str, OpKind)] = &[
    (Method::GET,   "/api/v1/accounts", OpKind::ListAccounts),
    (Method::POST,  "/api/v1/accounts", OpKind::CreateAccount),
    (Method::GET,   "/api/v1/accounts/{id}", OpKind::GetAccount),
    (Method::PATCH, "/api/v1/accounts/{id}", OpKind::UpdateAccount),
    (Method::POST,  "/api/v1/accounts/{id}/password", OpKind::SetAccountPassword),
    (Method::GET,   "/api/v1/me", OpKind::Me),
    (Method::GET,   "/api/v1/stats/places", OpKind::PlaceStats),
    (Method::GET,   "/api/v1/catalogue/search", OpKind::CatalogueSearch),
    (Method::GET,   "/api/v1/requests", OpKind::ListRequests),
    (Method::POST,  "/api/v1/requests", OpKind::CreateRequest),
    (Method::GET,   "/api/v1/requests/{id}", OpKind::GetRequest),
    (Method::POST,  "/api/v1/requests/{id}/moves", OpKind::MoveRequest),
    (Method::POST,  "/api/v1/requests/{id}/reveal", OpKind::RevealContact),
    (Method::GET,   "/api/v1/requests/duplicates", OpKind::RequestDuplicates),
    (Method::POST,  "/api/v1/requests/{id}/attachments", OpKind::AddAttachment),
    (Method::GET,   "/api/v1/requests/{id}/attachments/{attachment_id}", OpKind::GetAttachment),
    (Method::GET,   "/api/v1/figures", OpKind::RequestFigures),
    (Method::GET,   "/api/v1/circle", OpKind::CircleSummary),
    (Method::GET,   "/api/v1/circle/buildings", OpKind::CircleBuildings),
    (Method::GET,   "/api/v1/circle/buildings.geojson", OpKind::CircleGeojson),
    (Method::GET,   "/api/v1/circle/sites", OpKind::CircleSites),
    (Method::GET,   "/api/v1/circle/export.xlsx", OpKind::CircleXlsx),
    (Method::POST,  "/api/v1/visits", OpKind::LogVisit),
    (Method::POST,  "/api/v1/bookings", OpKind::CreateBooking),
    (Method::GET,   "/api/v1/rooms/{id}/bookings", OpKind::RoomBookings),
    (Method::POST,  "/api/v1/bookings/{id}/state", OpKind::SetBookingState),
    (Method::GET,   "/healthz", OpKind::Health),
];

/// Every operation of the API.
pub fn ops() -> Vec<Op> {
    let op = |method: Method, path: String, kind| Op { method, path, kind };
    let mut out = Vec::new();
    for &e in Entity::ALL {
        let base = format!("/api/v1/{}", e.table());
        let one = format!("{base}/{{id}}");
        out.push(op(Method::GET, base.clone(), OpKind::ListPlaces(e)));
        out.push(op(Method::GET, one.clone(), OpKind::GetPlace(e)));
        out.push(op(Method::PATCH, one.clone(), OpKind::UpdatePlace(e)));
        // The subdistrict is the root: created by setup, never archived.
        if e != Entity::Subdistrict {
            out.push(op(Method::POST, base, OpKind::CreatePlace(e)));
            out.push(op(
                Method::POST,
                format!("{one}/archive"),
                OpKind::ArchivePlace(e),
            ));
            out.push(op(
                Method::POST,
                format!("{one}/restore"),
                OpKind::RestorePlace(e),
            ));
        }
    }
    out.extend(
        FIXED
            .iter()
            .map(|(m, path, kind)| op(m.clone(), (*path).into(), *kind)),
    );
    out
}

fn handler(kind: OpKind, filter: MethodFilter) -> MethodRouter<AppState> {
    match kind {
        OpKind::ListPlaces(e) => on(filter, move |s, u, q| places::list(e, s, u, q)),
        OpKind::GetPlace(e) => on(filter, move |s, u, p| places::get(e, s, u, p)),
        OpKind::CreatePlace(e) => on(filter, move |s, u, b| places::create(e, s, u, b)),
        OpKind::UpdatePlace(e) => on(filter, move |s, u, p, b| places::update(e, s, u, p, b)),
        OpKind::ArchivePlace(e) => on(filter, move |s, u, p, b| {
            places::archive(e, true, s, u, p, b)
        }),
        OpKind::RestorePlace(e) => on(filter, move |s, u, p, b| {
            places::archive(e, false, s, u, p, b)
        }),
        OpKind::ListAccounts => on(filter, accounts::list),
        OpKind::GetAccount => on(filter, accounts::get),
        OpKind::CreateAccount => on(filter, accounts::create),
        OpKind::UpdateAccount => on(filter, accounts::update),
        OpKind::SetAccountPassword => on(filter, accounts::set_password),
        OpKind::Me => on(filter, accounts::me),
        OpKind::PlaceStats => on(filter, places::stats),
        OpKind::CatalogueSearch => on(filter, catalogue::search),
        OpKind::ListRequests => on(filter, requests::list),
        OpKind::CreateRequest => on(filter, requests::create),
        OpKind::GetRequest => on(filter, requests::get),
        OpKind::MoveRequest => on(filter, requests::make_move),
        OpKind::RevealContact => on(filter, requests::reveal),
        OpKind::RequestDuplicates => on(filter, requests::duplicates),
        OpKind::RequestFigures => on(filter, requests::figures),
        OpKind::AddAttachment => on(filter, requests::add_attachment).layer(
            axum::extract::DefaultBodyLimit::max(MAX_ATTACHMENT_BYTES + 1),
        ),
        OpKind::GetAttachment => on(filter, requests::get_attachment),
        OpKind::CircleSummary => on(filter, circle::summary),
        OpKind::CircleBuildings => on(filter, circle::buildings),
        OpKind::CircleGeojson => on(filter, circle::geojson),
        OpKind::CircleSites => on(filter, circle::sites),
        OpKind::CircleXlsx => on(filter, circle::xlsx),
        OpKind::LogVisit => on(filter, visits::log),
        OpKind::CreateBooking => on(filter, bookings::create),
        OpKind::RoomBookings => on(filter, bookings::of_room),
        OpKind::SetBookingState => on(filter, bookings::set_state),
        OpKind::Health => on(filter, health::health),
    }
}

pub fn routes() -> Router<AppState> {
    let mut r = Router::new()
        .route("/api/openapi.json", axum::routing::get(openapi_json))
        .route("/api", axum::routing::get(docs::reference));
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
            .map_err(|e| {
                if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    AppError::PayloadTooLarge
                } else {
                    AppError::BadRequest(e.body_text())
                }
            })?;
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

pub(crate) fn version_of(
    body: &serde_json::Map<String, serde_json::Value>,
) -> Result<Option<i64>, AppError> {
    match body.get("version") {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| AppError::validation("version", "not_integer")),
    }
}

pub(crate) fn page_json<T: serde::Serialize>(
    items: &[T],
    total: i64,
    limit: i64,
    offset: i64,
) -> serde_json::Value {
    json!({ "items": items, "total": total, "page": offset / limit.max(1) + 1, "per_page": limit })
}
