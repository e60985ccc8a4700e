//! Home: the signed-in user's scope at a glance (to sign-in or setup for others).

use super::{Section, area_view, stat};
use crate::render::page;
use crate::session::MaybeUser;
use crate::views;
use crate::{AppError, AppState};
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use doorstep_domain::requests::Inbox;
use doorstep_domain::{Actor, Entity, NeighbourhoodId, Role, Scope};
use doorstep_services::requests::day::day;
use doorstep_services::{places, signin};
use minijinja::context;

pub fn routes() -> Router<AppState> {
    Router::new().route("/", get(home))
}

async fn home(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    headers: axum::http::HeaderMap,
) -> Result<Response, AppError> {
    let sv = &state.services;
    let Some(user) = user else {
        if state.setup_token().is_some() && signin::needs_setup(sv).await? {
            return Ok(Redirect::to("/setup").into_response());
        }
        // A resident lands here, not on the staff sign-in: what they can do, one tap away.
        let lang = crate::i18n::negotiate(&headers, false);
        let title = state.i18n.t(lang, "welcome.title");
        let extra = context! { title => title.clone() };
        return Ok(page(&state, lang, None, "welcome.html", &title, extra)?.into_response());
    };
    let lang = user.lang;
    let actor = &user.actor;
    let (scope, scope_record) = places::home_scope(sv, actor).await?;
    let (totals, _) = places::figures(sv, scope).await?;
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
    for (key, n) in [
        ("stat.estates", totals.estates),
        ("stat.buildings", totals.buildings),
        ("stat.households", totals.households),
        ("stat.blocks", totals.blocks),
        ("stat.stations", totals.stations),
        ("stat.rooms", totals.rooms),
    ] {
        stats.push(stat(&state, lang, key, n));
    }
    let areas = (totals.office_m2 + totals.service_m2 > 0.0)
        .then(|| area_view(&state, lang, totals.office_m2, totals.service_m2, None));
    let sections = vec![section(&state, lang, actor, scope).await?];
    let day = day_view(&state, &user).await?;
    let blocks_in_mind = blocks_in_mind(&state, &user).await?;
    let heading = state.i18n.t_args(
        lang,
        "home.welcome",
        std::slice::from_ref(&user.account.display_name),
    );
    let scope_label = scope_record.title();
    let extra = context! { heading, scope_label, stats, areas, sections, day, blocks_in_mind };
    let title = state.i18n.t(lang, "nav.home");
    Ok(page(&state, lang, Some(&user), "home.html", &title, extra)?.into_response())
}

/// A worker's blocks in mind (心中有数): the seed's groups counted, and how many households
/// are overdue or due a visit within the week; each a link to the block.
async fn blocks_in_mind(
    state: &AppState,
    user: &crate::session::CurrentUser,
) -> Result<Vec<serde_json::Value>, AppError> {
    let lang = user.lang;
    let rows =
        doorstep_services::register::block::summaries(&state.services, &user.caller()).await?;
    Ok(rows
        .iter()
        .map(|b| {
            let counts: Vec<serde_json::Value> = super::care::SEED_ORDER
                .iter()
                .map(|t| {
                    let n = b.counts.iter().find(|(c, _)| c == t.code()).map_or(0, |(_, n)| *n);
                    serde_json::json!({"label": state.i18n.t(lang, &format!("care_tag.{t}")), "count": n})
                })
                .collect();
            serde_json::json!({"href": format!("/care/blocks/{}", b.block.id), "name": b.block.title(), "counts": counts,
                "due": state.i18n.t_args(lang, "care.home_due", &[b.overdue.to_string(), b.due_soon.to_string()]),
                "overdue": b.overdue > 0})
        })
        .collect())
}

/// The day's work: the boxes to do now (each a link to its list), the newest requests,
/// and for the subdistrict each neighbourhood's queue.
async fn day_view(
    state: &AppState,
    user: &crate::session::CurrentUser,
) -> Result<serde_json::Value, AppError> {
    let lang = user.lang;
    let tr = |k: &str| state.i18n.t(lang, k);
    let day = day(&state.services, &user.caller()).await?;
    if !user.actor.may_take_requests() {
        return Ok(serde_json::Value::Null);
    }
    let now = state.services.now();
    let boxes: Vec<serde_json::Value> = day
        .boxes
        .iter()
        .map(|b| {
            let urgent = b.count > 0 && matches!(b.inbox, Inbox::Overdue | Inbox::NewReports);
            serde_json::json!({"href": format!("/requests?box={}", b.inbox), "label": tr(&format!("request.box.{}", b.inbox)),
                "count": b.count, "urgent": urgent, "code": b.inbox.code()})
        })
        .collect();
    let newest: Vec<serde_json::Value> = day
        .newest
        .iter()
        .map(|r| super::requests::inbox::card(state, lang, r, now))
        .collect();
    let queues: Vec<serde_json::Value> = day
        .queues
        .iter()
        .map(|q| {
            let href = |b: &str| format!("/requests?box={b}&neighbourhood_id={}", q.queue.neighbourhood_id);
            serde_json::json!({"name": q.name, "open": q.queue.open, "overdue": q.queue.overdue,
                "new_reports": q.queue.new_reports, "follow_up": q.queue.follow_up,
                "href": href("open"), "overdue_href": href("overdue"), "new_href": href("new_reports"),
                "follow_href": href("follow_up")})
        })
        .collect();
    Ok(serde_json::json!({"boxes": boxes, "newest": newest, "queues": queues}))
}

/// The table under the figures: every neighbourhood with its station's office share for
/// admins, a worker's blocks, the estates of a neighbourhood for everyone else.
async fn section(
    state: &AppState,
    lang: crate::i18n::Lang,
    actor: &Actor,
    scope: Scope,
) -> Result<Section, AppError> {
    let sv = &state.services;
    let tr = |k: &str| state.i18n.t(lang, k);
    let (entity, title, skip, records) = match actor.role {
        Role::Admin => {
            let nbs = places::all_in(sv, Entity::Neighbourhood, scope).await?;
            (Entity::Neighbourhood, tr("home.neighbourhoods"), None, nbs)
        }
        Role::Worker => {
            let q = places::PlaceQuery {
                mine: true,
                limit: i64::MAX / 2,
                ..Default::default()
            };
            let blocks = places::list(sv, actor, Entity::Block, &q).await?.items;
            (Entity::Block, tr("home.my_blocks"), None, blocks)
        }
        _ => {
            let estates = places::all_in(sv, Entity::Estate, scope).await?;
            (
                Entity::Estate,
                tr("entity_plural.estate"),
                Some("neighbourhood_id"),
                estates,
            )
        }
    };
    let refs = places::references(sv, entity, &records).await?;
    let mut table = views::records_table(&state.i18n, lang, entity, &records, &refs, skip);
    if actor.role == Role::Admin {
        // Every neighbourhood with its station's office share: the upgrade's key figure.
        let stations = places::all_in(sv, Entity::Station, scope).await?;
        let (_, areas) = places::figures(sv, scope).await?;
        table.headers.push(views::Header {
            label: tr("station.office_share"),
            num: true,
        });
        for (row, nb) in table.rows.iter_mut().zip(&records) {
            let share = stations
                .iter()
                .find(|s| s.neighbourhood_id == Some(NeighbourhoodId(nb.id)))
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
    }
    Ok(Section {
        title,
        table,
        more: None,
    })
}
