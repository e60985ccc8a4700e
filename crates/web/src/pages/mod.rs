//! The staff web app's pages.

mod accounts;
mod catalogue;
mod circle;
mod figures;
mod places;
pub(crate) mod requests;
pub(crate) mod resident;

/// What the API shares with the circle page.
pub(crate) mod circle_api {
    pub(crate) use super::circle::{category_label, coverage_rows};
}

/// What the API shares with the pages: scope checks and validation.
pub(crate) mod places_api {
    pub(crate) use super::accounts::{account_values, patch_from, validate_account};
    pub(crate) use super::places::{check, child_place, merged, readable};
}

use crate::auth::{self, CurrentUser, LoginFailure, MaybeUser};
use crate::i18n::Lang;
use crate::render::page;
use crate::views::{self, FormField, Table};
use crate::{AppError, AppState};
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use doorstep_domain::{Entity, FieldErrors, Role, Scope};
use doorstep_store::{NewAccount, WriteCtx};
use minijinja::context;
use serde::Deserialize;
use std::collections::BTreeMap;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/setup", get(setup_form).post(setup))
        .route("/lang/{code}", get(switch_lang))
        .merge(accounts::routes())
        .merge(circle::routes())
        .merge(catalogue::routes())
        .merge(requests::routes())
        .merge(figures::routes())
        .merge(resident::routes())
        .merge(places::routes())
        .fallback(not_found)
}

async fn not_found() -> AppError {
    AppError::NotFound
}

/// A submitted web form as a JSON object (all values strings), for the shared validator.
/// A body that is not a form is a 400.
pub struct FormData(pub serde_json::Map<String, serde_json::Value>);

impl FormData {
    pub fn get(&self, k: &str) -> Option<&str> {
        self.0.get(k).and_then(|v| v.as_str())
    }
    /// What was typed, to show again after an error.
    pub fn raw(&self) -> BTreeMap<String, String> {
        self.0
            .iter()
            .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
            .collect()
    }
    pub fn version(&self) -> Result<Option<i64>, AppError> {
        match self.get("version").filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|_| AppError::BadRequest("version".into())),
        }
    }
}

impl<S: Send + Sync> FromRequest<S> for FormData {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let Form(pairs) = Form::<Vec<(String, String)>>::from_request(req, state)
            .await
            .map_err(|e| AppError::BadRequest(e.body_text()))?;
        let mut map = serde_json::Map::new();
        for (k, v) in pairs {
            map.insert(k, serde_json::Value::String(v));
        }
        Ok(FormData(map))
    }
}

/// A stat tile.
#[derive(serde::Serialize)]
pub(crate) struct Stat {
    value: String,
    label: String,
}

pub(crate) fn stat(state: &AppState, lang: Lang, key: &str, value: impl ToString) -> Stat {
    Stat {
        value: value.to_string(),
        label: state.i18n.t(lang, key),
    }
}

#[derive(serde::Serialize)]
pub(crate) struct Section {
    title: String,
    table: Table,
    more: Option<String>,
}

pub(crate) fn area_view(
    state: &AppState,
    lang: Lang,
    office: f64,
    service: f64,
    before: Option<f64>,
) -> serde_json::Value {
    let total = office + service;
    let pct = |x: f64| {
        if total > 0.0 {
            (x / total * 1000.0).round() / 10.0
        } else {
            0.0
        }
    };
    let change = before
        .filter(|b| *b > 0.0)
        .map(|b| format!("{:+.0}%", (office - b) / b * 100.0));
    serde_json::json!({
        "office": views::format_num(office),
        "service": views::format_num(service),
        "office_pct": pct(office),
        "service_pct": pct(service),
        "before": before.map(views::format_num),
        "change": change,
        "label": state.i18n.t_args(lang, "station.area_label", &[views::format_num(office), views::format_num(service)]),
    })
}

async fn home(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let Some(user) = user else {
        if state
            .setup_token
            .lock()
            .map(|t| t.is_some())
            .unwrap_or(false)
            && state.store.count_accounts().await? == 0
        {
            return Ok(Redirect::to("/setup").into_response());
        }
        let _ = headers;
        return Ok(Redirect::to("/login").into_response());
    };
    let lang = user.lang;
    let tr = |k: &str| state.i18n.t(lang, k);
    let actor = &user.actor;
    let (scope, scope_label) = match (actor.role, actor.neighbourhood_id) {
        (Role::Admin, _) | (_, None) => {
            let sd = state
                .store
                .get_place(Entity::Subdistrict, actor.subdistrict_id)
                .await?;
            (Scope::Subdistrict(actor.subdistrict_id), sd.title())
        }
        (_, Some(nb)) => {
            let n = state.store.get_place(Entity::Neighbourhood, nb).await?;
            (
                Scope::Neighbourhood {
                    subdistrict_id: actor.subdistrict_id,
                    neighbourhood_id: nb,
                },
                n.title(),
            )
        }
    };
    let totals = state.store.place_totals(scope).await?;
    let mut stats = Vec::new();
    if matches!(scope, Scope::Subdistrict(_)) {
        stats.push(stat(&state, lang, "stat.communities", totals.communities));
        stats.push(stat(
            &state,
            lang,
            "stat.neighbourhoods",
            totals.neighbourhoods,
        ));
    }
    stats.push(stat(&state, lang, "stat.estates", totals.estates));
    stats.push(stat(&state, lang, "stat.buildings", totals.buildings));
    stats.push(stat(&state, lang, "stat.households", totals.households));
    stats.push(stat(&state, lang, "stat.blocks", totals.blocks));
    stats.push(stat(&state, lang, "stat.stations", totals.stations));
    stats.push(stat(&state, lang, "stat.rooms", totals.rooms));
    let areas = (totals.office_m2 + totals.service_m2 > 0.0)
        .then(|| area_view(&state, lang, totals.office_m2, totals.service_m2, None));

    let mut sections = Vec::new();
    match actor.role {
        Role::Admin => {
            // Every neighbourhood with its station's office share: the upgrade's key figure.
            let q = doorstep_store::ListQuery::new(scope).all();
            let nbs = state.store.list_places(Entity::Neighbourhood, &q).await?;
            let stations = state.store.list_places(Entity::Station, &q).await?;
            let areas = state.store.room_areas(scope).await?;
            let refs = views::load_refs(&state.store, Entity::Neighbourhood, &nbs.items).await?;
            let mut table = views::records_table(
                &state.i18n,
                lang,
                Entity::Neighbourhood,
                &nbs.items,
                &refs,
                None,
            );
            table.headers.push(views::Header {
                label: tr("station.office_share"),
                num: true,
            });
            for (row, nb) in table.rows.iter_mut().zip(&nbs.items) {
                let share = stations
                    .items
                    .iter()
                    .find(|s| s.neighbourhood_id == Some(nb.id))
                    .and_then(|s| areas.iter().find(|a| a.station_id == s.id))
                    .filter(|a| a.office_m2 + a.service_m2 > 0.0)
                    .map(|a| format!("{:.0}%", a.office_m2 / (a.office_m2 + a.service_m2) * 100.0))
                    .unwrap_or_else(|| "—".into());
                row.cells.push(views::Cell {
                    text: share,
                    num: true,
                    ..Default::default()
                });
            }
            sections.push(Section {
                title: tr("home.neighbourhoods"),
                table,
                more: None,
            });
        }
        Role::Worker => {
            let q = doorstep_store::ListQuery::new(scope)
                .filter("worker_id", doorstep_domain::Value::Int(actor.account_id))
                .all();
            let blocks = state.store.list_places(Entity::Block, &q).await?;
            let refs = views::load_refs(&state.store, Entity::Block, &blocks.items).await?;
            let table =
                views::records_table(&state.i18n, lang, Entity::Block, &blocks.items, &refs, None);
            sections.push(Section {
                title: tr("home.my_blocks"),
                table,
                more: None,
            });
        }
        _ => {
            let q = doorstep_store::ListQuery::new(scope).all();
            let estates = state.store.list_places(Entity::Estate, &q).await?;
            let refs = views::load_refs(&state.store, Entity::Estate, &estates.items).await?;
            let table = views::records_table(
                &state.i18n,
                lang,
                Entity::Estate,
                &estates.items,
                &refs,
                Some("neighbourhood_id"),
            );
            sections.push(Section {
                title: tr("entity_plural.estate"),
                table,
                more: None,
            });
        }
    }
    let heading = state.i18n.t_args(
        lang,
        "home.welcome",
        std::slice::from_ref(&user.account.display_name),
    );
    let extra = context! { heading, scope_label, stats, areas, sections };
    Ok(page(
        &state,
        lang,
        Some(&user),
        "home.html",
        &tr("nav.home"),
        extra,
    )?
    .into_response())
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

/// Only local paths are followed after sign-in (no open redirect).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".to_string(),
    }
}

async fn login_form(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    headers: HeaderMap,
    Query(q): Query<NextQuery>,
) -> Result<Response, AppError> {
    if user.is_some() {
        return Ok(Redirect::to(&safe_next(q.next.as_deref())).into_response());
    }
    let lang = crate::i18n::negotiate(&headers, false);
    let extra = context! { next => safe_next(q.next.as_deref()), username => "" };
    Ok(page(
        &state,
        lang,
        None,
        "login.html",
        &state.i18n.t(lang, "login.title"),
        extra,
    )?
    .into_response())
}

async fn login(State(state): State<AppState>, req: Request) -> Result<Response, AppError> {
    let (parts, body) = req.into_parts();
    let lang = crate::i18n::negotiate(&parts.headers, false);
    let ip = auth::client_ip(&parts);
    let ua = parts
        .headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let old = auth::cookie(&parts.headers, auth::SESSION_COOKIE);
    let form = FormData::from_request(Request::from_parts(parts, body), &state).await?;
    let username = form.get("username").unwrap_or("").trim().to_string();
    let password = form.get("password").unwrap_or("").to_string();
    let next = safe_next(form.get("next"));
    let again = |error_key: &str, status: StatusCode| -> Result<Response, AppError> {
        let extra = context! { next => next.clone(), username => username.clone(), error => state.i18n.t(lang, error_key) };
        let html = page(
            &state,
            lang,
            None,
            "login.html",
            &state.i18n.t(lang, "login.title"),
            extra,
        )?;
        Ok((status, html).into_response())
    };
    if !state
        .throttle
        .allow(ip, state.config.ip_attempts, state.config.ip_window)
    {
        return again("login.throttled", StatusCode::TOO_MANY_REQUESTS);
    }
    if username.is_empty() || password.is_empty() {
        return again("login.missing", StatusCode::UNPROCESSABLE_ENTITY);
    }
    match auth::authenticate(&state, &username, &password, ip).await? {
        Ok(account) => {
            let cookie = auth::start_session(&state, &account, ip, ua, old).await?;
            let mut res = Redirect::to(&next).into_response();
            res.headers_mut().insert(
                header::SET_COOKIE,
                HeaderValue::from_str(&cookie).map_err(|_| AppError::Internal)?,
            );
            Ok(res)
        }
        Err(LoginFailure::BadCredentials) => again("login.bad_credentials", StatusCode::OK),
        Err(LoginFailure::Locked) => again("login.locked", StatusCode::TOO_MANY_REQUESTS),
    }
}

async fn logout(
    State(state): State<AppState>,
    user: CurrentUser,
    form: FormData,
) -> Result<Response, AppError> {
    user.check_csrf(form.get("_csrf"))?;
    if let Some(hash) = &user.session_hash {
        state.store.delete_session(hash).await?;
    }
    state
        .store
        .record_audit(
            &user.ctx(&state),
            doorstep_store::AuditEntry::event("logout", serde_json::Value::Null),
        )
        .await?;
    let mut res = Redirect::to("/login").into_response();
    let cookie = auth::session_cookie(&state, "", true);
    res.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(|_| AppError::Internal)?,
    );
    Ok(res)
}

async fn switch_lang(
    State(_state): State<AppState>,
    Path(code): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let lang = Lang::parse(&code).ok_or(AppError::NotFound)?;
    // Back to the page the switch was pressed on (same origin only).
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let back = headers
        .get(header::REFERER)
        .and_then(|r| r.to_str().ok())
        .and_then(|r| url::Url::parse(r).ok())
        .filter(|u| {
            u.host_str().map(|h| {
                format!(
                    "{h}{}",
                    u.port().map(|p| format!(":{p}")).unwrap_or_default()
                )
            }) == Some(host.to_string())
        })
        .map(|u| match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_string(),
        })
        .unwrap_or_else(|| "/".into());
    let mut res = Redirect::to(&safe_next(Some(&back))).into_response();
    let cookie = format!(
        "lang={}; Path=/; Max-Age=31536000; SameSite=Lax",
        lang.code()
    );
    res.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(|_| AppError::Internal)?,
    );
    Ok(res)
}

fn setup_fields(
    state: &AppState,
    lang: Lang,
    raw: &BTreeMap<String, String>,
    errors: &FieldErrors,
) -> Vec<FormField> {
    use doorstep_domain::FieldSpec;
    const SPECS: &[FieldSpec] = &[
        FieldSpec::text("token", 100).required(),
        FieldSpec::text("subdistrict_name", 50).required(),
        FieldSpec::text("subdistrict_code", 20),
        FieldSpec::text("username", 40).required(),
        FieldSpec::text("display_name", 40).required(),
        FieldSpec::text("password", 128).required(),
    ];
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

#[derive(Deserialize)]
struct SetupQuery {
    token: Option<String>,
}

fn setup_open(state: &AppState) -> Option<String> {
    state.setup_token.lock().ok().and_then(|t| t.clone())
}

async fn setup_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<SetupQuery>,
) -> Result<Html<String>, AppError> {
    if setup_open(&state).is_none() || state.store.count_accounts().await? > 0 {
        return Err(AppError::NotFound);
    }
    let lang = crate::i18n::negotiate(&headers, false);
    let mut raw = BTreeMap::new();
    raw.insert("token".to_string(), q.token.unwrap_or_default());
    raw.insert(
        "subdistrict_name".to_string(),
        state.i18n.t(lang, "setup.default_subdistrict"),
    );
    let fields = setup_fields(&state, lang, &raw, &FieldErrors::new());
    page(
        &state,
        lang,
        None,
        "setup.html",
        &state.i18n.t(lang, "setup.title"),
        context! { fields },
    )
}

async fn setup(State(state): State<AppState>, req: Request) -> Result<Response, AppError> {
    let (parts, body) = req.into_parts();
    let lang = crate::i18n::negotiate(&parts.headers, false);
    let ip = auth::client_ip(&parts);
    let ua = parts
        .headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let form = FormData::from_request(Request::from_parts(parts, body), &state).await?;
    let Some(expected) = setup_open(&state) else {
        return Err(AppError::NotFound);
    };
    if !state
        .throttle
        .allow(ip, state.config.ip_attempts, state.config.ip_window)
    {
        return Err(AppError::TooManyRequests);
    }
    let mut errors = FieldErrors::new();
    let get = |k: &str| form.get(k).unwrap_or("").trim().to_string();
    if get("token") != expected {
        errors.add("token", "invalid_token");
    }
    let username = get("username").to_lowercase();
    if !doorstep_domain::accounts::valid_username(&username) {
        errors.add("username", "invalid_username");
    }
    for k in ["subdistrict_name", "display_name"] {
        if get(k).is_empty() {
            errors.add(k, "required");
        }
    }
    let password = form.get("password").unwrap_or("").to_string();
    if let Some(code) = doorstep_domain::accounts::check_password(&password, &username) {
        errors.add("password", code);
    }
    if !errors.is_empty() {
        let fields = setup_fields(&state, lang, &form.raw(), &errors);
        let html = page(
            &state,
            lang,
            None,
            "setup.html",
            &state.i18n.t(lang, "setup.title"),
            context! { fields },
        )?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response());
    }
    let admin = NewAccount {
        username: username.clone(),
        display_name: get("display_name"),
        role: Role::Admin,
        neighbourhood_id: None,
        partner_unit: None,
        phone: None,
        locale: lang.code().to_string(),
        password_hash: Some(auth::hash_password(password).await?),
    };
    let code = get("subdistrict_code");
    let ctx = WriteCtx {
        actor_id: None,
        actor_name: username,
        subdistrict_id: None,
        ip: ip.map(|i| i.to_string()),
        at: state.clock.now(),
        demo: false,
    };
    let account = state
        .store
        .setup_first_admin(
            &get("subdistrict_name"),
            (!code.is_empty()).then_some(code.as_str()),
            &admin,
            &ctx,
        )
        .await?;
    if let Ok(mut t) = state.setup_token.lock() {
        *t = None;
    }
    let cookie = auth::start_session(&state, &account, ip, ua, None).await?;
    let mut res = Redirect::to("/").into_response();
    res.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(|_| AppError::Internal)?,
    );
    Ok(res)
}
