//! Accounts in the API: list, read, create, change, set a password; and `me`.

use super::{ApiJson, page_json, version_of};
use crate::params::{ApiQuery, FromParams, Params};
use crate::session::CurrentUser;
use crate::{AppError, AppState};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use doorstep_domain::{AccountId, NeighbourhoodId, Role};
use doorstep_services::accounts::{self as svc, AccountQuery};
use doorstep_services::records::Account;
use serde_json::json;

/// `GET /api/v1/accounts`.
pub struct ListParams {
    q: AccountQuery,
}

impl FromParams for ListParams {
    fn from_params(p: &mut Params) -> Self {
        let (limit, offset) = p.paging();
        ListParams {
            q: AccountQuery {
                neighbourhood_id: p.id::<NeighbourhoodId>("neighbourhood_id"),
                role: p.code::<Role>("role"),
                q: p.text("q"),
                limit,
                offset,
            },
        }
    }
}

pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(p): ApiQuery<ListParams>,
) -> Result<Json<serde_json::Value>, AppError> {
    let page = svc::list(&state.services, &user.caller(), &p.q).await?;
    Ok(Json(page_json(
        &page.items,
        page.total,
        p.q.limit,
        p.q.offset,
    )))
}

pub async fn get(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<AccountId>,
) -> Result<Json<Account>, AppError> {
    Ok(Json(svc::get(&state.services, &user.caller(), id).await?))
}

pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(mut body): ApiJson,
) -> Result<Response, AppError> {
    let password = match body.remove("password") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(s),
        Some(_) => return Err(AppError::validation("password", "invalid")),
    };
    let a = svc::create(&state.services, &user.caller(), &body, password.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(a)).into_response())
}

pub async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<AccountId>,
    ApiJson(body): ApiJson,
) -> Result<Json<Account>, AppError> {
    let version = version_of(&body)?;
    Ok(Json(
        svc::update(&state.services, &user.caller(), id, version, &body).await?,
    ))
}

pub async fn set_password(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<AccountId>,
    ApiJson(body): ApiJson,
) -> Result<StatusCode, AppError> {
    let pw = body
        .get("password")
        .and_then(|v| v.as_str())
        .ok_or_else(|| AppError::validation("password", "required"))?;
    svc::set_password(&state.services, &user.caller(), id, pw).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn me(user: CurrentUser) -> Json<serde_json::Value> {
    Json(json!({ "account": user.account, "lang": user.lang.code() }))
}
