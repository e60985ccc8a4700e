//! Accounts: admins manage them; secretaries see their neighbourhood's.

use super::{Saved, password_fields};
use crate::forms::FormData;
use crate::i18n::Lang;
use crate::params::{FromParams, PageQuery, Params};
use crate::render::page;
use crate::session::CurrentUser;
use crate::views::{self, Cell, Header, Row, SelectOption, Table};
use crate::{AppError, AppState};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use doorstep_domain::accounts::ACCOUNT_FIELDS;
use doorstep_domain::{AccountId, Entity, FieldErrors, Role, Scope};
use doorstep_services::accounts::{self as svc, AccountQuery};
use doorstep_services::places;
use doorstep_services::records::Account;
use minijinja::context;
use std::collections::{BTreeMap, HashMap};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/accounts", get(index).post(create))
        .route("/accounts/new", get(new_form))
        .route("/accounts/{id}", get(show).post(update))
        .route("/accounts/{id}/edit", get(edit_form))
        .route("/accounts/{id}/password", post(set_password))
}

fn badges(state: &AppState, lang: Lang, a: &Account) -> Vec<views::Badge> {
    let tr = |k: &str| state.i18n.t(lang, k);
    let mut badges = Vec::new();
    if a.is_demo {
        badges.push(views::Badge {
            label: tr("demo.badge"),
            class: "demo",
        });
    }
    if a.disabled {
        badges.push(views::Badge {
            label: tr("account.disabled"),
            class: "off",
        });
    }
    badges
}

fn account_table(
    state: &AppState,
    lang: Lang,
    accounts: &[Account],
    nbs: &HashMap<i64, String>,
) -> Table {
    let tr = |k: &str| state.i18n.t(lang, k);
    let headers = [
        "field.display_name",
        "field.username",
        "field.role",
        "field.neighbourhood_id",
        "field.last_login_at",
    ]
    .iter()
    .map(|k| Header {
        label: tr(k),
        num: false,
    })
    .collect();
    let cell = |text: String| Cell {
        text,
        ..Default::default()
    };
    let rows = accounts
        .iter()
        .map(|a| {
            let mut badges = badges(state, lang, a);
            if !a.has_password {
                badges.push(views::Badge {
                    label: tr("account.no_password"),
                    class: "off",
                });
            }
            let nb = a.neighbourhood_id;
            Row {
                archived: false,
                cells: vec![
                    Cell {
                        text: a.display_name.clone(),
                        href: Some(format!("/accounts/{}", a.id)),
                        badges,
                        ..Default::default()
                    },
                    cell(a.username.clone()),
                    cell(tr(&format!("choice.role.{}", a.role))),
                    Cell {
                        text: nb
                            .and_then(|n| nbs.get(&n.get()).cloned())
                            .unwrap_or_else(|| "—".into()),
                        href: nb.map(|n| format!("/neighbourhoods/{n}")),
                        ..Default::default()
                    },
                    cell(
                        a.last_login_at
                            .map(views::local_time)
                            .unwrap_or_else(|| "—".into()),
                    ),
                ],
            }
        })
        .collect();
    Table { headers, rows }
}

struct ListParams {
    q: Option<String>,
    role: Option<Role>,
    page: Option<i64>,
}

impl FromParams for ListParams {
    fn from_params(p: &mut Params) -> Self {
        ListParams {
            q: p.text("q"),
            role: p.code("role"),
            page: p.int("page"),
        }
    }
}

async fn index(
    State(state): State<AppState>,
    user: CurrentUser,
    PageQuery(p): PageQuery<ListParams>,
) -> Result<Response, AppError> {
    let lang = user.lang;
    let sv = &state.services;
    let (limit, offset) = views::paging(p.page, None);
    let q = AccountQuery {
        neighbourhood_id: None,
        role: p.role,
        q: p.q.clone(),
        limit,
        offset,
    };
    let accounts = svc::list(sv, &user.caller(), &q).await?;
    let ids: Vec<i64> = accounts
        .items
        .iter()
        .filter_map(|a| a.neighbourhood_id.map(|n| n.get()))
        .collect();
    let titles = places::titles(sv, Entity::Neighbourhood, &ids).await?;
    let table = account_table(&state, lang, &accounts.items, &titles);
    let mut base = Vec::new();
    if let Some(q) = &p.q {
        base.push(format!("q={}", views::url_encode(q)));
    }
    if let Some(r) = p.role {
        base.push(format!("role={r}"));
    }
    let pager = views::Pager::new(
        accounts.total,
        limit,
        offset,
        accounts.items.len(),
        "/accounts",
        &base.join("&"),
    );
    let roles = views::choice_options(&state.i18n, lang, Role::CODES, "choice.role.");
    let title = state.i18n.t(lang, "nav.accounts");
    let extra = context! {
        title => title.clone(), table, pager, roles,
        q => p.q.unwrap_or_default(),
        role => p.role.map(|r| r.code()).unwrap_or(""),
        create_href => user.actor.may_manage_accounts().then_some("/accounts/new"),
    };
    Ok(page(
        &state,
        lang,
        Some(&user),
        "accounts/index.html",
        &title,
        extra,
    )?
    .into_response())
}

/// The form of a new account (none given) or of an account being edited.
async fn account_form(
    state: &AppState,
    user: &CurrentUser,
    account: Option<&Account>,
    raw: &BTreeMap<String, String>,
    errors: &FieldErrors,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let lang = user.lang;
    let sd = Scope::Subdistrict(user.actor.subdistrict_id);
    let nbs = places::all_in(&state.services, Entity::Neighbourhood, sd).await?;
    let mut options = views::RefOptions::new();
    options.insert(
        "neighbourhood_id",
        nbs.iter()
            .map(|n| SelectOption {
                value: n.id.to_string(),
                label: n.title(),
            })
            .collect(),
    );
    let mut fields = views::form_fields(
        &state.i18n,
        lang,
        ACCOUNT_FIELDS,
        raw,
        errors,
        &options,
        account.is_some(),
    );
    if account.is_none() {
        fields.extend(password_fields(state, lang, errors, "password"));
    }
    let noun = state.i18n.t(lang, "entity.account");
    let title = match account {
        Some(a) => state
            .i18n
            .t_args(lang, "action.edit_title", &[noun, a.display_name.clone()]),
        None => state.i18n.t_args(lang, "action.create", &[noun]),
    };
    let action = account
        .map(|a| format!("/accounts/{}", a.id))
        .unwrap_or_else(|| "/accounts".into());
    let extra = context! {
        title => title.clone(), fields, error, cancel => action.clone(), action,
        version => account.map(|a| a.version),
        submit => state.i18n.t(lang, "action.save"),
    };
    Ok((
        status,
        page(state, lang, Some(user), "form.html", &title, extra)?,
    )
        .into_response())
}

async fn new_form(State(state): State<AppState>, user: CurrentUser) -> Result<Response, AppError> {
    if !user.actor.may_manage_accounts() {
        return Err(AppError::Forbidden);
    }
    let mut raw = BTreeMap::new();
    raw.insert("role".into(), "worker".into());
    raw.insert("locale".into(), "zh-CN".into());
    account_form(
        &state,
        &user,
        None,
        &raw,
        &FieldErrors::new(),
        None,
        StatusCode::OK,
    )
    .await
}

async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    form: FormData,
) -> Result<Response, AppError> {
    user.check_csrf(form.get("_csrf"))?;
    let mut input = form.input();
    input.remove("password");
    input.entry("disabled").or_insert_with(|| "false".into());
    let password = form.get("password").unwrap_or("");
    match svc::create(&state.services, &user.caller(), &input, Some(password)).await {
        Ok(a) => Ok(Redirect::to(&format!("/accounts/{}?saved=1", a.id)).into_response()),
        Err(e) => {
            let (errors, status) = match AppError::from(e) {
                AppError::Validation(fe) => (fe, StatusCode::UNPROCESSABLE_ENTITY),
                AppError::Conflict {
                    code: "duplicate", ..
                } => (
                    FieldErrors::single("username", "duplicate"),
                    StatusCode::CONFLICT,
                ),
                other => return Err(other),
            };
            account_form(&state, &user, None, &form.raw(), &errors, None, status).await
        }
    }
}

async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<AccountId>,
    PageQuery(Saved(saved)): PageQuery<Saved>,
) -> Result<Response, AppError> {
    let a = svc::get(&state.services, &user.caller(), id).await?;
    let notice = saved.then(|| state.i18n.t(user.lang, "action.saved"));
    render_account(
        &state,
        &user,
        &a,
        notice,
        None,
        &FieldErrors::new(),
        StatusCode::OK,
    )
    .await
}

async fn render_account(
    state: &AppState,
    user: &CurrentUser,
    a: &Account,
    notice: Option<String>,
    error: Option<String>,
    errors: &FieldErrors,
    status: StatusCode,
) -> Result<Response, AppError> {
    let lang = user.lang;
    let tr = |k: &str| state.i18n.t(lang, k);
    let nb = match a.neighbourhood_id {
        Some(n) => places::titles(&state.services, Entity::Neighbourhood, &[n.get()])
            .await?
            .remove(&n.get()),
        None => None,
    };
    let none = || "—".to_string();
    let fields = vec![
        serde_json::json!({"label": tr("field.username"), "value": a.username}),
        serde_json::json!({"label": tr("field.role"), "value": tr(&format!("choice.role.{}", a.role))}),
        serde_json::json!({"label": tr("field.neighbourhood_id"), "value": nb.unwrap_or_else(none), "href": a.neighbourhood_id.map(|n| format!("/neighbourhoods/{n}"))}),
        serde_json::json!({"label": tr("field.partner_unit"), "value": a.partner_unit.clone().unwrap_or_else(none)}),
        serde_json::json!({"label": tr("field.phone"), "value": a.phone.as_deref().map(doorstep_domain::mask::mask_phone).unwrap_or_else(none)}),
        serde_json::json!({"label": tr("field.locale"), "value": tr(&format!("choice.locale.{}", a.locale))}),
        serde_json::json!({"label": tr("field.last_login_at"), "value": a.last_login_at.map(views::local_time).unwrap_or_else(none)}),
        serde_json::json!({"label": tr("field.created_at"), "value": views::local_time(a.created_at)}),
    ];
    let manage = user.actor.may_manage_accounts() && a.subdistrict_id == user.actor.subdistrict_id;
    let extra = context! {
        title => a.display_name.clone(), fields, badges => badges(state, lang, a), notice, error,
        edit_href => manage.then(|| format!("/accounts/{}/edit", a.id)),
        password_form => (manage && a.id != user.account.id).then(|| format!("/accounts/{}/password", a.id)),
        password_fields => password_fields(state, lang, errors, "password"),
    };
    let html = page(
        state,
        lang,
        Some(user),
        "accounts/show.html",
        &a.display_name,
        extra,
    )?;
    Ok((status, html).into_response())
}

async fn edit_form(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<AccountId>,
) -> Result<Response, AppError> {
    let a = svc::get(&state.services, &user.caller(), id).await?;
    if !user.actor.may_manage_accounts() {
        return Err(AppError::Forbidden);
    }
    let raw = views::raw_values(&svc::values(&a));
    account_form(
        &state,
        &user,
        Some(&a),
        &raw,
        &FieldErrors::new(),
        None,
        StatusCode::OK,
    )
    .await
}

async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<AccountId>,
    form: FormData,
) -> Result<Response, AppError> {
    user.check_csrf(form.get("_csrf"))?;
    let sv = &state.services;
    let mut input = form.input();
    input.remove("version");
    input.entry("disabled").or_insert_with(|| "false".into());
    if id == user.actor.account_id {
        // No admin locks themselves out by accident: their own role and status stay.
        input.remove("role");
        input.remove("disabled");
    }
    let version = form.version()?;
    let e = match svc::update(sv, &user.caller(), id, version, &input).await {
        Ok(a) => return Ok(Redirect::to(&format!("/accounts/{}?saved=1", a.id)).into_response()),
        Err(e) => AppError::from(e),
    };
    let latest = svc::get(sv, &user.caller(), id).await?;
    match e {
        AppError::Validation(fe) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            account_form(&state, &user, Some(&latest), &form.raw(), &fe, None, status).await
        }
        AppError::Conflict {
            code: "version_conflict",
            ..
        } => {
            let msg = state.i18n.t(user.lang, "error.version_conflict");
            let none = FieldErrors::new();
            let status = StatusCode::CONFLICT;
            account_form(
                &state,
                &user,
                Some(&latest),
                &form.raw(),
                &none,
                Some(msg),
                status,
            )
            .await
        }
        other => Err(other),
    }
}

async fn set_password(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<AccountId>,
    form: FormData,
) -> Result<Response, AppError> {
    user.check_csrf(form.get("_csrf"))?;
    let sv = &state.services;
    let password = form.get("password").unwrap_or("");
    match svc::set_password(sv, &user.caller(), id, password).await {
        Ok(()) => Ok(Redirect::to(&format!("/accounts/{id}?saved=1")).into_response()),
        Err(doorstep_services::Error::Validation(fe)) => {
            let a = svc::get(sv, &user.caller(), id).await?;
            let msg = state.i18n.t(user.lang, "error.validation_failed");
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            render_account(&state, &user, &a, None, Some(msg), &fe, status).await
        }
        Err(e) => Err(e.into()),
    }
}
