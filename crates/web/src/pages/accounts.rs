//! Accounts (admins manage them), the signed-in user's own page, and the audit log.

use super::FormData;
use crate::auth::{self, CurrentUser};
use crate::i18n::Lang;
use crate::render::page;
use crate::views::{self, Cell, FormField, Header, Row, SelectOption, Table};
use crate::{AppError, AppState};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{NaiveDate, TimeZone};
use doorstep_domain::accounts::{ACCOUNT_FIELDS, check_account, check_password};
use doorstep_domain::{Entity, FieldErrors, FieldSpec, Role, Value, Values};
use doorstep_store::{Account, AccountPatch, AuditFilter, NewAccount};
use minijinja::context;
use std::collections::BTreeMap;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/accounts", get(index).post(create))
        .route("/accounts/new", get(new_form))
        .route("/accounts/{id}", get(show).post(update))
        .route("/accounts/{id}/edit", get(edit_form))
        .route("/accounts/{id}/password", post(set_password))
        .route("/me", get(me))
        .route("/me/password", post(change_own_password))
        .route("/me/tokens", post(create_token))
        .route("/me/tokens/{id}/revoke", post(revoke_token))
        .route("/audit", get(audit))
}

pub(crate) fn account_values(a: &Account) -> Values {
    let mut v = Values::new();
    v.insert("username", Value::Text(a.username.clone()));
    v.insert("display_name", Value::Text(a.display_name.clone()));
    v.insert("role", Value::Text(a.role.as_str().into()));
    v.insert(
        "neighbourhood_id",
        a.neighbourhood_id.map(Value::Int).unwrap_or(Value::Null),
    );
    v.insert(
        "partner_unit",
        a.partner_unit
            .clone()
            .map(Value::Text)
            .unwrap_or(Value::Null),
    );
    v.insert(
        "phone",
        a.phone.clone().map(Value::Text).unwrap_or(Value::Null),
    );
    v.insert("locale", Value::Text(a.locale.clone()));
    v.insert("disabled", Value::Bool(a.disabled));
    v
}

/// Validated account values → the store's types.
pub(crate) fn patch_from(v: &Values) -> AccountPatch {
    let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    AccountPatch {
        display_name: text("display_name").unwrap_or_default(),
        role: text("role")
            .as_deref()
            .and_then(Role::parse)
            .unwrap_or(Role::Volunteer),
        neighbourhood_id: v.get("neighbourhood_id").and_then(Value::as_i64),
        partner_unit: text("partner_unit"),
        phone: text("phone"),
        locale: text("locale").unwrap_or_else(|| "zh-CN".into()),
        disabled: v.get("disabled").is_some_and(Value::as_bool),
    }
}

/// Validates account input (new, or merged over `current`).
pub(crate) fn validate_account(
    input: &serde_json::Map<String, serde_json::Value>,
    current: Option<&Values>,
) -> Result<Values, FieldErrors> {
    let v = doorstep_domain::validate(ACCOUNT_FIELDS, input, current, &["password", "version"])?;
    check_account(&v)?;
    Ok(v)
}

fn account_table(
    state: &AppState,
    lang: Lang,
    accounts: &[Account],
    nb_titles: &std::collections::HashMap<i64, String>,
) -> Table {
    let tr = |k: &str| state.i18n.t(lang, k);
    Table {
        headers: [
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
        .collect(),
        rows: accounts
            .iter()
            .map(|a| {
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
                if !a.has_password {
                    badges.push(views::Badge {
                        label: tr("account.no_password"),
                        class: "off",
                    });
                }
                Row {
                    archived: false,
                    cells: vec![
                        Cell {
                            text: a.display_name.clone(),
                            href: Some(format!("/accounts/{}", a.id)),
                            badges,
                            ..Default::default()
                        },
                        Cell {
                            text: a.username.clone(),
                            ..Default::default()
                        },
                        Cell {
                            text: tr(&format!("choice.role.{}", a.role.as_str())),
                            ..Default::default()
                        },
                        Cell {
                            text: a
                                .neighbourhood_id
                                .and_then(|n| nb_titles.get(&n).cloned())
                                .unwrap_or_else(|| "—".into()),
                            href: a.neighbourhood_id.map(|n| format!("/neighbourhoods/{n}")),
                            ..Default::default()
                        },
                        Cell {
                            text: a
                                .last_login_at
                                .map(views::local_time)
                                .unwrap_or_else(|| "—".into()),
                            ..Default::default()
                        },
                    ],
                }
            })
            .collect(),
    }
}

#[derive(serde::Deserialize)]
struct AccountQuery {
    q: Option<String>,
    role: Option<String>,
    page: Option<i64>,
}

async fn index(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<AccountQuery>,
) -> Result<Response, AppError> {
    let lang = user.lang;
    let nb = match user.actor.role {
        Role::Admin => None,
        Role::Secretary => user.actor.neighbourhood_id,
        _ => return Err(AppError::Forbidden),
    };
    let role = p
        .role
        .as_deref()
        .filter(|r| !r.is_empty())
        .map(|r| Role::parse(r).ok_or(AppError::BadRequest("role".into())))
        .transpose()?;
    let (limit, offset) = views::paging(p.page, None);
    let accounts = state
        .store
        .list_accounts(
            user.actor.subdistrict_id,
            nb,
            role,
            p.q.as_deref(),
            limit,
            offset,
        )
        .await?;
    let ids: Vec<i64> = accounts
        .items
        .iter()
        .filter_map(|a| a.neighbourhood_id)
        .collect();
    let titles = state.store.titles("neighbourhoods", &ids).await?;
    let table = account_table(&state, lang, &accounts.items, &titles);
    let mut base = Vec::new();
    if let Some(q) = p.q.as_deref().filter(|q| !q.is_empty()) {
        base.push(format!("q={}", views::url_encode(q)));
    }
    if let Some(r) = role {
        base.push(format!("role={}", r.as_str()));
    }
    let pager = views::Pager::new(
        accounts.total,
        limit,
        offset,
        accounts.items.len(),
        "/accounts",
        &base.join("&"),
    );
    let roles: Vec<SelectOption> = Role::ALL
        .iter()
        .map(|r| SelectOption {
            value: r.as_str().into(),
            label: state.i18n.t(lang, &format!("choice.role.{}", r.as_str())),
        })
        .collect();
    let title = state.i18n.t(lang, "nav.accounts");
    let extra = context! {
        title => title.clone(), table, pager, roles,
        q => p.q.unwrap_or_default(),
        role => role.map(|r| r.as_str()).unwrap_or(""),
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

const PASSWORD_FIELD: FieldSpec = FieldSpec::text("password", 128);

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
    let nbs = state
        .store
        .list_places(
            Entity::Neighbourhood,
            &doorstep_store::ListQuery::new(doorstep_domain::Scope::Subdistrict(
                user.actor.subdistrict_id,
            ))
            .all(),
        )
        .await?;
    let mut options = views::RefOptions::new();
    options.insert(
        "neighbourhood_id",
        nbs.items
            .iter()
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
    let title = match account {
        Some(a) => state.i18n.t_args(
            lang,
            "action.edit_title",
            &[state.i18n.t(lang, "entity.account"), a.display_name.clone()],
        ),
        None => state.i18n.t_args(
            lang,
            "action.create",
            &[state.i18n.t(lang, "entity.account")],
        ),
    };
    let extra = context! {
        title => title.clone(), fields, error,
        action => account.map(|a| format!("/accounts/{}", a.id)).unwrap_or_else(|| "/accounts".into()),
        cancel => account.map(|a| format!("/accounts/{}", a.id)).unwrap_or_else(|| "/accounts".into()),
        version => account.map(|a| a.version),
        submit => state.i18n.t(lang, "action.save"),
    };
    Ok((
        status,
        page(state, lang, Some(user), "form.html", &title, extra)?,
    )
        .into_response())
}

fn password_fields(
    state: &AppState,
    lang: Lang,
    errors: &FieldErrors,
    name: &'static str,
) -> Vec<FormField> {
    let spec = FieldSpec {
        name,
        ..PASSWORD_FIELD
    };
    let mut f = views::form_fields(
        &state.i18n,
        lang,
        &[spec],
        &BTreeMap::new(),
        errors,
        &Default::default(),
        false,
    );
    for x in &mut f {
        x.kind = "password";
        x.autocomplete = Some(if name == "current_password" {
            "current-password"
        } else {
            "new-password"
        });
        x.hint = Some(state.i18n.t(lang, "hint.password"));
    }
    f
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
    if !user.actor.may_manage_accounts() {
        return Err(AppError::Forbidden);
    }
    let mut input = form.0.clone();
    input.entry("disabled").or_insert_with(|| "false".into());
    let password = form.get("password").unwrap_or("").to_string();
    let result = async {
        let mut v = validate_account(&input, None).map_err(AppError::from)?;
        let username = v
            .get("username")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_lowercase();
        v.insert("username", Value::Text(username.clone()));
        if !password.is_empty()
            && let Some(code) = check_password(&password, &username)
        {
            return Err(AppError::validation("password", code));
        }
        let hash = if password.is_empty() {
            None
        } else {
            Some(auth::hash_password(password.clone()).await?)
        };
        let p = patch_from(&v);
        let new = NewAccount {
            username,
            display_name: p.display_name,
            role: p.role,
            neighbourhood_id: p.neighbourhood_id,
            partner_unit: p.partner_unit,
            phone: p.phone,
            locale: p.locale,
            password_hash: hash,
        };
        Ok(state
            .store
            .create_account(user.actor.subdistrict_id, &new, &user.ctx(&state))
            .await?)
    }
    .await;
    match result {
        Ok(a) => Ok(Redirect::to(&format!("/accounts/{}?saved=1", a.id)).into_response()),
        Err(AppError::Validation(fe)) => {
            account_form(
                &state,
                &user,
                None,
                &form.raw(),
                &fe,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(AppError::Conflict {
            code: "duplicate", ..
        }) => {
            let fe = FieldErrors::single("username", "duplicate");
            account_form(
                &state,
                &user,
                None,
                &form.raw(),
                &fe,
                None,
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

async fn readable_account(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
) -> Result<Account, AppError> {
    let a = state.store.get_account(id).await?;
    super::places::check(
        user.actor
            .may_read_account(a.subdistrict_id, a.neighbourhood_id, a.id),
    )?;
    Ok(a)
}

#[derive(serde::Deserialize)]
struct Saved {
    saved: Option<String>,
}

async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Query(s): Query<Saved>,
) -> Result<Response, AppError> {
    let a = readable_account(&state, &user, id).await?;
    render_account(
        &state,
        &user,
        &a,
        s.saved.map(|_| state.i18n.t(user.lang, "action.saved")),
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
        Some(n) => state.store.titles("neighbourhoods", &[n]).await?.remove(&n),
        None => None,
    };
    let fields = vec![
        serde_json::json!({"label": tr("field.username"), "value": a.username}),
        serde_json::json!({"label": tr("field.role"), "value": tr(&format!("choice.role.{}", a.role.as_str()))}),
        serde_json::json!({"label": tr("field.neighbourhood_id"), "value": nb.unwrap_or_else(|| "—".into()), "href": a.neighbourhood_id.map(|n| format!("/neighbourhoods/{n}"))}),
        serde_json::json!({"label": tr("field.partner_unit"), "value": a.partner_unit.clone().unwrap_or_else(|| "—".into())}),
        serde_json::json!({"label": tr("field.phone"), "value": a.phone.as_deref().map(doorstep_domain::mask::mask_phone).unwrap_or_else(|| "—".into())}),
        serde_json::json!({"label": tr("field.locale"), "value": tr(&format!("choice.locale.{}", a.locale))}),
        serde_json::json!({"label": tr("field.last_login_at"), "value": a.last_login_at.map(views::local_time).unwrap_or_else(|| "—".into())}),
        serde_json::json!({"label": tr("field.created_at"), "value": views::local_time(a.created_at)}),
    ];
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
    let manage = user.actor.may_manage_accounts() && a.subdistrict_id == user.actor.subdistrict_id;
    let extra = context! {
        title => a.display_name.clone(), fields, badges, notice, error,
        edit_href => manage.then(|| format!("/accounts/{}/edit", a.id)),
        password_form => (manage && a.id != user.account.id).then(|| format!("/accounts/{}/password", a.id)),
        password_fields => password_fields(state, lang, errors, "password"),
    };
    Ok((
        status,
        page(
            state,
            lang,
            Some(user),
            "accounts/show.html",
            &a.display_name,
            extra,
        )?,
    )
        .into_response())
}

async fn edit_form(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let a = readable_account(&state, &user, id).await?;
    if !user.actor.may_manage_accounts() {
        return Err(AppError::Forbidden);
    }
    let raw = views::raw_values(&account_values(&a));
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
    Path(id): Path<i64>,
    form: FormData,
) -> Result<Response, AppError> {
    user.check_csrf(form.get("_csrf"))?;
    let a = readable_account(&state, &user, id).await?;
    if !user.actor.may_manage_accounts() {
        return Err(AppError::Forbidden);
    }
    let mut input = form.0.clone();
    input.entry("disabled").or_insert_with(|| "false".into());
    if a.id == user.account.id {
        // No admin can lock themselves out by accident.
        input.insert("role".into(), "admin".into());
        input.insert("disabled".into(), "false".into());
    }
    let result = state
        .store
        .update_account(id, form.version()?, &user.ctx(&state), |cur| {
            let v = validate_account(&input, Some(&account_values(cur)))?;
            Ok(patch_from(&v))
        })
        .await
        .map_err(AppError::from);
    match result {
        Ok(a) => Ok(Redirect::to(&format!("/accounts/{}?saved=1", a.id)).into_response()),
        Err(AppError::Validation(fe)) => {
            account_form(
                &state,
                &user,
                Some(&a),
                &form.raw(),
                &fe,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(AppError::Conflict {
            code: "version_conflict",
            ..
        }) => {
            let latest = state.store.get_account(id).await?;
            let msg = state.i18n.t(user.lang, "error.version_conflict");
            account_form(
                &state,
                &user,
                Some(&latest),
                &form.raw(),
                &FieldErrors::new(),
                Some(msg),
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

async fn set_password(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    form: FormData,
) -> Result<Response, AppError> {
    user.check_csrf(form.get("_csrf"))?;
    let a = readable_account(&state, &user, id).await?;
    if !user.actor.may_manage_accounts() {
        return Err(AppError::Forbidden);
    }
    let password = form.get("password").unwrap_or("").to_string();
    if let Some(code) = check_password(&password, &a.username) {
        let fe = FieldErrors::single("password", code);
        let msg = state.i18n.t(user.lang, "error.validation_failed");
        return render_account(
            &state,
            &user,
            &a,
            None,
            Some(msg),
            &fe,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let hash = auth::hash_password(password).await?;
    state
        .store
        .set_password(id, &hash, &user.ctx(&state))
        .await?;
    Ok(Redirect::to(&format!("/accounts/{id}?saved=1")).into_response())
}

async fn render_me(
    state: &AppState,
    user: &CurrentUser,
    notice: Option<String>,
    error: Option<String>,
    errors: &FieldErrors,
    new_token: Option<String>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let lang = user.lang;
    let tr = |k: &str| state.i18n.t(lang, k);
    let a = &user.account;
    let fields = vec![
        serde_json::json!({"label": tr("field.display_name"), "value": a.display_name}),
        serde_json::json!({"label": tr("field.username"), "value": a.username}),
        serde_json::json!({"label": tr("field.role"), "value": tr(&format!("choice.role.{}", a.role.as_str()))}),
    ];
    let mut password_fields = password_fields(state, lang, errors, "current_password");
    password_fields.extend(self::password_fields(state, lang, errors, "new_password"));
    let token_spec = [FieldSpec::text("token_name", 50).required()];
    let token_fields = views::form_fields(
        &state.i18n,
        lang,
        &token_spec,
        &BTreeMap::new(),
        errors,
        &Default::default(),
        false,
    );
    let tokens: Vec<serde_json::Value> = state
        .store
        .list_api_tokens(a.id)
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
    let extra = context! { title => title.clone(), fields, password_fields, token_fields, tokens, notice, error, new_token };
    Ok((
        status,
        page(state, lang, Some(user), "me.html", &title, extra)?,
    )
        .into_response())
}

async fn me(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(s): Query<Saved>,
) -> Result<Response, AppError> {
    render_me(
        &state,
        &user,
        s.saved.map(|_| state.i18n.t(user.lang, "action.saved")),
        None,
        &FieldErrors::new(),
        None,
        StatusCode::OK,
    )
    .await
}

async fn change_own_password(
    State(state): State<AppState>,
    user: CurrentUser,
    form: FormData,
) -> Result<Response, AppError> {
    user.check_csrf(form.get("_csrf"))?;
    let current = form.get("current_password").unwrap_or("").to_string();
    let new = form.get("new_password").unwrap_or("").to_string();
    let (_, hash) = state
        .store
        .find_login(&user.account.username)
        .await?
        .ok_or(AppError::Unauthorized)?;
    let mut errors = FieldErrors::new();
    if !auth::verify_password(hash, current).await {
        errors.add("current_password", "wrong_password");
    }
    if let Some(code) = check_password(&new, &user.account.username) {
        errors.add("new_password", code);
    }
    if !errors.is_empty() {
        let msg = state.i18n.t(user.lang, "error.validation_failed");
        return render_me(
            &state,
            &user,
            None,
            Some(msg),
            &errors,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let hash = auth::hash_password(new).await?;
    // Every session ends, this one too: sign in again with the new password.
    state
        .store
        .set_password(user.account.id, &hash, &user.ctx(&state))
        .await?;
    Ok(Redirect::to("/login").into_response())
}

async fn create_token(
    State(state): State<AppState>,
    user: CurrentUser,
    form: FormData,
) -> Result<Response, AppError> {
    user.check_csrf(form.get("_csrf"))?;
    let name = form.get("token_name").unwrap_or("").trim().to_string();
    if name.is_empty() || name.chars().count() > 50 {
        let fe = FieldErrors::single(
            "token_name",
            if name.is_empty() {
                "required"
            } else {
                "too_long"
            },
        );
        let msg = state.i18n.t(user.lang, "error.validation_failed");
        return render_me(
            &state,
            &user,
            None,
            Some(msg),
            &fe,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let secret = format!("ds_{}", auth::random_token(32));
    state
        .store
        .create_api_token(
            user.account.id,
            &name,
            &auth::sha256_hex(&secret),
            &user.ctx(&state),
        )
        .await?;
    render_me(
        &state,
        &user,
        None,
        None,
        &FieldErrors::new(),
        Some(secret),
        StatusCode::OK,
    )
    .await
}

async fn revoke_token(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    form: FormData,
) -> Result<Response, AppError> {
    user.check_csrf(form.get("_csrf"))?;
    state
        .store
        .revoke_api_token(user.account.id, id, &user.ctx(&state))
        .await?;
    Ok(Redirect::to("/me?saved=1").into_response())
}

#[derive(serde::Deserialize, Default)]
struct AuditQuery {
    actor: Option<String>,
    action: Option<String>,
    entity: Option<String>,
    from: Option<String>,
    to: Option<String>,
    page: Option<i64>,
}

const AUDIT_ACTIONS: &[&str] = &[
    "login",
    "login_failed",
    "logout",
    "setup",
    "create",
    "update",
    "archive",
    "restore",
    "import",
    "export",
    "set_password",
    "revoke",
];
const AUDIT_ENTITIES: &[&str] = &[
    "account",
    "api_token",
    "subdistrict",
    "community",
    "neighbourhood",
    "estate",
    "building",
    "block",
    "station",
    "room",
    "partner",
    "service_item",
    "geo_network",
];

async fn audit(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<AuditQuery>,
) -> Result<Response, AppError> {
    if !user.actor.may_read_audit() {
        return Err(AppError::Forbidden);
    }
    let lang = user.lang;
    let tr = |k: &str| state.i18n.t(lang, k);
    let day = |s: &Option<String>,
               field: &str|
     -> Result<Option<chrono::DateTime<chrono::Utc>>, FieldErrors> {
        match s.as_deref().filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .and_then(|d| chrono_tz::Asia::Shanghai.from_local_datetime(&d).single())
                .map(|d| Some(d.with_timezone(&chrono::Utc)))
                .ok_or_else(|| FieldErrors::single(field, "invalid_date")),
        }
    };
    let mut error = None;
    let from = day(&q.from, "from").unwrap_or_else(|e| {
        error = Some(state.i18n.field_error(lang, &e.0[0]));
        None
    });
    let to = day(&q.to, "to").unwrap_or_else(|e| {
        error = Some(state.i18n.field_error(lang, &e.0[0]));
        None
    });
    let (limit, offset) = views::paging(q.page, Some(100));
    let filter = AuditFilter {
        subdistrict_id: Some(user.actor.subdistrict_id),
        actor: q.actor.clone(),
        action: q
            .action
            .clone()
            .filter(|a| AUDIT_ACTIONS.contains(&a.as_str())),
        entity: q
            .entity
            .clone()
            .filter(|e| AUDIT_ENTITIES.contains(&e.as_str())),
        entity_id: None,
        from,
        to: to.map(|t| t + chrono::Duration::days(1)),
        limit,
        offset,
    };
    let found = state.store.list_audit(&filter).await?;
    let rows: Vec<serde_json::Value> = found
        .items
        .iter()
        .map(|r| {
            let href = match (r.entity.as_deref(), r.entity_id) {
                (Some("account"), Some(id)) => Some(format!("/accounts/{id}")),
                (Some(e), Some(id)) => Entity::ALL.iter().find(|x| x.name() == e).map(|x| format!("/{}/{id}", x.table())),
                _ => None,
            };
            serde_json::json!({
                "at": views::local_time(r.at),
                "actor": r.actor_name.clone().unwrap_or_default(),
                "action": tr(&format!("audit_action.{}", r.action)),
                "entity": r.entity.as_deref().map(|e| format!("{} #{}", tr(&format!("entity.{e}")), r.entity_id.unwrap_or_default())).unwrap_or_default(),
                "href": href,
                "ip": r.ip.clone().unwrap_or_default(),
                "detail": if r.detail.is_null() { String::new() } else { r.detail.to_string() },
            })
        })
        .collect();
    let mut base = Vec::new();
    for (k, v) in [
        ("actor", &q.actor),
        ("action", &q.action),
        ("entity", &q.entity),
        ("from", &q.from),
        ("to", &q.to),
    ] {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            base.push(format!("{k}={}", views::url_encode(v)));
        }
    }
    let pager = views::Pager::new(
        found.total,
        limit,
        offset,
        found.items.len(),
        "/audit",
        &base.join("&"),
    );
    let actions: Vec<SelectOption> = AUDIT_ACTIONS
        .iter()
        .map(|a| SelectOption {
            value: a.to_string(),
            label: tr(&format!("audit_action.{a}")),
        })
        .collect();
    let entities: Vec<SelectOption> = AUDIT_ENTITIES
        .iter()
        .map(|e| SelectOption {
            value: e.to_string(),
            label: tr(&format!("entity.{e}")),
        })
        .collect();
    let f = serde_json::json!({
        "actor": q.actor.unwrap_or_default(), "action": q.action.unwrap_or_default(), "entity": q.entity.unwrap_or_default(),
        "from": q.from.unwrap_or_default(), "to": q.to.unwrap_or_default(),
    });
    let title = tr("nav.audit");
    let extra = context! { title => title.clone(), rows, pager, actions, entities, f, error };
    Ok(page(&state, lang, Some(&user), "audit.html", &title, extra)?.into_response())
}
