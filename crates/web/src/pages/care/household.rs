//! A household with its people, their care tags and visits; the visit form; the reveal of
//! an ID number or phone; a resident added.

use crate::forms::FormData;
use crate::render::page;
use crate::session::CurrentUser;
use crate::views::{self, SelectOption};
use crate::{AppError, AppState};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use doorstep_domain::audit::RevealReason;
use doorstep_domain::mask::{mask_id_number, mask_phone};
use doorstep_domain::people::{Residency, VisitKind};
use doorstep_domain::{BuildingId, HouseholdId, ResidentId};
use doorstep_services::register::people::{ResidentInput, add, household};
use doorstep_services::register::visits::{VisitInput, log};
use doorstep_services::reveal::{Secret, reveal as reveal_secret};
use minijinja::context;
use std::collections::BTreeMap;

type Lang = crate::i18n::Lang;

/// What the household page says besides its data.
#[derive(Default)]
pub(super) struct Notice {
    pub error: Option<String>,
    pub info: Option<String>,
    /// A value revealed for this answer only: (resident, field, value).
    pub revealed: Option<(ResidentId, &'static str, String)>,
}

fn a_key() -> String {
    doorstep_services::signin::random_token(16)
}

pub(super) async fn render(
    state: &AppState,
    user: &CurrentUser,
    id: HouseholdId,
    notice: Notice,
    status: StatusCode,
) -> Result<Response, AppError> {
    let lang = user.lang;
    let tr = |k: &str| state.i18n.t(lang, k);
    let v = household(&state.services, &user.caller(), id).await?;
    let vault = state.services.vault()?;
    let today = state.services.now().date_naive();
    let people: Vec<serde_json::Value> = v
        .residents
        .iter()
        .map(|r| person(state, lang, &v, r, &notice, vault, today))
        .collect();
    let visits: Vec<serde_json::Value> = v
        .visits
        .iter()
        .map(|x| serde_json::json!({"at": views::local_time(x.visited_at), "kind": tr(&format!("visit_kind.{}", x.kind)),
            "met": x.met, "notes": x.notes, "said": x.said,
            "request": x.request_id.map(|r| format!("/requests/{r}"))}))
        .collect();
    let options =
        |codes: &[&str], prefix: &str| views::choice_options(&state.i18n, lang, codes, prefix);
    let title = v.building_label.clone();
    let extra = context! {
        title => title.clone(), people, visits, read_only => v.read_only,
        visit_action => format!("/care/households/{id}/visits"), household_id => id,
        visit_kinds => options(VisitKind::CODES, "visit_kind."),
        reveal_reasons => options(RevealReason::CODES, "reveal.reason."),
        client_key => a_key(),
        tag_choices => tag_choices(state, lang, &v.kinds),
        disability_kinds => options(doorstep_domain::people::DisabilityKind::CODES, "disability_kind."),
        hardship_kinds => options(doorstep_domain::people::HardshipKind::CODES, "hardship_kind."),
        today => today.to_string(),
        error => notice.error, info => notice.info,
        canonical => format!("/care/households/{id}"),
        add_href => format!("/care/residents/new?building_id={}", v.household.building_id),
    };
    let mut res = (
        status,
        page(
            state,
            lang,
            Some(user),
            "care/household.html",
            &title,
            extra,
        )?,
    )
        .into_response();
    // A revealed number is never stored; the masked page may be kept on the worker's
    // phone (private, revalidated) so that it opens in a stairwell without signal.
    let cache = if notice.revealed.is_some() {
        "no-store"
    } else {
        super::KEEP_ON_PHONE
    };
    res.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static(cache),
    );
    Ok(res)
}

/// A tag's words: the seed's groups translated (with a disability's kind and grade, a
/// hardship's kind), an admin's tag by its name.
pub(super) fn tag_label(
    state: &AppState,
    lang: Lang,
    code: &str,
    detail: &serde_json::Value,
) -> String {
    if let Some(name) = code.strip_prefix(doorstep_services::register::edit::CUSTOM) {
        return name.to_string();
    }
    let mut out = state.i18n.t(lang, &format!("care_tag.{code}"));
    let prefix = match code {
        "disability" => "disability_kind.",
        "hardship" => "hardship_kind.",
        _ => return out,
    };
    if let Some(k) = detail.get("kind").and_then(|k| k.as_str()) {
        out = format!("{out}·{}", state.i18n.t(lang, &format!("{prefix}{k}")));
    }
    if let Some(g) = detail.get("grade").and_then(serde_json::Value::as_u64) {
        out = format!(
            "{out}·{}",
            state.i18n.t_args(lang, "care.grade", &[g.to_string()])
        );
    }
    out
}

/// The tags a worker may start: the seed's groups, then the admin's (not retired).
pub(super) fn tag_choices(
    state: &AppState,
    lang: Lang,
    kinds: &[doorstep_services::records::TagKind],
) -> Vec<views::SelectOption> {
    let mut out: Vec<views::SelectOption> = super::SEED_ORDER
        .iter()
        .map(|t| views::SelectOption {
            value: t.code().to_string(),
            label: state.i18n.t(lang, &format!("care_tag.{}", t.code())),
        })
        .collect();
    out.extend(
        kinds
            .iter()
            .filter(|k| !k.retired)
            .map(|k| views::SelectOption {
                value: format!("{}{}", doorstep_services::register::edit::CUSTOM, k.name),
                label: k.name.clone(),
            }),
    );
    out
}

/// A household member as the page shows them: ID number and phone masked unless just
/// revealed, the tags the viewer may see.
fn person(
    state: &AppState,
    lang: Lang,
    v: &doorstep_services::register::people::HouseholdView,
    r: &doorstep_services::records::Resident,
    notice: &Notice,
    vault: &doorstep_services::vault::Vault,
    today: chrono::NaiveDate,
) -> serde_json::Value {
    let tr = |k: &str| state.i18n.t(lang, k);
    let shown = |field: &str| {
        notice
            .revealed
            .as_ref()
            .filter(|(rid, f, _)| *rid == r.id && *f == field)
            .map(|(_, _, value)| value.clone())
    };
    let id_masked = doorstep_services::register::id_number(vault, r)
        .ok()
        .flatten()
        .map(|x| mask_id_number(&x));
    let phone_masked = doorstep_services::register::phone(vault, r)
        .ok()
        .flatten()
        .map(|x| mask_phone(&x));
    let tags: Vec<serde_json::Value> = v
        .tags
        .iter()
        .filter(|t| t.resident_id == r.id)
        .map(|t| serde_json::json!({"label": tag_label(state, lang, &t.tag, &t.detail), "since": t.started_on.to_string(),
            "ended": t.ended_on.map(|d| d.to_string()), "note": t.note,
            "end_action": format!("/care/residents/{}/tags/{}/end", r.id, t.id)}))
        .collect();
    serde_json::json!({
        "id": r.id, "name": r.name,
        "age": r.birth_date.map(|b| doorstep_domain::people::age_on(b, today)),
        "sex": r.sex.map(|s| tr(&format!("sex.{s}"))),
        "residency": tr(&format!("residency.{}", r.residency)),
        "id_number": shown("id_number").or(id_masked.clone()),
        "id_revealed": shown("id_number").is_some(),
        "phone": shown("phone").or(phone_masked.clone()),
        "phone_revealed": shown("phone").is_some(),
        "has_secret": id_masked.is_some() || phone_masked.is_some(),
        "reveal_action": format!("/care/residents/{}/reveal", r.id),
        "tag_action": format!("/care/residents/{}/tags", r.id),
        "edit_href": format!("/care/residents/{}/edit", r.id),
        "tags": tags,
    })
}

pub(super) async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<HouseholdId>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, AppError> {
    let info = ["logged", "tagged", "untagged", "archived", "corrected"]
        .into_iter()
        .find(|k| q.contains_key(*k))
        .map(|k| state.i18n.t(user.lang, &format!("care.done_{k}")));
    render(
        &state,
        &user,
        id,
        Notice {
            info,
            ..Notice::default()
        },
        StatusCode::OK,
    )
    .await
}

/// `POST /care/households/{id}/visits`: the visit form (online; offline visits come
/// through the API when the connection returns).
pub(super) async fn visit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<HouseholdId>,
    form: FormData,
) -> Result<Response, AppError> {
    user.check_csrf(form.get("_csrf"))?;
    let get = |k: &str| form.get(k).map(str::to_string);
    let input = VisitInput {
        household_id: Some(id),
        kind: get("kind"),
        met: get("met"),
        notes: get("notes"),
        finding: get("finding"),
        visited_at: None,
        client_key: get("client_key"),
    };
    match log(&state.services, &user.caller(), &input).await {
        Ok(doorstep_services::register::visits::Logged {
            request: Some(r), ..
        }) => Ok(Redirect::to(&format!("/requests/{}?taken=1", r.id)).into_response()),
        Ok(_) => Ok(Redirect::to(&format!("/care/households/{id}?logged=1")).into_response()),
        Err(doorstep_services::Error::Validation(fe)) => {
            let error = Some(super::super::field_messages(&state, user.lang, &fe));
            render(
                &state,
                &user,
                id,
                Notice {
                    error,
                    ..Notice::default()
                },
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /care/residents/{id}/reveal`: an ID number or phone, with a reason, audited.
pub(super) async fn reveal(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<ResidentId>,
    form: FormData,
) -> Result<Response, AppError> {
    user.check_csrf(form.get("_csrf"))?;
    let r = doorstep_services::register::resident(&state.services, &user.caller(), id).await?;
    let (secret, field) = match form.get("field") {
        Some("id_number") => (Secret::ResidentIdNumber(id), "id_number"),
        Some("phone") => (Secret::ResidentPhone(id), "phone"),
        _ => return Err(AppError::validation("field", "invalid_choice")),
    };
    let Some(reason) = form.get("reason").and_then(RevealReason::parse) else {
        let error = Some(state.i18n.t(user.lang, "reveal.reason_required"));
        return render(
            &state,
            &user,
            r.household_id,
            Notice {
                error,
                ..Notice::default()
            },
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let value = reveal_secret(&state.services, &user.caller(), secret, reason).await?;
    let notice = Notice {
        revealed: Some((id, field, value)),
        ..Notice::default()
    };
    render(&state, &user, r.household_id, notice, StatusCode::OK).await
}

async fn resident_form(
    state: &AppState,
    user: &CurrentUser,
    raw: &BTreeMap<String, String>,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let lang: Lang = user.lang;
    let options =
        |codes: &[&str], prefix: &str| views::choice_options(&state.i18n, lang, codes, prefix);
    let sexes: Vec<SelectOption> = options(doorstep_domain::people::Sex::CODES, "sex.");
    let title = state.i18n.t(lang, "care.add_resident");
    let extra = context! {
        title => title.clone(), v => raw, error, sexes,
        residencies => options(Residency::CODES, "residency."),
    };
    Ok((
        status,
        page(
            state,
            lang,
            Some(user),
            "care/resident_form.html",
            &title,
            extra,
        )?,
    )
        .into_response())
}

pub(super) async fn new_resident(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, AppError> {
    state.services.vault()?;
    let building = q
        .get("building_id")
        .and_then(|b| b.parse().ok())
        .map(BuildingId);
    doorstep_services::register::people::may_add(&state.services, &user.caller(), building).await?;
    resident_form(&state, &user, &q, None, StatusCode::OK).await
}

pub(super) async fn add_resident(
    State(state): State<AppState>,
    user: CurrentUser,
    form: FormData,
) -> Result<Response, AppError> {
    user.check_csrf(form.get("_csrf"))?;
    let get = |k: &str| form.get(k).map(str::to_string);
    let building_id = match form.get("building_id").filter(|b| !b.is_empty()) {
        None => None,
        Some(b) => {
            Some(BuildingId(b.parse().map_err(|_| {
                AppError::validation("building_id", "not_integer")
            })?))
        }
    };
    let input = ResidentInput {
        building_id,
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
    match add(&state.services, &user.caller(), &input).await {
        Ok(r) => Ok(Redirect::to(&format!("/care/households/{}", r.household_id)).into_response()),
        Err(doorstep_services::Error::Validation(fe)) => {
            let error = Some(super::super::field_messages(&state, user.lang, &fe));
            resident_form(
                &state,
                &user,
                &form.raw(),
                error,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}
