//! The desk intake form: a worker takes a request at the counter, on the phone or on a
//! visit, and owns it from then on. Built for a phone: the resident's words first, the
//! catalogue item and the building found by typing, the channel and kind as taps, and
//! the submit button always in reach.

use crate::forms::FormData;
use crate::render::page;
use crate::session::CurrentUser;
use crate::views::SelectOption;
use crate::{AppError, AppState};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use doorstep_domain::catalogue::Category;
use doorstep_domain::requests::{Channel, Kind};
use doorstep_domain::{Entity, FieldErrors, Role, Scope};
use doorstep_services::catalogue::item;
use doorstep_services::places;
use doorstep_services::requests as svc;
use minijinja::context;
use std::collections::BTreeMap;

/// The catalogue for the no-script select, grouped by category.
async fn item_groups(
    state: &AppState,
    user: &CurrentUser,
) -> Result<Vec<serde_json::Value>, AppError> {
    let sd = Scope::Subdistrict(user.actor.subdistrict_id);
    let records = places::all_in(&state.services, Entity::ServiceItem, sd).await?;
    Ok(Category::ALL
        .iter()
        .map(|c| {
            let items: Vec<serde_json::Value> = records
                .iter()
                .filter(|r| r.is_active() && item(r).category == *c)
                .map(|r| serde_json::json!({"id": r.id.to_string(), "name": r.title()}))
                .collect();
            serde_json::json!({
                "label": state.i18n.t(user.lang, &format!("choice.category.{}", c.code())),
                "items": items,
            })
        })
        .collect())
}

/// The buildings of the worker's neighbourhood, grouped by estate, with what people call
/// them (estate name, street address, number) for finding one by typing.
async fn building_groups(
    state: &AppState,
    user: &CurrentUser,
) -> Result<Vec<serde_json::Value>, AppError> {
    let Some(nb) = user.actor.neighbourhood_id else {
        return Ok(Vec::new());
    };
    let scope = Scope::Neighbourhood {
        subdistrict_id: user.actor.subdistrict_id,
        neighbourhood_id: nb,
    };
    let buildings = places::building_choices(&state.services, scope).await?;
    let mut groups: Vec<(String, Vec<serde_json::Value>)> = Vec::new();
    for b in buildings {
        let entry = serde_json::json!({
            "id": b.id.to_string(), "label": format!("{} {}", b.estate, b.number),
            "keywords": format!("{} {} {}", b.estate, b.address, b.number),
        });
        match groups.last_mut() {
            Some((estate, list)) if *estate == b.estate => list.push(entry),
            _ => groups.push((b.estate.clone(), vec![entry])),
        }
    }
    Ok(groups
        .into_iter()
        .map(|(estate, buildings)| serde_json::json!({"label": estate, "items": buildings}))
        .collect())
}

fn options(
    state: &AppState,
    user: &CurrentUser,
    codes: &[&str],
    prefix: &str,
) -> Vec<SelectOption> {
    crate::views::choice_options(&state.i18n, user.lang, codes, prefix)
}

async fn render_new(
    state: &AppState,
    user: &CurrentUser,
    raw: &BTreeMap<String, String>,
    errors: &FieldErrors,
    status: StatusCode,
) -> Result<Response, AppError> {
    let lang = user.lang;
    let sv = &state.services;
    let admin = user.actor.role == Role::Admin;
    let neighbourhoods: Vec<SelectOption> = if admin {
        let sd = Scope::Subdistrict(user.actor.subdistrict_id);
        places::all_in(sv, Entity::Neighbourhood, sd)
            .await?
            .iter()
            .filter(|r| r.is_active())
            .map(|r| SelectOption {
                value: r.id.to_string(),
                label: r.title(),
            })
            .collect()
    } else {
        Vec::new()
    };
    let desk_channels: Vec<&str> = Channel::AT_THE_DESK.iter().map(|c| c.code()).collect();
    let field_errors: BTreeMap<String, String> = errors
        .0
        .iter()
        .map(|e| (e.field.clone(), state.i18n.field_error(lang, e)))
        .collect();
    // The banner names what to fix, as the marked field may be below the fold.
    let error_lines: Vec<String> = errors
        .0
        .iter()
        .map(|e| {
            let label = state.i18n.t(lang, &format!("field.{}", e.field));
            format!("{label}：{}", state.i18n.field_error(lang, e))
        })
        .collect();
    let title = state.i18n.t(lang, "request.new");
    let extra = context! {
        title => title.clone(),
        error_lines,
        v => raw,
        errors => field_errors,
        items => item_groups(state, user).await?,
        buildings => building_groups(state, user).await?,
        neighbourhoods,
        channels => options(state, user, &desk_channels, "choice.channel."),
        kinds => options(state, user, Kind::CODES, "choice.kind."),
        error => (!errors.is_empty()).then(|| state.i18n.t(lang, "error.validation_failed")),
    };
    Ok((
        status,
        page(state, lang, Some(user), "requests/new.html", &title, extra)?,
    )
        .into_response())
}

/// `GET /requests/new`, optionally with the catalogue item already chosen (from its guide).
pub(super) async fn new_form(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<BTreeMap<String, String>>,
) -> Result<Response, AppError> {
    if !user.actor.may_take_requests() {
        return Err(AppError::Forbidden);
    }
    let mut raw = BTreeMap::new();
    raw.insert("channel".to_string(), "desk".to_string());
    raw.insert("kind".to_string(), "consultation".to_string());
    if let Some(id) = query
        .get("service_item_id")
        .filter(|v| v.parse::<i64>().is_ok())
    {
        raw.insert("service_item_id".to_string(), id.clone());
    }
    render_new(&state, &user, &raw, &FieldErrors::new(), StatusCode::OK).await
}

pub(super) async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    form: FormData,
) -> Result<Response, AppError> {
    user.check_csrf(form.get("_csrf"))?;
    match svc::intake(&state.services, &user.caller(), &form.input()).await {
        Ok(r) => Ok(Redirect::to(&format!("/requests/{}?taken=1", r.id)).into_response()),
        Err(doorstep_services::Error::Validation(fe)) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            render_new(&state, &user, &form.raw(), &fe, status).await
        }
        Err(e) => Err(e.into()),
    }
}
