//! The signed-in user's own page: who they are, their password, their API tokens.

use super::{Saved, password_fields};
use crate::forms::FormData;
use crate::params::PageQuery;
use crate::render::page;
use crate::session::CurrentUser;
use crate::views;
use crate::{AppError, AppState};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use doorstep_domain::{FieldErrors, FieldSpec, TokenId};
use doorstep_services::accounts::{self as svc, TOKEN_NAME_MAX};
use minijinja::context;
use std::collections::BTreeMap;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/me", get(me))
        .route("/me/password", post(change_own_password))
        .route("/me/tokens", post(create_token))
        .route("/me/tokens/{id}/revoke", post(revoke_token))
}

/// What the page shows besides the account: a notice, an error, a token just made.
#[derive(Default)]
struct Outcome {
    notice: Option<String>,
    error: Option<String>,
    errors: FieldErrors,
    new_token: Option<String>,
}

async fn render_me(
    state: &AppState,
    user: &CurrentUser,
    o: Outcome,
    status: StatusCode,
) -> Result<Response, AppError> {
    let lang = user.lang;
    let tr = |k: &str| state.i18n.t(lang, k);
    let a = &user.account;
    let fields = vec![
        serde_json::json!({"label": tr("field.display_name"), "value": a.display_name}),
        serde_json::json!({"label": tr("field.username"), "value": a.username}),
        serde_json::json!({"label": tr("field.role"), "value": tr(&format!("choice.role.{}", a.role))}),
    ];
    let mut password_fields = password_fields(state, lang, &o.errors, "current_password");
    password_fields.extend(super::password_fields(
        state,
        lang,
        &o.errors,
        "new_password",
    ));
    let token_spec = [FieldSpec::text("token_name", TOKEN_NAME_MAX).required()];
    let token_fields = views::form_fields(
        &state.i18n,
        lang,
        &token_spec,
        &BTreeMap::new(),
        &o.errors,
        &Default::default(),
        false,
    );
    let tokens: Vec<serde_json::Value> = svc::tokens(&state.services, &user.caller())
        .await?
        .into_iter()
        .map(|t| {
            serde_json::json!({
                "id": t.id, "name": t.name, "created": views::local_time(t.created_at),
                "used": t.last_used_at.map(views::local_time).unwrap_or_else(|| "—".into()),
                "revoked": t.revoked_at.is_some(),
            })
        })
        .collect();
    let title = tr("nav.me");
    let extra = context! {
        title => title.clone(), fields, password_fields, token_fields, tokens,
        notice => o.notice, error => o.error, new_token => o.new_token,
    };
    Ok((
        status,
        page(state, lang, Some(user), "me.html", &title, extra)?,
    )
        .into_response())
}

async fn me(
    State(state): State<AppState>,
    user: CurrentUser,
    PageQuery(Saved(saved)): PageQuery<Saved>,
) -> Result<Response, AppError> {
    let o = Outcome {
        notice: saved.then(|| state.i18n.t(user.lang, "action.saved")),
        ..Default::default()
    };
    render_me(&state, &user, o, StatusCode::OK).await
}

/// The page again, with the errors of a form that was refused.
async fn refused(
    state: &AppState,
    user: &CurrentUser,
    e: doorstep_services::Error,
) -> Result<Response, AppError> {
    match e {
        doorstep_services::Error::Validation(errors) => {
            let o = Outcome {
                error: Some(state.i18n.t(user.lang, "error.validation_failed")),
                errors,
                ..Default::default()
            };
            render_me(state, user, o, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        other => Err(other.into()),
    }
}

async fn change_own_password(
    State(state): State<AppState>,
    user: CurrentUser,
    form: FormData,
) -> Result<Response, AppError> {
    user.check_csrf(form.get("_csrf"))?;
    let current = form.get("current_password").unwrap_or("");
    let new = form.get("new_password").unwrap_or("");
    match svc::change_own_password(&state.services, &user.caller(), current, new).await {
        // Every session ends, this one too: sign in again with the new password.
        Ok(()) => Ok(Redirect::to("/login").into_response()),
        Err(e) => refused(&state, &user, e).await,
    }
}

async fn create_token(
    State(state): State<AppState>,
    user: CurrentUser,
    form: FormData,
) -> Result<Response, AppError> {
    user.check_csrf(form.get("_csrf"))?;
    let name = form.get("token_name").unwrap_or("");
    match svc::mint_own_token(&state.services, &user.caller(), name).await {
        Ok(secret) => {
            let o = Outcome {
                new_token: Some(secret),
                ..Default::default()
            };
            render_me(&state, &user, o, StatusCode::OK).await
        }
        Err(e) => refused(&state, &user, e).await,
    }
}

async fn revoke_token(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<TokenId>,
    form: FormData,
) -> Result<Response, AppError> {
    user.check_csrf(form.get("_csrf"))?;
    svc::revoke_token(&state.services, &user.caller(), id).await?;
    Ok(Redirect::to("/me?saved=1").into_response())
}
