//! A worker's blocks and one block in mind.

use super::SEED_ORDER;
use crate::render::page;
use crate::session::CurrentUser;
use crate::views;
use crate::{AppError, AppState};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use doorstep_services::register::block::{block, my_blocks};
use minijinja::context;

/// `GET /care`: the blocks the caller knows, each a link.
pub(super) async fn index(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Response, AppError> {
    let blocks = my_blocks(&state.services, &user.caller()).await?;
    let secretary = user.actor.role == doorstep_domain::Role::Secretary;
    if let ([only], false) = (blocks.as_slice(), secretary) {
        // A worker with one block goes straight to it.
        return Ok(
            axum::response::Redirect::to(&format!("/care/blocks/{}", only.id)).into_response(),
        );
    }
    let items: Vec<serde_json::Value> = blocks
        .iter()
        .map(|b| serde_json::json!({"href": format!("/care/blocks/{}", b.id), "name": b.title()}))
        .collect();
    let title = state.i18n.t(user.lang, "care.title");
    let may_import = user.actor.may_import_roster();
    let overview = if user.actor.may_see_care_overview() {
        overview_rows(
            &state,
            user.actor.role == doorstep_domain::Role::Admin,
            &user,
        )
        .await?
    } else {
        Vec::new()
    };
    let tags: Vec<String> = SEED_ORDER
        .iter()
        .map(|t| state.i18n.t(user.lang, &format!("care_tag.{}", t.code())))
        .collect();
    let extra = context! { title => title.clone(), blocks => items, may_import, overview, tags,
    is_admin => user.actor.role == doorstep_domain::Role::Admin,
    is_secretary => user.actor.role == doorstep_domain::Role::Secretary,
    reveal_reasons => views::choice_options(&state.i18n, user.lang,
        doorstep_domain::audit::RevealReason::CODES, "reveal.reason.") };
    Ok(page(
        &state,
        user.lang,
        Some(&user),
        "care/index.html",
        &title,
        extra,
    )?
    .into_response())
}

/// Each neighbourhood's coverage (households visited in 30 / 90 days) and its residents by
/// the seed's groups; for the subdistrict (`small`), counts under five as "<5".
async fn overview_rows(
    state: &AppState,
    small: bool,
    user: &CurrentUser,
) -> Result<Vec<serde_json::Value>, AppError> {
    let rows =
        doorstep_services::register::overview::overview(&state.services, &user.caller()).await?;
    let shown = |n: i64| {
        if small {
            doorstep_domain::people::small_count(n)
        } else {
            n.to_string()
        }
    };
    let pct = |part: i64, whole: i64| {
        if whole == 0 {
            "—".to_string()
        } else {
            format!("{:.0}%", part as f64 * 100.0 / whole as f64)
        }
    };
    Ok(rows
        .iter()
        .map(|(name, o)| {
            let counts: Vec<String> = SEED_ORDER
                .iter()
                .map(|t| shown(o.counts.get(t.code()).copied().unwrap_or(0)))
                .collect();
            serde_json::json!({"name": name, "households": o.households,
                "v30": pct(o.visited_30, o.households), "v90": pct(o.visited_90, o.households),
                "counts": counts})
        })
        .collect())
}

/// `GET /care/blocks/{id}`: counts by the seed's groups, who is due a visit, buildings and
/// households.
pub(super) async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let lang = user.lang;
    let tr = |k: &str| state.i18n.t(lang, k);
    let v = block(&state.services, &user.caller(), id).await?;
    let now = state.services.now();
    let count_of = |code: &str| {
        v.counts
            .iter()
            .find(|(t, _)| t == code)
            .map_or(0, |(_, n)| *n)
    };
    let counts: Vec<serde_json::Value> = SEED_ORDER
        .iter()
        .map(|t| serde_json::json!({"label": tr(&format!("care_tag.{t}")), "count": count_of(t.code()), "code": t.code()}))
        .collect();
    let labels: std::collections::HashMap<i64, &str> = v
        .buildings
        .iter()
        .map(|b| (b.building.id, b.label.as_str()))
        .collect();
    let due: Vec<serde_json::Value> = v
        .due
        .iter()
        .map(|d| {
            let building = labels.get(&d.building.get()).copied().unwrap_or_default();
            serde_json::json!({"href": format!("/care/households/{}", d.household), "label": format!("{building} {}", d.room),
                "tag": super::household::tag_label(&state, lang, &d.tag, &serde_json::Value::Null), "due": views::local_time(d.due_at),
                "overdue": d.due_at < now,
                "last": d.last_visit.map(views::local_time).unwrap_or_else(|| tr("care.never_visited"))})
        })
        .collect();
    let buildings: Vec<serde_json::Value> = v
        .buildings
        .iter()
        .map(|b| {
            serde_json::json!({"href": format!("/care/blocks/{id}/buildings/{}", b.building.id),
                "label": b.label, "households": b.households, "people": b.people})
        })
        .collect();
    let recent: Vec<serde_json::Value> = v
        .recent
        .iter()
        .map(|r| {
            let words: String = r.description.chars().take(40).collect();
            serde_json::json!({"href": format!("/requests/{}", r.id), "words": words,
                "state": tr(&format!("request.state.{}", r.workflow.state.code())),
                "at": views::local_time(r.created_at)})
        })
        .collect();
    let title = v.block.title();
    let extra = context! {
        title => title.clone(), counts, due, buildings, recent, due_later => v.due_later,
        due_ahead => doorstep_services::register::block::DUE_AHEAD_DAYS,
        worker => v.worker_name.clone().unwrap_or_else(|| "—".into()),
        residents => v.people,
    };
    let mut res =
        page(&state, lang, Some(&user), "care/block.html", &title, extra)?.into_response();
    res.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static(super::KEEP_ON_PHONE),
    );
    Ok(res)
}

/// `GET /care/blocks/{id}/buildings/{building}`: a building's households, each with its
/// people and last visit, and the way to add a resident.
pub(super) async fn building_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, building_id)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    let lang = user.lang;
    let tr = |k: &str| state.i18n.t(lang, k);
    let v = doorstep_services::register::block::building(
        &state.services,
        &user.caller(),
        id,
        building_id,
    )
    .await?;
    let households: Vec<serde_json::Value> = v
        .households
        .iter()
        .map(|s| {
            serde_json::json!({"href": format!("/care/households/{}", s.household.id),
                "room": s.household.room_label(), "people": s.people,
                "last": s.last_visit.map(views::local_time).unwrap_or_else(|| tr("care.never_visited"))})
        })
        .collect();
    let title = v.label.clone();
    let extra = context! {
        title => title.clone(), households,
        block => serde_json::json!({"href": format!("/care/blocks/{id}"), "name": v.block.title()}),
        add_href => format!("/care/residents/new?building_id={}", v.building.id),
    };
    let mut res = page(
        &state,
        lang,
        Some(&user),
        "care/building.html",
        &title,
        extra,
    )?
    .into_response();
    res.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static(super::KEEP_ON_PHONE),
    );
    Ok(res)
}
