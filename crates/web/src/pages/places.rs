//! Pages for every kind of place, generic over the field descriptions.

use super::{FormData, area_view, stat};
use crate::auth::CurrentUser;
use crate::i18n::Lang;
use crate::render::page;
use crate::views::{self, Badge, RefOptions, SelectOption};
use crate::{AppError, AppState};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use doorstep_domain::policy::{Action, Decision, Place};
use doorstep_domain::{Actor, Entity, FieldErrors, FieldKind, Role, Scope, Value, Values};
use doorstep_store::{ListQuery, PlaceRecord, StoreError};
use minijinja::context;
use std::collections::{BTreeMap, HashMap};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/{table}", get(index).post(create))
        .route("/{table}/new", get(new_form))
        .route("/{table}/{id}", get(show).post(update))
        .route("/{table}/{id}/edit", get(edit_form))
        .route("/{table}/{id}/archive", post(archive))
}

fn entity_of(table: &str) -> Result<Entity, AppError> {
    Entity::from_table(table).ok_or(AppError::NotFound)
}

pub(crate) fn check(decision: Decision) -> Result<(), AppError> {
    match decision {
        Decision::Allow => Ok(()),
        Decision::Forbidden => Err(AppError::Forbidden),
        Decision::Hidden => Err(AppError::NotFound),
    }
}

/// The record, if the actor may read it.
pub(crate) async fn readable(
    state: &AppState,
    actor: &Actor,
    entity: Entity,
    id: i64,
) -> Result<PlaceRecord, AppError> {
    let r = state.store.get_place(entity, id).await?;
    check(actor.may(Action::Read, entity, r.place()))?;
    Ok(r)
}

/// The field of `child` that points at `parent` (e.g. `block_id` of a building).
fn link_field(child: Entity, parent: Entity) -> Option<&'static str> {
    child
        .fields()
        .iter()
        .find(|f| f.kind == FieldKind::Ref(parent.table()))
        .map(|f| f.name)
}

fn plural(state: &AppState, lang: Lang, e: Entity) -> String {
    state.i18n.t(lang, &format!("entity_plural.{}", e.name()))
}
fn singular(state: &AppState, lang: Lang, e: Entity) -> String {
    state.i18n.t(lang, &format!("entity.{}", e.name()))
}

#[derive(serde::Serialize)]
struct Crumb {
    href: String,
    label: String,
}

/// The trail from the subdistrict down to (not including) `record`.
async fn crumbs(
    state: &AppState,
    actor: &Actor,
    record: &PlaceRecord,
) -> Result<Vec<Crumb>, AppError> {
    let mut out = Vec::new();
    let mut cur = record
        .entity
        .parent()
        .and_then(|(pe, fk)| record.get(fk).as_i64().map(|id| (pe, id)));
    while let Some((e, id)) = cur {
        let Some(r) = state.store.find_place(e, id).await? else {
            break;
        };
        if actor.may(Action::Read, e, r.place()) == Decision::Allow {
            out.push(Crumb {
                href: views::ref_href(e.table(), id),
                label: r.title(),
            });
        }
        cur = e
            .parent()
            .and_then(|(pe, fk)| r.get(fk).as_i64().map(|id| (pe, id)));
    }
    out.reverse();
    Ok(out)
}

#[derive(serde::Deserialize, Default)]
pub struct ListParams {
    q: Option<String>,
    archived: Option<String>,
    page: Option<i64>,
    per_page: Option<i64>,
    mine: Option<String>,
    #[serde(flatten)]
    rest: HashMap<String, String>,
}

async fn index(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(table): Path<String>,
    Query(p): Query<ListParams>,
) -> Result<Response, AppError> {
    let entity = entity_of(&table)?;
    let lang = user.lang;
    let (limit, offset) = views::paging(p.page, p.per_page);
    let mut q = ListQuery::new(user.actor.list_scope(entity));
    q.limit = limit;
    q.offset = offset;
    q.q = p.q.clone();
    q.include_archived = p.archived.is_some();
    let mut hidden = Vec::new();
    let mut base_query = Vec::new();
    let mut crumbs = Vec::new();
    for (k, v) in &p.rest {
        let is_ref = matches!(entity.field(k).map(|f| f.kind), Some(FieldKind::Ref(_)));
        if !(is_ref || (k == "neighbourhood_id" && entity.in_neighbourhood())) {
            continue;
        }
        let id: i64 = v.parse().map_err(|_| AppError::BadRequest(k.clone()))?;
        q = q.filter(k, Value::Int(id));
        hidden.push(serde_json::json!({"name": k, "value": v}));
        base_query.push(format!("{k}={id}"));
        if let Some(FieldKind::Ref(t)) = entity.field(k).map(|f| f.kind)
            && let Some(pe) = Entity::from_table(t)
            && let Some(r) = state.store.find_place(pe, id).await?
            && user.actor.may(Action::Read, pe, r.place()) == Decision::Allow
        {
            crumbs.push(Crumb {
                href: views::ref_href(t, id),
                label: r.title(),
            });
        }
    }
    if p.mine.is_some() && entity == Entity::Block {
        q = q.filter("worker_id", Value::Int(user.account.id));
        hidden.push(serde_json::json!({"name": "mine", "value": "1"}));
        base_query.push("mine=1".into());
    }
    if let Some(s) = p.q.as_deref().filter(|s| !s.is_empty()) {
        base_query.push(format!("q={}", views::url_encode(s)));
    }
    if q.include_archived {
        base_query.push("archived=1".into());
    }
    let page_data = state.store.list_places(entity, &q).await?;
    let refs = views::load_refs(&state.store, entity, &page_data.items).await?;
    let table_view = views::records_table(&state.i18n, lang, entity, &page_data.items, &refs, None);
    let pager = views::Pager::new(
        page_data.total,
        limit,
        offset,
        page_data.items.len(),
        &format!("/{table}"),
        &base_query.join("&"),
    );
    let may_create = may_create_somewhere(&user.actor, entity);
    let extra = context! {
        title => plural(&state, lang, entity),
        entity_label => singular(&state, lang, entity),
        crumbs,
        hidden,
        q => p.q.unwrap_or_default(),
        archived => q.include_archived,
        table => table_view,
        pager,
        create_href => may_create.then(|| format!("/{table}/new{}", if base_query.is_empty() { String::new() } else { format!("?{}", base_query.join("&")) })),
        api_href => format!("/api/v1/{table}"),
    };
    Ok(page(
        &state,
        lang,
        Some(&user),
        "places/index.html",
        &plural(&state, lang, entity),
        extra,
    )?
    .into_response())
}

fn may_create_somewhere(actor: &Actor, entity: Entity) -> bool {
    match actor.role {
        Role::Admin => entity != Entity::Subdistrict,
        Role::Secretary => entity.in_neighbourhood(),
        _ => false,
    }
}

#[derive(serde::Deserialize)]
pub struct ShowParams {
    saved: Option<String>,
}

async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((table, id)): Path<(String, i64)>,
    Query(sp): Query<ShowParams>,
) -> Result<Response, AppError> {
    let entity = entity_of(&table)?;
    let lang = user.lang;
    let actor = &user.actor;
    let record = readable(&state, actor, entity, id).await?;
    let refs = views::load_refs(&state.store, entity, std::slice::from_ref(&record)).await?;
    let mut fields: Vec<serde_json::Value> = entity
        .fields()
        .iter()
        .map(|f| {
            let (value, href) = views::display(&state.i18n, lang, f, record.get(f.name), &refs);
            serde_json::json!({"label": state.i18n.t(lang, &format!("field.{}", f.name)), "value": value, "href": href})
        })
        .collect();
    fields.push(serde_json::json!({"label": state.i18n.t(lang, "field.updated_at"), "value": views::local_time(record.updated_at)}));

    let mut sections = Vec::new();
    for child in entity.children() {
        let Some(fk) = link_field(*child, entity) else {
            continue;
        };
        let mut q = ListQuery::new(actor.list_scope(*child)).filter(fk, Value::Int(id));
        q.limit = 200;
        if actor.may(Action::Read, *child, child_place(&record, *child)) != Decision::Allow {
            continue;
        }
        let items = state.store.list_places(*child, &q).await?;
        let crefs = views::load_refs(&state.store, *child, &items.items).await?;
        let table_view =
            views::records_table(&state.i18n, lang, *child, &items.items, &crefs, Some(fk));
        let may_create = record.archived_at.is_none()
            && child.parent().map(|(p, _)| p) == Some(entity)
            && actor.may(Action::Create, *child, child_place(&record, *child)) == Decision::Allow;
        sections.push(serde_json::json!({
            "title": plural(&state, lang, *child),
            "entity_label": singular(&state, lang, *child),
            "table": table_view,
            "create_href": may_create.then(|| format!("/{}/new?{fk}={id}", child.table())),
            "more": (items.total > items.items.len() as i64).then(|| format!("/{}?{fk}={id}", child.table())),
            "more_label": state.i18n.t_args(lang, "list.see_all", &[items.total.to_string()]),
        }));
    }

    let mut stats = Vec::new();
    let mut areas = None;
    match entity {
        Entity::Neighbourhood | Entity::Subdistrict => {
            let scope = if entity == Entity::Subdistrict {
                Scope::Subdistrict(id)
            } else {
                Scope::Neighbourhood {
                    subdistrict_id: record.subdistrict_id,
                    neighbourhood_id: id,
                }
            };
            let t = state.store.place_totals(scope).await?;
            stats.push(stat(&state, lang, "stat.estates", t.estates));
            stats.push(stat(&state, lang, "stat.buildings", t.buildings));
            stats.push(stat(&state, lang, "stat.households", t.households));
            stats.push(stat(&state, lang, "stat.blocks", t.blocks));
            stats.push(stat(&state, lang, "stat.rooms", t.rooms));
            if t.office_m2 + t.service_m2 > 0.0 {
                areas = Some(area_view(&state, lang, t.office_m2, t.service_m2, None));
            }
        }
        Entity::Station => {
            let scope = Scope::Neighbourhood {
                subdistrict_id: record.subdistrict_id,
                neighbourhood_id: record.neighbourhood_id.unwrap_or_default(),
            };
            let a = state
                .store
                .room_areas(scope)
                .await?
                .into_iter()
                .find(|a| a.station_id == id)
                .unwrap_or_default();
            stats.push(stat(&state, lang, "stat.rooms", a.rooms));
            stats.push(stat(
                &state,
                lang,
                "station.office_area_m2",
                views::format_num(a.office_m2),
            ));
            stats.push(stat(
                &state,
                lang,
                "station.service_area_m2",
                views::format_num(a.service_m2),
            ));
            areas = Some(area_view(
                &state,
                lang,
                a.office_m2,
                a.service_m2,
                record.get("office_area_before_m2").as_f64(),
            ));
        }
        _ => {}
    }

    let may_update = actor.may(Action::Update, entity, record.place()) == Decision::Allow;
    let may_archive = actor.may(Action::Archive, entity, record.place()) == Decision::Allow;
    let archiving = record.archived_at.is_none();
    let archive = may_archive.then(|| {
        serde_json::json!({
            "action": format!("/{table}/{id}/archive"),
            "version": record.version,
            "value": if archiving { "true" } else { "false" },
            "label": state.i18n.t(lang, if archiving { "action.archive" } else { "action.restore" }),
            "confirm": state.i18n.t(lang, if archiving { "action.archive_confirm" } else { "action.restore_confirm" }),
        })
    });
    let badges: Vec<Badge> = views::badges(&state.i18n, lang, &record);
    let title = format!("{} {}", singular(&state, lang, entity), record.title());
    let extra = context! {
        title => record.title(),
        badges,
        crumbs => crumbs(&state, actor, &record).await?,
        fields,
        sections,
        stats,
        areas,
        notice => sp.saved.map(|_| state.i18n.t(lang, "action.saved")),
        edit_href => (may_update && record.archived_at.is_none()).then(|| format!("/{table}/{id}/edit")),
        archive,
    };
    Ok(page(&state, lang, Some(&user), "places/show.html", &title, extra)?.into_response())
}

/// Where a child of `parent` would sit.
pub(crate) fn child_place(parent: &PlaceRecord, child: Entity) -> Place {
    Place {
        subdistrict_id: parent.subdistrict_id,
        neighbourhood_id: if child.in_neighbourhood() || child == Entity::Neighbourhood {
            parent.neighbourhood_id
        } else {
            None
        },
    }
}

/// Choices for the reference fields of a form, limited to what the actor may use.
async fn ref_options(
    state: &AppState,
    actor: &Actor,
    entity: Entity,
    neighbourhood: Option<i64>,
) -> Result<RefOptions, AppError> {
    let mut out = RefOptions::new();
    for spec in entity.fields() {
        let FieldKind::Ref(table) = spec.kind else {
            continue;
        };
        let options: Vec<SelectOption> = if table == "accounts" {
            let page = state
                .store
                .list_accounts(
                    actor.subdistrict_id,
                    neighbourhood.or(actor.neighbourhood_id),
                    Some(Role::Worker),
                    None,
                    500,
                    0,
                )
                .await?;
            page.items
                .into_iter()
                .filter(|a| !a.disabled)
                .map(|a| SelectOption {
                    value: a.id.to_string(),
                    label: format!("{} ({})", a.display_name, a.username),
                })
                .collect()
        } else if let Some(target) = Entity::from_table(table) {
            let scope = match (
                neighbourhood,
                target.in_neighbourhood() || target == Entity::Neighbourhood,
            ) {
                (Some(nb), true) => Scope::Neighbourhood {
                    subdistrict_id: actor.subdistrict_id,
                    neighbourhood_id: nb,
                },
                _ => match actor.role {
                    Role::Admin => Scope::Subdistrict(actor.subdistrict_id),
                    _ => match actor.neighbourhood_id {
                        Some(nb)
                            if target.in_neighbourhood() || target == Entity::Neighbourhood =>
                        {
                            Scope::Neighbourhood {
                                subdistrict_id: actor.subdistrict_id,
                                neighbourhood_id: nb,
                            }
                        }
                        _ => Scope::Subdistrict(actor.subdistrict_id),
                    },
                },
            };
            let items = state
                .store
                .list_places(target, &ListQuery::new(scope).all())
                .await?;
            items
                .items
                .into_iter()
                .map(|r| SelectOption {
                    value: r.id.to_string(),
                    label: r.title(),
                })
                .collect()
        } else {
            Vec::new()
        };
        out.insert(spec.name, options);
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
async fn render_form(
    state: &AppState,
    user: &CurrentUser,
    entity: Entity,
    record: Option<&PlaceRecord>,
    raw: &BTreeMap<String, String>,
    errors: &FieldErrors,
    error: Option<String>,
    neighbourhood: Option<i64>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let lang = user.lang;
    let options = ref_options(state, &user.actor, entity, neighbourhood).await?;
    let fields = views::form_fields(
        &state.i18n,
        lang,
        entity.fields(),
        raw,
        errors,
        &options,
        record.is_some(),
    );
    let (title, action, cancel, crumbs) = match record {
        Some(r) => (
            state.i18n.t_args(
                lang,
                "action.edit_title",
                &[singular(state, lang, entity), r.title()],
            ),
            format!("/{}/{}", entity.table(), r.id),
            format!("/{}/{}", entity.table(), r.id),
            crumbs(state, &user.actor, r).await?,
        ),
        None => (
            state
                .i18n
                .t_args(lang, "action.create", &[singular(state, lang, entity)]),
            format!("/{}", entity.table()),
            format!("/{}", entity.table()),
            Vec::new(),
        ),
    };
    let error = error
        .or_else(|| (!errors.is_empty()).then(|| state.i18n.t(lang, "error.validation_failed")));
    let extra = context! {
        fields, title => title.clone(), action, cancel, crumbs, error,
        version => record.map(|r| r.version),
        submit => state.i18n.t(lang, "action.save"),
    };
    Ok((
        status,
        page(state, lang, Some(user), "form.html", &title, extra)?,
    )
        .into_response())
}

async fn new_form(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(table): Path<String>,
    Query(p): Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let entity = entity_of(&table)?;
    if !may_create_somewhere(&user.actor, entity) {
        return Err(AppError::Forbidden);
    }
    let mut raw: BTreeMap<String, String> = BTreeMap::new();
    let mut neighbourhood = user.actor.neighbourhood_id;
    if let Some((parent, fk)) = entity.parent() {
        if let Some(id) = p.get(fk).and_then(|v| v.parse::<i64>().ok()) {
            let pr = readable(&state, &user.actor, parent, id).await?;
            check(
                user.actor
                    .may(Action::Create, entity, child_place(&pr, entity)),
            )?;
            neighbourhood = pr.neighbourhood_id.or(neighbourhood);
            raw.insert(fk.to_string(), id.to_string());
        } else if entity == Entity::Community {
            raw.insert(fk.to_string(), user.actor.subdistrict_id.to_string());
        }
    }
    if entity == Entity::Room {
        raw.insert("kind".into(), "activity".into());
    }
    render_form(
        &state,
        &user,
        entity,
        None,
        &raw,
        &FieldErrors::new(),
        None,
        neighbourhood,
        StatusCode::OK,
    )
    .await
}

/// Unticked checkboxes send nothing: count them as "no".
fn with_unticked(entity: Entity, form: &FormData) -> serde_json::Map<String, serde_json::Value> {
    let mut map = form.0.clone();
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

/// Maps store errors on a form to field errors where they belong to fields.
fn form_error(
    state: &AppState,
    lang: Lang,
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
            if fe.is_empty() {
                return Ok((
                    fe,
                    Some(state.i18n.t(lang, "error.duplicate")),
                    StatusCode::CONFLICT,
                ));
            }
            Ok((fe, None, StatusCode::CONFLICT))
        }
        AppError::Conflict { code, .. } => Ok((
            FieldErrors::new(),
            Some(state.i18n.t(lang, &format!("error.{code}"))),
            StatusCode::CONFLICT,
        )),
        other => Err(other),
    }
}

async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(table): Path<String>,
    form: FormData,
) -> Result<Response, AppError> {
    let entity = entity_of(&table)?;
    user.check_csrf(form.get("_csrf"))?;
    if !may_create_somewhere(&user.actor, entity) {
        return Err(AppError::Forbidden);
    }
    let input = with_unticked(entity, &form);
    let result = async {
        let values = doorstep_domain::validate(entity.fields(), &input, None, &[])?;
        let parent = state.store.parent_place(entity, &values).await?;
        let place = match &parent {
            Some(p) => child_place(p, entity),
            None => {
                return Err(AppError::validation(
                    entity.parent().map(|(_, fk)| fk).unwrap_or("parent"),
                    "invalid_reference",
                ));
            }
        };
        check(user.actor.may(Action::Create, entity, place))?;
        Ok::<_, AppError>(
            state
                .store
                .create_place(entity, &values, &user.ctx(&state))
                .await?,
        )
    }
    .await;
    match result {
        Ok(r) => Ok(Redirect::to(&format!("/{table}/{}?saved=1", r.id)).into_response()),
        Err(e) => {
            let (fe, msg, status) = form_error(&state, user.lang, e)?;
            render_form(
                &state,
                &user,
                entity,
                None,
                &form.raw(),
                &fe,
                msg,
                user.actor.neighbourhood_id,
                status,
            )
            .await
        }
    }
}

async fn edit_form(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((table, id)): Path<(String, i64)>,
) -> Result<Response, AppError> {
    let entity = entity_of(&table)?;
    let record = readable(&state, &user.actor, entity, id).await?;
    check(user.actor.may(Action::Update, entity, record.place()))?;
    let raw = views::raw_values(&record.values);
    render_form(
        &state,
        &user,
        entity,
        Some(&record),
        &raw,
        &FieldErrors::new(),
        None,
        record.neighbourhood_id,
        StatusCode::OK,
    )
    .await
}

/// Validates a change against the current values (merged) — shared with the API.
pub(crate) fn merged(
    entity: Entity,
    input: &serde_json::Map<String, serde_json::Value>,
    current: &PlaceRecord,
) -> Result<Values, StoreError> {
    doorstep_domain::validate(entity.fields(), input, Some(&current.values), &["version"])
        .map_err(StoreError::from)
}

async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((table, id)): Path<(String, i64)>,
    form: FormData,
) -> Result<Response, AppError> {
    let entity = entity_of(&table)?;
    user.check_csrf(form.get("_csrf"))?;
    let record = readable(&state, &user.actor, entity, id).await?;
    check(user.actor.may(Action::Update, entity, record.place()))?;
    let input = with_unticked(entity, &form);
    let version = form.version()?;
    let result = state
        .store
        .update_place(entity, id, version, &user.ctx(&state), |cur| {
            merged(entity, &input, cur)
        })
        .await
        .map_err(AppError::from);
    match result {
        Ok(r) => Ok(Redirect::to(&format!("/{table}/{}?saved=1", r.id)).into_response()),
        Err(AppError::Conflict {
            code: "version_conflict",
            ..
        }) => {
            // Show what was typed, against the newest version, so a second save is a
            // deliberate overwrite.
            let latest = state.store.get_place(entity, id).await?;
            let msg = state.i18n.t(user.lang, "error.version_conflict");
            let mut raw = views::raw_values(&latest.values);
            raw.extend(form.raw());
            render_form(
                &state,
                &user,
                entity,
                Some(&latest),
                &raw,
                &FieldErrors::new(),
                Some(msg),
                latest.neighbourhood_id,
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => {
            let (fe, msg, status) = form_error(&state, user.lang, e)?;
            render_form(
                &state,
                &user,
                entity,
                Some(&record),
                &form.raw(),
                &fe,
                msg,
                record.neighbourhood_id,
                status,
            )
            .await
        }
    }
}

async fn archive(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((table, id)): Path<(String, i64)>,
    form: FormData,
) -> Result<Response, AppError> {
    let entity = entity_of(&table)?;
    user.check_csrf(form.get("_csrf"))?;
    let record = readable(&state, &user.actor, entity, id).await?;
    check(user.actor.may(Action::Archive, entity, record.place()))?;
    let archive = form.get("archived") != Some("false");
    state
        .store
        .archive_place(entity, id, form.version()?, archive, &user.ctx(&state))
        .await?;
    Ok(Redirect::to(&format!("/{table}/{id}?saved=1")).into_response())
}
