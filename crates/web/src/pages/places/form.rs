//! The forms of place records: new and edit, and what happens when they are sent back.

use super::{crumbs, entity_of, singular};
use crate::forms::FormData;
use crate::params::{FromParams, PageQuery, Params};
use crate::render::page;
use crate::session::CurrentUser;
use crate::views::{self, RefOptions};
use crate::{AppError, AppState};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use doorstep_domain::policy::Action;
use doorstep_domain::{Entity, FieldErrors, FieldKind, NeighbourhoodId};
use doorstep_services::places;
use doorstep_services::records::PlaceRecord;
use minijinja::context;
use std::collections::BTreeMap;

/// What a form shows: the record being edited (none for a new one), what to show in the
/// fields, the errors, a message, and the neighbourhood whose choices the references offer.
struct FormView<'a> {
    entity: Entity,
    record: Option<&'a PlaceRecord>,
    raw: &'a BTreeMap<String, String>,
    errors: &'a FieldErrors,
    error: Option<String>,
    neighbourhood: Option<NeighbourhoodId>,
}

async fn render_form(
    state: &AppState,
    user: &CurrentUser,
    f: FormView<'_>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let lang = user.lang;
    let sv = &state.services;
    let choices = places::ref_choices(sv, &user.actor, f.entity, f.neighbourhood).await?;
    let options: RefOptions = choices
        .into_iter()
        .map(|(k, v)| (k, v.into_iter().map(Into::into).collect()))
        .collect();
    let fields = views::form_fields(
        &state.i18n,
        lang,
        f.entity.fields(),
        f.raw,
        f.errors,
        &options,
        f.record.is_some(),
    );
    let table = f.entity.table();
    let (title, action, crumbs) = match f.record {
        Some(r) => (
            state.i18n.t_args(
                lang,
                "action.edit_title",
                &[singular(state, lang, f.entity), r.title()],
            ),
            format!("/{table}/{}", r.id),
            crumbs(&places::trail(sv, &user.actor, r).await?),
        ),
        None => (
            state
                .i18n
                .t_args(lang, "action.create", &[singular(state, lang, f.entity)]),
            format!("/{table}"),
            Vec::new(),
        ),
    };
    let error = f
        .error
        .or_else(|| (!f.errors.is_empty()).then(|| state.i18n.t(lang, "error.validation_failed")));
    let extra = context! {
        fields, title => title.clone(), cancel => action.clone(), action, crumbs, error,
        version => f.record.map(|r| r.version),
        submit => state.i18n.t(lang, "action.save"),
    };
    Ok((
        status,
        page(state, lang, Some(user), "form.html", &title, extra)?,
    )
        .into_response())
}

/// The parent a new record is made under (`?estate_id=3`), if the link names one.
pub(super) struct NewParams(Vec<(String, String)>);

impl FromParams for NewParams {
    fn from_params(p: &mut Params) -> Self {
        NewParams(p.rest())
    }
}

pub(super) async fn new_form(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(table): Path<String>,
    PageQuery(NewParams(p)): PageQuery<NewParams>,
) -> Result<Response, AppError> {
    let entity = entity_of(&table)?;
    if !places::may_create_somewhere(&user.actor, entity) {
        return Err(AppError::Forbidden);
    }
    let mut raw: BTreeMap<String, String> = BTreeMap::new();
    let mut neighbourhood = user.actor.neighbourhood_id;
    if let Some((parent, fk)) = entity.parent() {
        let asked = p
            .iter()
            .find(|(k, _)| k == fk)
            .and_then(|(_, v)| v.parse::<i64>().ok());
        if let Some(id) = asked {
            let pr = places::readable(&state.services, &user.actor, parent, id).await?;
            let place = places::child_place(&pr, entity);
            doorstep_services::allowed(user.actor.may(Action::Create, entity, place))?;
            neighbourhood = pr.neighbourhood_id.or(neighbourhood);
            raw.insert(fk.to_string(), id.to_string());
        } else if entity == Entity::Community {
            raw.insert(fk.to_string(), user.actor.subdistrict_id.to_string());
        }
    }
    if entity == Entity::Room {
        raw.insert("kind".into(), "activity".into());
    }
    let f = FormView {
        entity,
        record: None,
        raw: &raw,
        errors: &FieldErrors::new(),
        error: None,
        neighbourhood,
    };
    render_form(&state, &user, f, StatusCode::OK).await
}

/// Unticked checkboxes send nothing: count them as "no".
fn with_unticked(entity: Entity, form: &FormData) -> serde_json::Map<String, serde_json::Value> {
    let mut map = form.input();
    map.remove("version");
    for f in entity.fields() {
        if f.kind == FieldKind::Bool && !map.contains_key(f.name) {
            map.insert(
                f.name.to_string(),
                serde_json::Value::String("false".into()),
            );
        }
    }
    map
}

/// Errors of a form's submission as field errors where they belong to fields.
fn form_error(
    state: &AppState,
    lang: crate::i18n::Lang,
    e: AppError,
) -> Result<(FieldErrors, Option<String>, StatusCode), AppError> {
    match e {
        AppError::Validation(fe) => Ok((fe, None, StatusCode::UNPROCESSABLE_ENTITY)),
        AppError::Conflict {
            code: "duplicate",
            fields,
            ..
        } => {
            let mut fe = FieldErrors::new();
            for f in fields.iter().filter(|f| !f.ends_with("_id")) {
                fe.add(f, "duplicate");
            }
            let msg = fe.is_empty().then(|| state.i18n.t(lang, "error.duplicate"));
            Ok((fe, msg, StatusCode::CONFLICT))
        }
        AppError::Conflict { code, .. } => Ok((
            FieldErrors::new(),
            Some(state.i18n.t(lang, &format!("error.{code}"))),
            StatusCode::CONFLICT,
        )),
        other => Err(other),
    }
}

pub(super) async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(table): Path<String>,
    form: FormData,
) -> Result<Response, AppError> {
    let entity = entity_of(&table)?;
    user.check_csrf(form.get("_csrf"))?;
    let input = with_unticked(entity, &form);
    match places::create(&state.services, &user.caller(), entity, &input).await {
        Ok(r) => Ok(Redirect::to(&format!("/{table}/{}?saved=1", r.id)).into_response()),
        Err(e) => {
            let (errors, error, status) = form_error(&state, user.lang, e.into())?;
            let raw = form.raw();
            let f = FormView {
                entity,
                record: None,
                raw: &raw,
                errors: &errors,
                error,
                neighbourhood: user.actor.neighbourhood_id,
            };
            render_form(&state, &user, f, status).await
        }
    }
}

pub(super) async fn edit_form(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((table, id)): Path<(String, i64)>,
) -> Result<Response, AppError> {
    let entity = entity_of(&table)?;
    let record = places::readable(&state.services, &user.actor, entity, id).await?;
    doorstep_services::allowed(user.actor.may(Action::Update, entity, record.place()))?;
    let raw = views::raw_values(&record.values);
    let f = FormView {
        entity,
        record: Some(&record),
        raw: &raw,
        errors: &FieldErrors::new(),
        error: None,
        neighbourhood: record.neighbourhood_id,
    };
    render_form(&state, &user, f, StatusCode::OK).await
}

pub(super) async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((table, id)): Path<(String, i64)>,
    form: FormData,
) -> Result<Response, AppError> {
    let entity = entity_of(&table)?;
    user.check_csrf(form.get("_csrf"))?;
    let sv = &state.services;
    let input = with_unticked(entity, &form);
    let version = form.version()?;
    let result = places::update(sv, &user.caller(), entity, id, version, &input).await;
    let e = match result {
        Ok(r) => return Ok(Redirect::to(&format!("/{table}/{}?saved=1", r.id)).into_response()),
        Err(e) => AppError::from(e),
    };
    // What was typed is shown again: against the newest version after a stale save, so
    // that a second save is a deliberate overwrite.
    let latest = places::readable(sv, &user.actor, entity, id).await?;
    let stale = matches!(
        &e,
        AppError::Conflict {
            code: "version_conflict",
            ..
        }
    );
    let (errors, error, status) = if stale {
        let msg = state.i18n.t(user.lang, "error.version_conflict");
        (FieldErrors::new(), Some(msg), StatusCode::CONFLICT)
    } else {
        form_error(&state, user.lang, e)?
    };
    let mut raw = if stale {
        views::raw_values(&latest.values)
    } else {
        BTreeMap::new()
    };
    raw.extend(form.raw());
    let f = FormView {
        entity,
        record: Some(&latest),
        raw: &raw,
        errors: &errors,
        error,
        neighbourhood: latest.neighbourhood_id,
    };
    render_form(&state, &user, f, status).await
}
