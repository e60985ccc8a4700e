//! The one-time setup of an empty database: the subdistrict and its first admin, behind
//! the token the server printed at start.

use crate::forms::FormData;
use crate::i18n::{Lang, negotiate};
use crate::params::{FromParams, PageQuery, Params};
use crate::render::page;
use crate::session;
use crate::views::{self, FormField};
use crate::{AppError, AppState};
use axum::Router;
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use doorstep_domain::{FieldErrors, FieldSpec};
use doorstep_services::signin::{self, Setup};
use minijinja::context;
use std::collections::BTreeMap;

pub fn routes() -> Router<AppState> {
    Router::new().route("/setup", get(setup_form).post(setup))
}

const SPECS: &[FieldSpec] = &[
    FieldSpec::text("token", 100).required(),
    FieldSpec::text("subdistrict_name", 50).required(),
    FieldSpec::text("subdistrict_code", 20),
    FieldSpec::text("username", 40).required(),
    FieldSpec::text("display_name", 40).required(),
    FieldSpec::text("password", 128).required(),
];

fn fields(
    state: &AppState,
    lang: Lang,
    raw: &BTreeMap<String, String>,
    errors: &FieldErrors,
) -> Vec<FormField> {
    let mut fields = views::form_fields(
        &state.i18n,
        lang,
        SPECS,
        raw,
        errors,
        &Default::default(),
        false,
    );
    for f in &mut fields {
        if f.name == "password" {
            f.kind = "password";
            f.value.clear();
            f.autocomplete = Some("new-password");
        }
    }
    fields
}

fn render(state: &AppState, lang: Lang, fields: Vec<FormField>) -> Result<Html<String>, AppError> {
    let title = state.i18n.t(lang, "setup.title");
    page(state, lang, None, "setup.html", &title, context! { fields })
}

struct Token(Option<String>);

impl FromParams for Token {
    fn from_params(p: &mut Params) -> Self {
        Token(p.text("token"))
    }
}

async fn setup_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    PageQuery(Token(token)): PageQuery<Token>,
) -> Result<Html<String>, AppError> {
    if state.setup_token().is_none() || !signin::needs_setup(&state.services).await? {
        return Err(AppError::NotFound);
    }
    let lang = negotiate(&headers, false);
    let mut raw = BTreeMap::new();
    raw.insert("token".to_string(), token.unwrap_or_default());
    raw.insert(
        "subdistrict_name".to_string(),
        state.i18n.t(lang, "setup.default_subdistrict"),
    );
    render(
        &state,
        lang,
        fields(&state, lang, &raw, &FieldErrors::new()),
    )
}

async fn setup(State(state): State<AppState>, req: Request) -> Result<Response, AppError> {
    let (parts, body) = req.into_parts();
    let lang = negotiate(&parts.headers, false);
    let ip = session::client_ip(&parts);
    let ua = session::user_agent(&parts);
    let form = FormData::from_request(Request::from_parts(parts, body), &state).await?;
    let Some(expected) = state.setup_token() else {
        return Err(AppError::NotFound);
    };
    let sv = &state.services;
    let limit = (state.config.ip_attempts, state.config.ip_window);
    state.throttle.take(sv, ip, limit.0, limit.1).await?;
    let get = |k: &str| form.get(k).unwrap_or("").trim().to_string();
    let s = Setup {
        subdistrict_name: get("subdistrict_name"),
        subdistrict_code: get("subdistrict_code"),
        username: get("username"),
        display_name: get("display_name"),
        password: form.get("password").unwrap_or("").to_string(),
        locale: lang.code().to_string(),
    };
    let token_ok = get("token") == expected;
    let result = if token_ok {
        signin::setup(sv, &s, ip).await
    } else {
        Err(doorstep_services::Error::validation(
            "token",
            "invalid_token",
        ))
    };
    let account = match result {
        Ok(a) => a,
        Err(doorstep_services::Error::Validation(mut errors)) => {
            if !token_ok {
                // Every field's errors at once, the token's among them.
                if let Err(doorstep_services::Error::Validation(more)) = signin::check_setup(&s) {
                    errors.0.extend(more.0);
                }
            }
            let html = render(&state, lang, fields(&state, lang, &form.raw(), &errors))?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response());
        }
        Err(e) => return Err(e.into()),
    };
    state.close_setup();
    let secret = signin::start_session(sv, &account, ip, ua.as_deref(), None).await?;
    let mut res = Redirect::to("/").into_response();
    let cookie = session::session_cookie(&state, &secret, false);
    res.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(|_| AppError::Internal)?,
    );
    Ok(res)
}
