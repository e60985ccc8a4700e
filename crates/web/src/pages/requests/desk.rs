//! The desk intake form: a worker takes a request at the counter, on the phone or on a
//! visit, and owns it from then on.

use crate::forms::FormData;
use crate::render::page;
use crate::session::CurrentUser;
use crate::views::{self, SelectOption};
use crate::{AppError, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use doorstep_domain::{Entity, FieldErrors, Role, Scope};
use doorstep_services::places;
use doorstep_services::requests::{self as svc, REQUEST_FIELDS};
use minijinja::context;
use std::collections::BTreeMap;

fn to_options(records: &[doorstep_services::records::PlaceRecord]) -> Vec<SelectOption> {
    records
        .iter()
        .map(|r| SelectOption {
            value: r.id.to_string(),
            label: r.title(),
        })
        .collect()
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
    let sd = Scope::Subdistrict(user.actor.subdistrict_id);
    let admin = user.actor.role == Role::Admin;
    let mut options = views::RefOptions::new();
    let items = places::all_in(sv, Entity::ServiceItem, sd).await?;
    options.insert("service_item_id", to_options(&items));
    if admin {
        let nbs = places::all_in(sv, Entity::Neighbourhood, sd).await?;
        options.insert("neighbourhood_id", to_options(&nbs));
    }
    if let Some(nb) = user.actor.neighbourhood_id {
        let scope = Scope::Neighbourhood {
            subdistrict_id: user.actor.subdistrict_id,
            neighbourhood_id: nb,
        };
        let buildings = places::buildings_of(sv, scope).await?;
        options.insert(
            "building_id",
            buildings.into_iter().map(Into::into).collect(),
        );
    }
    let specs: Vec<_> = REQUEST_FIELDS
        .iter()
        .filter(|f| !matches!(f.name, "lat" | "lon") && (f.name != "neighbourhood_id" || admin))
        .copied()
        .collect();
    let fields = views::form_fields(&state.i18n, lang, &specs, raw, errors, &options, false);
    let title = state.i18n.t(lang, "request.new");
    let extra = context! {
        title => title.clone(), fields, action => "/requests", cancel => "/requests", dup_check => true,
        submit => state.i18n.t(lang, "request.submit"),
        error => (!errors.is_empty()).then(|| state.i18n.t(lang, "error.validation_failed")),
    };
    Ok((
        status,
        page(state, lang, Some(user), "form.html", &title, extra)?,
    )
        .into_response())
}

pub(super) async fn new_form(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Response, AppError> {
    if !user.actor.may_take_requests() {
        return Err(AppError::Forbidden);
    }
    let mut raw = BTreeMap::new();
    raw.insert("channel".to_string(), "desk".to_string());
    raw.insert("kind".to_string(), "consultation".to_string());
    render_new(&state, &user, &raw, &FieldErrors::new(), StatusCode::OK).await
}

pub(super) async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    form: FormData,
) -> Result<Response, AppError> {
    user.check_csrf(form.get("_csrf"))?;
    match svc::intake(&state.services, &user.caller(), &form.input()).await {
        Ok(r) => Ok(Redirect::to(&format!("/requests/{}", r.id)).into_response()),
        Err(doorstep_services::Error::Validation(fe)) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            render_new(&state, &user, &form.raw(), &fe, status).await
        }
        Err(e) => Err(e.into()),
    }
}
