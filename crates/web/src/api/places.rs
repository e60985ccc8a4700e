//! Places (every kind) in the API: list, read, create, change, archive, restore, and the
//! figures of a scope.

use super::{ApiJson, page_json, version_of};
use crate::params::{ApiQuery, FromParams, Params};
use crate::session::CurrentUser;
use crate::{AppError, AppState};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use doorstep_domain::{Entity, NeighbourhoodId};
use doorstep_services::places::{self as svc, PlaceQuery};
use serde_json::json;

/// `GET /api/v1/{table}`: paging, a search, archived records, and reference filters.
pub struct ListParams {
    limit: i64,
    offset: i64,
    q: Option<String>,
    archived: bool,
    filters: Vec<(String, String)>,
}

impl FromParams for ListParams {
    fn from_params(p: &mut Params) -> Self {
        let (limit, offset) = p.paging();
        let q = p.text("q");
        let archived = p.bool("archived").unwrap_or(false);
        ListParams {
            limit,
            offset,
            q,
            archived,
            filters: p.rest(),
        }
    }
}

pub async fn list(
    entity: Entity,
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(p): ApiQuery<ListParams>,
) -> Result<Json<serde_json::Value>, AppError> {
    let mut errors = doorstep_domain::FieldErrors::new();
    let mut filters = Vec::new();
    for (k, v) in &p.filters {
        match (svc::filterable(entity, k), v.parse::<i64>()) {
            (None, _) => errors.add(k, "unknown_field"),
            (Some(_), Err(_)) => errors.add(k, "not_integer"),
            (Some(f), Ok(id)) => filters.push((f.to_string(), id)),
        }
    }
    errors.into_result(())?;
    let q = PlaceQuery {
        filters,
        q: p.q,
        include_archived: p.archived,
        mine: false,
        limit: p.limit,
        offset: p.offset,
    };
    let page = svc::list(&state.services, &user.actor, entity, &q).await?;
    Ok(Json(page_json(&page.items, page.total, p.limit, p.offset)))
}

pub async fn get(
    entity: Entity,
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<serde_json::Value>, AppError> {
    let r = svc::readable(&state.services, &user.actor, entity, id).await?;
    Ok(Json(json!(r)))
}

pub async fn create(
    entity: Entity,
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson,
) -> Result<Response, AppError> {
    let r = svc::create(&state.services, &user.caller(), entity, &body).await?;
    let mut res = (StatusCode::CREATED, Json(json!(r))).into_response();
    if let Ok(loc) = HeaderValue::from_str(&format!("/api/v1/{}/{}", entity.table(), r.id)) {
        res.headers_mut().insert(header::LOCATION, loc);
    }
    Ok(res)
}

pub async fn update(
    entity: Entity,
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson,
) -> Result<Json<serde_json::Value>, AppError> {
    let version = version_of(&body)?;
    let r = svc::update(&state.services, &user.caller(), entity, id, version, &body).await?;
    Ok(Json(json!(r)))
}

pub async fn archive(
    entity: Entity,
    archive: bool,
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson,
) -> Result<Json<serde_json::Value>, AppError> {
    let version = version_of(&body)?;
    let r = svc::archive(
        &state.services,
        &user.caller(),
        entity,
        id,
        version,
        archive,
    )
    .await?;
    Ok(Json(json!(r)))
}

/// `GET /api/v1/stats/places`: of one neighbourhood, or of the caller's scope.
pub struct StatsParams {
    neighbourhood_id: Option<NeighbourhoodId>,
}

impl FromParams for StatsParams {
    fn from_params(p: &mut Params) -> Self {
        StatsParams {
            neighbourhood_id: p.id("neighbourhood_id"),
        }
    }
}

pub async fn stats(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(p): ApiQuery<StatsParams>,
) -> Result<Json<serde_json::Value>, AppError> {
    let (totals, stations) = svc::stats(&state.services, &user.actor, p.neighbourhood_id).await?;
    Ok(Json(json!({ "totals": totals, "stations": stations })))
}
