//! The register kept true from the household page: a resident's particulars corrected,
//! care tags started and ended, a person who moved away or died archived.

use super::household::{Notice, render};
use crate::forms::FormData;
use crate::render::page;
use crate::session::CurrentUser;
use crate::views;
use crate::{AppError, AppState};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use doorstep_domain::people::{ArchiveReason, Residency, Sex};
use doorstep_domain::{CareTagId, ResidentId};
use doorstep_services::records::Resident;
use doorstep_services::register::edit::{self, TagInput};
use doorstep_services::register::people::ResidentInput;
use minijinja::context;
use std::collections::BTreeMap;

async fn resident(
    state: &AppState,
    user: &CurrentUser,
    id: ResidentId,
) -> Result<Resident, AppError> {
    Ok(doorstep_services::register::resident(&state.services, &user.caller(), id).await?)
}

/// The household page again, with a form's error, for a resident's household.
async fn again(
    state: &AppState,
    user: &CurrentUser,
    id: ResidentId,
    e: doorstep_services::Error,
) -> Result<Response, AppError> {
    match e {
        doorstep_services::Error::Validation(fe) => {
            let r = resident(state, user, id).await?;
            let error = Some(super::super::field_messages(state, user.lang, &fe));
            let notice = Notice {
                error,
                ..Notice::default()
            };
            render(
                state,
                user,
                r.household_id,
                notice,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        e => Err(e.into()),
    }
}

fn to_household(r: &Resident, note: &str) -> Response {
    Redirect::to(&format!(
        "/care/households/{}?{note}=1#resident-{}",
        r.household_id, r.id
    ))
    .into_response()
}

/// `POST /care/residents/{id}/tags`: a tag started.
pub(super) async fn start_tag(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<ResidentId>,
    form: FormData,
) -> Result<Response, AppError> {
    user.check_csrf(form.get("_csrf"))?;
    let get = |k: &str| form.get(k).map(str::to_string);
    let input = TagInput {
        tag: get("tag").unwrap_or_default(),
        kind: get("kind"),
        grade: get("grade"),
        note: get("note"),
        started_on: get("started_on"),
    };
    match edit::start_tag(&state.services, &user.caller(), id, &input).await {
        Ok(_) => Ok(to_household(&resident(&state, &user, id).await?, "tagged")),
        Err(e) => again(&state, &user, id, e).await,
    }
}

/// `POST /care/residents/{id}/tags/{tag}/end`: a tag ended (today, or on `ended_on`).
pub(super) async fn end_tag(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, tag)): Path<(ResidentId, CareTagId)>,
    form: FormData,
) -> Result<Response, AppError> {
    user.check_csrf(form.get("_csrf"))?;
    match edit::end_tag(
        &state.services,
        &user.caller(),
        id,
        tag,
        form.get("ended_on"),
    )
    .await
    {
        Ok(()) => Ok(to_household(
            &resident(&state, &user, id).await?,
            "untagged",
        )),
        Err(e) => again(&state, &user, id, e).await,
    }
}

/// `POST /care/residents/{id}/archive`: moved away, died, or a duplicate.
pub(super) async fn archive(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<ResidentId>,
    form: FormData,
) -> Result<Response, AppError> {
    user.check_csrf(form.get("_csrf"))?;
    match edit::archive(&state.services, &user.caller(), id, form.get("reason")).await {
        Ok(r) => Ok(to_household(&r, "archived")),
        Err(doorstep_services::Error::Validation(fe)) => {
            let r = resident(&state, &user, id).await?;
            let error = Some(super::super::field_messages(&state, user.lang, &fe));
            form_page(
                &state,
                &user,
                &r,
                &values(&r),
                error,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// What the correction form shows of a resident: never the ID number or phone (blank
/// keeps them; showing them would be a reveal).
fn values(r: &Resident) -> BTreeMap<String, String> {
    let mut v = BTreeMap::new();
    v.insert("name".into(), r.name.clone());
    v.insert("version".into(), r.version.to_string());
    if let Some(s) = r.sex {
        v.insert("sex".into(), s.code().into());
    }
    if let Some(b) = r.birth_date {
        v.insert("birth_date".into(), b.to_string());
    }
    v.insert("residency".into(), r.residency.code().into());
    if let Some(l) = &r.languages {
        v.insert("languages".into(), l.clone());
    }
    v
}

async fn form_page(
    state: &AppState,
    user: &CurrentUser,
    r: &Resident,
    v: &BTreeMap<String, String>,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let lang = user.lang;
    let options =
        |codes: &[&str], prefix: &str| views::choice_options(&state.i18n, lang, codes, prefix);
    let (_, h) = edit::for_correction(&state.services, &user.caller(), r.id).await?;
    let mut v = v.clone();
    v.entry("unit".into()).or_insert(h.unit.clone());
    v.entry("room".into()).or_insert(h.room.clone());
    let title = format!("{} · {}", state.i18n.t(lang, "care.correct"), r.name);
    let extra = context! {
        title => title.clone(), v, error,
        sexes => options(Sex::CODES, "sex."),
        residencies => options(Residency::CODES, "residency."),
        archive_reasons => options(ArchiveReason::CODES, "archive_reason."),
        action => format!("/care/residents/{}/edit", r.id),
        archive_action => format!("/care/residents/{}/archive", r.id),
        back => format!("/care/households/{}#resident-{}", r.household_id, r.id),
    };
    Ok((
        status,
        page(
            state,
            lang,
            Some(user),
            "care/resident_edit.html",
            &title,
            extra,
        )?,
    )
        .into_response())
}

/// `GET /care/residents/{id}/edit`.
pub(super) async fn edit_form(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<ResidentId>,
) -> Result<Response, AppError> {
    let r = resident(&state, &user, id).await?;
    form_page(&state, &user, &r, &values(&r), None, StatusCode::OK).await
}

/// `POST /care/residents/{id}/edit`.
pub(super) async fn edit_save(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<ResidentId>,
    form: FormData,
) -> Result<Response, AppError> {
    user.check_csrf(form.get("_csrf"))?;
    let get = |k: &str| form.get(k).map(str::to_string);
    let version = form
        .version()?
        .ok_or(AppError::validation("version", "required"))?;
    let input = ResidentInput {
        building_id: None,
        unit: get("unit").unwrap_or_default(),
        room: get("room").unwrap_or_default(),
        name: get("name").unwrap_or_default(),
        sex: get("sex"),
        birth_date: get("birth_date"),
        id_number: get("id_number"),
        phone: get("phone"),
        residency: get("residency"),
        languages: get("languages"),
    };
    match edit::correct(&state.services, &user.caller(), id, version, &input).await {
        Ok(r) => Ok(to_household(&r, "corrected")),
        Err(doorstep_services::Error::Validation(fe)) => {
            let r = resident(&state, &user, id).await?;
            let error = Some(super::super::field_messages(&state, user.lang, &fe));
            form_page(
                &state,
                &user,
                &r,
                &form.raw(),
                error,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}
