//! The subdistrict's care settings, for admins: the visit plan (days between visits per
//! tag) and the tags defined beyond the seed's groups.

use crate::forms::FormData;
use crate::render::page;
use crate::session::CurrentUser;
use crate::{AppError, AppState};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use doorstep_services::register::{block, edit};
use minijinja::context;
use std::collections::BTreeMap;

async fn render(
    state: &AppState,
    user: &CurrentUser,
    error: Option<String>,
    info: Option<String>,
    status: StatusCode,
) -> Result<Response, AppError> {
    if !user.actor.may_configure_care() {
        return Err(AppError::Forbidden);
    }
    let lang = user.lang;
    let who = user.caller();
    let kinds = edit::tag_kinds(&state.services, &who).await?;
    let plan = block::plan(&state.services, &who).await?;
    let codes = super::household::tag_choices(state, lang, &kinds);
    let plans: Vec<serde_json::Value> = codes
        .iter()
        .map(|o| {
            serde_json::json!({"code": o.value, "label": o.label,
                "days": plan.get(&o.value).copied().unwrap_or(0)})
        })
        .collect();
    let title = state.i18n.t(lang, "care.settings");
    let extra = context! { title => title.clone(), plans, kinds, error, info,
    max_days => edit::PLAN_MAX_DAYS };
    Ok((
        status,
        page(state, lang, Some(user), "care/settings.html", &title, extra)?,
    )
        .into_response())
}

/// `GET /care/settings`.
pub(super) async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, AppError> {
    let info = q
        .contains_key("saved")
        .then(|| state.i18n.t(user.lang, "action.saved"));
    render(&state, &user, None, info, StatusCode::OK).await
}

async fn after(
    state: &AppState,
    user: &CurrentUser,
    done: doorstep_services::Result<()>,
) -> Result<Response, AppError> {
    match done {
        Ok(()) => Ok(Redirect::to("/care/settings?saved=1").into_response()),
        Err(doorstep_services::Error::Validation(fe)) => {
            let error = Some(super::super::field_messages(state, user.lang, &fe));
            render(state, user, error, None, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /care/settings/plan`: `tag`, `every_days` (0 takes it off the plan).
pub(super) async fn set_plan(
    State(state): State<AppState>,
    user: CurrentUser,
    form: FormData,
) -> Result<Response, AppError> {
    user.check_csrf(form.get("_csrf"))?;
    let done = edit::set_plan(
        &state.services,
        &user.caller(),
        form.get("tag").unwrap_or_default(),
        form.get("every_days").unwrap_or_default(),
    )
    .await;
    after(&state, &user, done).await
}

/// `POST /care/settings/tags`: `name`, `sensitive`.
pub(super) async fn define_tag(
    State(state): State<AppState>,
    user: CurrentUser,
    form: FormData,
) -> Result<Response, AppError> {
    user.check_csrf(form.get("_csrf"))?;
    let done = edit::define_tag_kind(
        &state.services,
        &user.caller(),
        form.get("name").unwrap_or_default(),
        form.get("sensitive").is_some(),
    )
    .await;
    after(&state, &user, done).await
}

/// `POST /care/settings/tags/retire`: `name`.
pub(super) async fn retire_tag(
    State(state): State<AppState>,
    user: CurrentUser,
    form: FormData,
) -> Result<Response, AppError> {
    user.check_csrf(form.get("_csrf"))?;
    let done = edit::retire_tag_kind(
        &state.services,
        &user.caller(),
        form.get("name").unwrap_or_default(),
    )
    .await;
    after(&state, &user, done).await
}
