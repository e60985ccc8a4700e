//! Pages for every kind of place, generic over the field descriptions: lists, a record
//! with what is under it, and archiving; the forms are in `form`.

mod form;

use super::{Saved, area_view, stat};
use crate::forms::FormData;
use crate::i18n::Lang;
use crate::params::{FromParams, PageQuery, Params};
use crate::render::page;
use crate::session::CurrentUser;
use crate::views::{self, Badge};
use crate::{AppError, AppState};
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use doorstep_domain::{Entity, FieldKind};
use doorstep_services::places::{self, Detail, PlaceQuery};
use minijinja::context;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/{table}", get(index).post(form::create))
        .route("/{table}/new", get(form::new_form))
        .route("/{table}/{id}", get(show).post(form::update))
        .route("/{table}/{id}/edit", get(form::edit_form))
        .route("/{table}/{id}/archive", post(archive))
}

fn entity_of(table: &str) -> Result<Entity, AppError> {
    Entity::from_table(table).ok_or(AppError::NotFound)
}

fn plural(state: &AppState, lang: Lang, e: Entity) -> String {
    state.i18n.t(lang, &format!("entity_plural.{}", e.code()))
}

fn singular(state: &AppState, lang: Lang, e: Entity) -> String {
    state.i18n.t(lang, &format!("entity.{}", e.code()))
}

#[derive(serde::Serialize)]
struct Crumb {
    href: String,
    label: String,
}

fn crumbs(trail: &[doorstep_services::records::PlaceRecord]) -> Vec<Crumb> {
    trail
        .iter()
        .map(|r| Crumb {
            href: views::ref_href(r.entity.table(), r.id),
            label: r.title(),
        })
        .collect()
}

/// A list's query: a search, archived records, the caller's own blocks, paging, and
/// reference filters (other parameters are ignored).
struct ListParams {
    q: Option<String>,
    archived: bool,
    mine: bool,
    page: Option<i64>,
    rest: Vec<(String, String)>,
}

impl FromParams for ListParams {
    fn from_params(p: &mut Params) -> Self {
        ListParams {
            q: p.text("q"),
            archived: p.text("archived").is_some(),
            mine: p.text("mine").is_some(),
            page: p.int("page"),
            rest: p.rest(),
        }
    }
}

/// The reference filters of a list (`?neighbourhood_id=3`): what to filter on, the form's
/// hidden fields and query that keep them, and breadcrumbs to the records they name.
struct RefFilters {
    filters: Vec<(String, i64)>,
    hidden: Vec<serde_json::Value>,
    base_query: Vec<String>,
    crumbs: Vec<Crumb>,
}

async fn ref_filters(
    state: &AppState,
    user: &CurrentUser,
    entity: Entity,
    rest: &[(String, String)],
) -> Result<RefFilters, AppError> {
    let mut out = RefFilters {
        filters: Vec::new(),
        hidden: Vec::new(),
        base_query: Vec::new(),
        crumbs: Vec::new(),
    };
    for (k, v) in rest {
        let Some(field) = places::filterable(entity, k) else {
            continue;
        };
        let id: i64 = v.parse().map_err(|_| AppError::BadRequest(k.clone()))?;
        out.filters.push((field.to_string(), id));
        out.hidden.push(serde_json::json!({"name": k, "value": v}));
        out.base_query.push(format!("{k}={id}"));
        if let Some(FieldKind::Ref(t)) = entity.field(k).map(|f| f.kind)
            && let Some(pe) = Entity::from_table(t)
            && let Some(r) = places::find_readable(&state.services, &user.actor, pe, id).await?
        {
            out.crumbs.push(Crumb {
                href: views::ref_href(t, id),
                label: r.title(),
            });
        }
    }
    Ok(out)
}

async fn index(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(table): Path<String>,
    PageQuery(p): PageQuery<ListParams>,
) -> Result<Response, AppError> {
    let entity = entity_of(&table)?;
    let sv = &state.services;
    let lang = user.lang;
    let (limit, offset) = views::paging(p.page, None);
    let RefFilters {
        filters,
        mut hidden,
        mut base_query,
        crumbs,
    } = ref_filters(&state, &user, entity, &p.rest).await?;
    let mine = p.mine && entity == Entity::Block;
    if mine {
        hidden.push(serde_json::json!({"name": "mine", "value": "1"}));
        base_query.push("mine=1".into());
    }
    if let Some(s) = &p.q {
        base_query.push(format!("q={}", views::url_encode(s)));
    }
    if p.archived {
        base_query.push("archived=1".into());
    }
    let q = PlaceQuery {
        filters,
        q: p.q.clone(),
        include_archived: p.archived,
        mine,
        limit,
        offset,
    };
    let page_data = places::list(sv, &user.actor, entity, &q).await?;
    let refs = places::references(sv, entity, &page_data.items).await?;
    let table_view = views::records_table(&state.i18n, lang, entity, &page_data.items, &refs, None);
    let base = base_query.join("&");
    let pager = views::Pager::new(
        page_data.total,
        limit,
        offset,
        page_data.items.len(),
        &format!("/{table}"),
        &base,
    );
    let may_create = places::may_create_somewhere(&user.actor, entity);
    let new_query = if base.is_empty() {
        String::new()
    } else {
        format!("?{base}")
    };
    let extra = context! {
        title => plural(&state, lang, entity),
        entity_label => singular(&state, lang, entity),
        crumbs,
        hidden,
        q => p.q.unwrap_or_default(),
        archived => p.archived,
        table => table_view,
        pager,
        create_href => may_create.then(|| format!("/{table}/new{new_query}")),
        api_href => format!("/api/v1/{table}"),
    };
    let title = plural(&state, lang, entity);
    Ok(page(
        &state,
        lang,
        Some(&user),
        "places/index.html",
        &title,
        extra,
    )?
    .into_response())
}

/// The lists under a record, as sections of its page.
fn sections(state: &AppState, lang: Lang, d: &Detail) -> Vec<serde_json::Value> {
    let id = d.record.id;
    d.children
        .iter()
        .map(|c| {
            let (child, fk) = (c.entity, c.link);
            let table = views::records_table(&state.i18n, lang, child, &c.page.items, &c.refs, Some(fk));
            serde_json::json!({
                "title": plural(state, lang, child),
                "entity_label": singular(state, lang, child),
                "table": table,
                "create_href": c.may_create.then(|| format!("/{}/new?{fk}={id}", child.table())),
                "more": (c.page.total > c.page.items.len() as i64).then(|| format!("/{}?{fk}={id}", child.table())),
                "more_label": state.i18n.t_args(lang, "list.see_all", &[c.page.total.to_string()]),
            })
        })
        .collect()
}

/// The figures of a record's page: totals of a subdistrict or neighbourhood, or a
/// station's areas.
fn figures(
    state: &AppState,
    lang: Lang,
    d: &Detail,
) -> (Vec<super::Stat>, Option<serde_json::Value>) {
    let mut stats = Vec::new();
    let mut areas = None;
    if let Some(t) = &d.totals {
        for (key, n) in [
            ("stat.estates", t.estates),
            ("stat.buildings", t.buildings),
            ("stat.households", t.households),
            ("stat.blocks", t.blocks),
            ("stat.rooms", t.rooms),
        ] {
            stats.push(stat(state, lang, key, n));
        }
        if t.office_m2 + t.service_m2 > 0.0 {
            areas = Some(area_view(state, lang, t.office_m2, t.service_m2, None));
        }
    }
    if let Some(a) = &d.station {
        stats.push(stat(state, lang, "stat.rooms", a.rooms));
        stats.push(stat(
            state,
            lang,
            "station.office_area_m2",
            views::format_num(a.office_m2),
        ));
        stats.push(stat(
            state,
            lang,
            "station.service_area_m2",
            views::format_num(a.service_m2),
        ));
        let before = d.record.get("office_area_before_m2").as_f64();
        areas = Some(area_view(state, lang, a.office_m2, a.service_m2, before));
    }
    (stats, areas)
}

async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((table, id)): Path<(String, i64)>,
    PageQuery(Saved(saved)): PageQuery<Saved>,
) -> Result<Response, AppError> {
    let entity = entity_of(&table)?;
    // A catalogue item reads as a guide; the record view is the admins' editor.
    if entity == Entity::ServiceItem && user.actor.role != doorstep_domain::Role::Admin {
        return Ok(Redirect::to(&format!("/catalogue/{id}")).into_response());
    }
    let lang = user.lang;
    let d = places::detail(&state.services, &user.actor, entity, id).await?;
    let record = &d.record;
    let mut fields: Vec<serde_json::Value> = entity
        .fields()
        .iter()
        .map(|f| {
            let (value, href) = views::display(&state.i18n, lang, f, record.get(f.name), &d.refs);
            serde_json::json!({"label": state.i18n.t(lang, &format!("field.{}", f.name)), "value": value, "href": href})
        })
        .collect();
    fields.push(serde_json::json!({"label": state.i18n.t(lang, "field.updated_at"), "value": views::local_time(record.updated_at)}));
    let (stats, areas) = figures(&state, lang, &d);
    let archiving = record.is_active();
    let archive = d.may_archive.then(|| {
        serde_json::json!({
            "action": format!("/{table}/{id}/archive"),
            "version": record.version,
            "value": if archiving { "true" } else { "false" },
            "label": state.i18n.t(lang, if archiving { "action.archive" } else { "action.restore" }),
            "confirm": state.i18n.t(lang, if archiving { "action.archive_confirm" } else { "action.restore_confirm" }),
        })
    });
    let badges: Vec<Badge> = views::badges(&state.i18n, lang, record);
    let title = format!("{} {}", singular(&state, lang, entity), record.title());
    let extra = context! {
        title => record.title(),
        badges,
        crumbs => crumbs(&d.trail),
        fields,
        sections => sections(&state, lang, &d),
        stats,
        areas,
        notice => saved.then(|| state.i18n.t(lang, "action.saved")),
        edit_href => (d.may_update && archiving).then(|| format!("/{table}/{id}/edit")),
        // Staff who take requests there book its rooms (the page checks again).
        bookings_href => (entity == Entity::Station && record.is_active() && user.actor.may_take_requests())
            .then(|| format!("/stations/{id}/bookings")),
        archive,
    };
    Ok(page(&state, lang, Some(&user), "places/show.html", &title, extra)?.into_response())
}

async fn archive(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((table, id)): Path<(String, i64)>,
    form: FormData,
) -> Result<Response, AppError> {
    let entity = entity_of(&table)?;
    user.check_csrf(form.get("_csrf"))?;
    let archive = form.get("archived") != Some("false");
    let version = form.version()?;
    places::archive(
        &state.services,
        &user.caller(),
        entity,
        id,
        version,
        archive,
    )
    .await?;
    Ok(Redirect::to(&format!("/{table}/{id}?saved=1")).into_response())
}
