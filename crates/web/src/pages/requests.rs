//! Request pages: the inbox, the desk intake form, and a request with its timeline and the
//! moves the viewer may make.

use super::FormData;
use crate::api::requests::{REQUEST_FIELDS, apply_move, inbox_filter, intake, may_read, relation};
use crate::auth::CurrentUser;
use crate::render::page;
use crate::views::{self, SelectOption};
use crate::{AppError, AppState};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use doorstep_domain::mask::{mask_name, mask_phone};
use doorstep_domain::requests::{Handler, Move, ReturnReason, Satisfaction, code};
use doorstep_domain::{Entity, FieldErrors, Role, Scope};
use doorstep_store::{ListQuery, RequestRecord};
use minijinja::context;
use std::collections::{BTreeMap, HashMap};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/requests", get(index).post(create))
        .route("/requests/new", get(new_form))
        .route("/requests/{id}", get(show))
        .route("/requests/{id}/moves", post(make_move))
        .route(
            "/requests/{id}/attachments",
            post(upload).layer(axum::extract::DefaultBodyLimit::max(
                crate::attachments::MAX_BYTES + 64 * 1024,
            )),
        )
}

const BOXES: &[&str] = &["open", "owned", "assigned", "due_soon", "overdue", "all"];

async fn index(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let lang = user.lang;
    let tr = |k: &str| state.i18n.t(lang, k);
    let inbox = p
        .get("box")
        .map(String::as_str)
        .filter(|b| BOXES.contains(b))
        .unwrap_or("open");
    let now = state.clock.now();
    let (limit, offset) = views::paging(p.get("page").and_then(|x| x.parse().ok()), None);
    let mut f = inbox_filter(&user, inbox, now, None)?;
    // The board's filters: state, kind, catalogue category (unknown values are ignored).
    let pick = |k: &str| p.get(k).map(String::as_str).filter(|v| !v.is_empty());
    f.state = pick("state").and_then(|v| serde_json::from_value(serde_json::json!(v)).ok());
    f.kind = pick("kind").and_then(|v| serde_json::from_value(serde_json::json!(v)).ok());
    f.category = pick("category")
        .filter(|c| doorstep_domain::places::SERVICE_CATEGORIES.contains(c))
        .map(str::to_string);
    f.limit = limit;
    f.offset = offset;
    let page_data = state.store.list_requests(&f).await?;
    let rows: Vec<serde_json::Value> = page_data
        .items
        .iter()
        .map(|r| {
            let desc: String = r.description.chars().take(40).collect();
            serde_json::json!({
                "href": format!("/requests/{}", r.id), "code": r.tracking_code, "desc": desc,
                "kind": tr(&format!("choice.kind.{}", code(&r.kind))),
                "state": tr(&format!("request.state.{}", code(&r.workflow.state))),
                "deadline": views::local_deadline(r.deadline_at),
                "overdue": r.workflow.state.is_open() && r.deadline_at < now,
                "due_soon": r.workflow.state.is_open() && r.deadline_at >= now && r.deadline_at < now + chrono::Duration::hours(24),
                "escalated": r.workflow.escalated,
            })
        })
        .collect();
    let tabs: Vec<serde_json::Value> = BOXES
        .iter()
        .map(|b| serde_json::json!({"href": format!("/requests?box={b}"), "label": tr(&format!("request.box.{b}")), "current": *b == inbox}))
        .collect();
    let mut query = format!("box={inbox}");
    for k in ["state", "kind", "category"] {
        if let Some(v) = pick(k) {
            query.push_str(&format!("&{k}={}", views::url_encode(v)));
        }
    }
    let pager = views::Pager::new(
        page_data.total,
        limit,
        offset,
        page_data.items.len(),
        "/requests",
        &query,
    );
    let opts = |codes: &[&str], prefix: &str| -> Vec<SelectOption> {
        codes
            .iter()
            .map(|c| SelectOption {
                value: c.to_string(),
                label: tr(&format!("{prefix}{c}")),
            })
            .collect()
    };
    let filters = serde_json::json!({
        "box": inbox,
        "state": pick("state").unwrap_or(""), "kind": pick("kind").unwrap_or(""), "category": pick("category").unwrap_or(""),
        "states": opts(&["received", "assigned", "accepted", "in_progress", "returned", "resolved", "closed", "reopened"], "request.state."),
        "kinds": opts(&["consultation", "help", "complaint", "report", "suggestion", "praise"], "choice.kind."),
        "categories": opts(doorstep_domain::places::SERVICE_CATEGORIES, "choice.category."),
    });
    let title = tr("request.inbox");
    let extra = context! { title => title.clone(), rows, tabs, pager, filters };
    Ok(page(
        &state,
        lang,
        Some(&user),
        "requests/index.html",
        &title,
        extra,
    )?
    .into_response())
}

async fn render_new(
    state: &AppState,
    user: &CurrentUser,
    raw: &BTreeMap<String, String>,
    errors: &FieldErrors,
    status: StatusCode,
) -> Result<Response, AppError> {
    let lang = user.lang;
    let sd = Scope::Subdistrict(user.actor.subdistrict_id);
    let items = state
        .store
        .list_places(Entity::ServiceItem, &ListQuery::new(sd).all())
        .await?;
    let mut options = views::RefOptions::new();
    options.insert(
        "service_item_id",
        items
            .items
            .iter()
            .map(|i| SelectOption {
                value: i.id.to_string(),
                label: i.title(),
            })
            .collect(),
    );
    if user.actor.role == Role::Admin {
        let nbs = state
            .store
            .list_places(Entity::Neighbourhood, &ListQuery::new(sd).all())
            .await?;
        options.insert(
            "neighbourhood_id",
            nbs.items
                .iter()
                .map(|n| SelectOption {
                    value: n.id.to_string(),
                    label: n.title(),
                })
                .collect(),
        );
    }
    if let Some(nb) = user.actor.neighbourhood_id {
        options.insert(
            "building_id",
            views::building_options(&state.store, user.actor.subdistrict_id, nb).await?,
        );
    }
    let specs: Vec<_> = REQUEST_FIELDS
        .iter()
        .filter(|f| {
            !matches!(f.name, "lat" | "lon")
                && (f.name != "neighbourhood_id" || user.actor.role == Role::Admin)
        })
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

async fn new_form(State(state): State<AppState>, user: CurrentUser) -> Result<Response, AppError> {
    if !matches!(
        user.actor.role,
        Role::Admin | Role::Secretary | Role::Worker
    ) {
        return Err(AppError::Forbidden);
    }
    let mut raw = BTreeMap::new();
    raw.insert("channel".to_string(), "desk".to_string());
    raw.insert("kind".to_string(), "consultation".to_string());
    render_new(&state, &user, &raw, &FieldErrors::new(), StatusCode::OK).await
}

async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    form: FormData,
) -> Result<Response, AppError> {
    user.check_csrf(form.get("_csrf"))?;
    let mut body = form.0.clone();
    body.retain(|k, _| !k.starts_with('_'));
    match intake(&state, &user, &body).await {
        Ok(r) => Ok(Redirect::to(&format!("/requests/{}", r.id)).into_response()),
        Err(AppError::Validation(fe)) => {
            render_new(
                &state,
                &user,
                &form.raw(),
                &fe,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

async fn render_show(
    state: &AppState,
    user: &CurrentUser,
    r: &RequestRecord,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let lang = user.lang;
    let tr = |k: &str| state.i18n.t(lang, k);
    let timeline = state.store.request_timeline(r.id).await?;
    let owner = state
        .store
        .titles("accounts", &[r.owner_id])
        .await?
        .remove(&r.owner_id)
        .unwrap_or_default();
    let events: Vec<serde_json::Value> = timeline
        .iter()
        .map(|e| {
            let what = match &e.mv {
                Some(m) => tr(&format!("request.move.{}", code_of_move(m))),
                None => tr("request.move.receive"),
            };
            let detail = match &e.mv {
                Some(Move::Resolve { reply } | Move::ResolveOnSpot { reply }) => reply.clone(),
                Some(Move::Return { note, .. }) => note.clone(),
                Some(Move::RequestExtension { days, reason }) => format!("+{days} · {reason}"),
                Some(Move::Merge { into }) => format!("→ #{into}"),
                Some(Move::Absorb { from }) => format!("← #{from}"),
                _ => String::new(),
            };
            serde_json::json!({"at": views::local_time(e.at), "who": e.actor_name, "what": what, "detail": detail,
                "state": tr(&format!("request.state.{}", code(&e.state_after)))})
        })
        .collect();
    // The moves the viewer could make now (the server checks again on submit).
    let candidates = [
        ("resolve_on_spot", Move::ResolveOnSpot { reply: "x".into() }),
        (
            "assign",
            Move::Assign {
                to: Handler::Worker(user.account.id),
            },
        ),
        ("accept", Move::Accept),
        (
            "return",
            Move::Return {
                reason: ReturnReason::Unclear,
                note: "x".into(),
            },
        ),
        ("start", Move::Start),
        ("resolve", Move::Resolve { reply: "x".into() }),
        (
            "follow_up",
            Move::FollowUp {
                efficiency: Satisfaction::Satisfied,
                attitude: Satisfaction::Satisfied,
                result: Satisfaction::Satisfied,
            },
        ),
        ("close", Move::Close),
        (
            "request_extension",
            Move::RequestExtension {
                days: 1,
                reason: "x".into(),
            },
        ),
        ("decide_extension", Move::DecideExtension { approve: true }),
        ("escalate", Move::Escalate),
    ];
    let moves: Vec<serde_json::Value> = candidates
        .iter()
        .filter(|(_, m)| relation(user, r, m).ok().is_some_and(|rel| r.workflow.apply(m, rel).is_ok()))
        .map(|(name, _)| serde_json::json!({"name": name, "label": tr(&format!("request.move.{name}"))}))
        .collect();
    let workers: Vec<SelectOption> = state
        .store
        .list_accounts(
            r.subdistrict_id,
            Some(r.neighbourhood_id),
            Some(Role::Worker),
            None,
            200,
            0,
        )
        .await?
        .items
        .into_iter()
        .filter(|a| !a.disabled)
        .map(|a| SelectOption {
            value: a.id.to_string(),
            label: a.display_name,
        })
        .collect();
    let now = state.clock.now();
    let mut fields = vec![
        serde_json::json!({"label": tr("request.tracking_code"), "value": r.tracking_code}),
        serde_json::json!({"label": tr("field.kind"), "value": tr(&format!("choice.kind.{}", code(&r.kind)))}),
        serde_json::json!({"label": tr("field.channel"), "value": tr(&format!("choice.channel.{}", code(&r.channel)))}),
        serde_json::json!({"label": tr("request.state_label"), "value": tr(&format!("request.state.{}", code(&r.workflow.state)))}),
        serde_json::json!({"label": tr("request.deadline"), "value": views::local_deadline(r.deadline_at)}),
        serde_json::json!({"label": tr("request.owner"), "value": owner}),
        serde_json::json!({"label": tr("field.resident_name"), "value": r.resident_name.as_deref().map(mask_name).unwrap_or_else(|| "—".into())}),
        serde_json::json!({"label": tr("field.resident_phone"), "value": r.resident_phone.as_deref().map(mask_phone).unwrap_or_else(|| "—".into())}),
    ];
    if let Some(a) = &r.address {
        fields.push(serde_json::json!({"label": tr("field.address"), "value": a}));
    }
    let attachments: Vec<String> = state
        .store
        .list_attachments(r.id)
        .await?
        .iter()
        .map(|a| format!("/api/v1/requests/{}/attachments/{}", r.id, a.id))
        .collect();
    // Likely duplicates, and whether the viewer may merge this request into one.
    let may_merge =
        r.workflow.state.is_open() && relation(user, r, &Move::Merge { into: 1 }).is_ok();
    let dups: Vec<serde_json::Value> = if r.workflow.state.is_open() {
        let point = r.lat.zip(r.lon);
        crate::api::requests::find_duplicates(
            state,
            r.neighbourhood_id,
            r.building_id,
            point,
            &r.description,
            r.service_item_id,
            Some(r.id),
        )
        .await?
        .iter()
        .map(|(c, score)| {
            let desc: String = c.description.chars().take(60).collect();
            serde_json::json!({"id": c.id, "href": format!("/requests/{}", c.id), "code": c.tracking_code,
                "desc": desc, "state": tr(&format!("request.state.{}", c.state)),
                "received": views::local_time(c.created_at), "score": format!("{:.0}%", score.min(1.0) * 100.0)})
        })
        .collect()
    } else {
        Vec::new()
    };
    let merged_into = match r.workflow.merged_into {
        Some(id) => state.store.find_request(id).await?.map(
            |m| serde_json::json!({"href": format!("/requests/{}", m.id), "code": m.tracking_code}),
        ),
        None => None,
    };
    let title = format!("{} {}", tr("entity.request"), r.tracking_code);
    let extra = context! {
        title => title.clone(), description => r.description, fields, events, moves, workers,
        attachments, dups, may_merge, merged_into, may_attach => r.workflow.state.is_open(),
        upload_action => format!("/requests/{}/attachments", r.id),
        version => r.version, action => format!("/requests/{}/moves", r.id), error,
        overdue => r.workflow.state.is_open() && r.deadline_at < now, escalated => r.workflow.escalated,
        due_soon => r.workflow.state.is_open() && r.deadline_at >= now && r.deadline_at < now + chrono::Duration::hours(24),
        rating_fields => [("efficiency", "request.rating_efficiency"), ("attitude", "request.rating_attitude"), ("result", "request.rating_result")]
            .iter()
            .map(|(v, k)| SelectOption { value: v.to_string(), label: tr(k) })
            .collect::<Vec<_>>(),
        reasons => ["not_our_duty", "wrong_place", "unclear"].iter().map(|c| SelectOption { value: c.to_string(), label: tr(&format!("request.reason.{c}")) }).collect::<Vec<_>>(),
        ratings => ["satisfied", "basic", "unsatisfied"].iter().map(|c| SelectOption { value: c.to_string(), label: tr(&format!("request.rating.{c}")) }).collect::<Vec<_>>(),
    };
    Ok((
        status,
        page(state, lang, Some(user), "requests/show.html", &title, extra)?,
    )
        .into_response())
}

pub(crate) fn code_of_move(m: &Move) -> String {
    serde_json::to_value(m)
        .ok()
        .and_then(|v| v.get("move").and_then(|x| x.as_str().map(str::to_string)))
        .unwrap_or_default()
}

async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let r = state.store.get_request(id).await?;
    may_read(&user, &r)?;
    render_show(&state, &user, &r, None, StatusCode::OK).await
}

/// A move from the page's forms.
fn move_from(form: &FormData) -> Result<Move, AppError> {
    let get = |k: &str| form.get(k).unwrap_or("").trim().to_string();
    let sat = |k: &str| -> Result<Satisfaction, AppError> {
        serde_json::from_value(serde_json::json!(get(k)))
            .map_err(|_| AppError::validation(k, "invalid_choice"))
    };
    Ok(match get("move").as_str() {
        "resolve_on_spot" => Move::ResolveOnSpot {
            reply: get("reply"),
        },
        "assign" => Move::Assign {
            to: Handler::Worker(
                get("to")
                    .parse()
                    .map_err(|_| AppError::validation("to", "invalid_reference"))?,
            ),
        },
        "accept" => Move::Accept,
        "return" => Move::Return {
            reason: serde_json::from_value(serde_json::json!(get("reason")))
                .map_err(|_| AppError::validation("reason", "invalid_choice"))?,
            note: get("note"),
        },
        "start" => Move::Start,
        "resolve" => Move::Resolve {
            reply: get("reply"),
        },
        "follow_up" => Move::FollowUp {
            efficiency: sat("efficiency")?,
            attitude: sat("attitude")?,
            result: sat("result")?,
        },
        "close" => Move::Close,
        "request_extension" => Move::RequestExtension {
            days: get("days")
                .parse()
                .map_err(|_| AppError::validation("days", "not_integer"))?,
            reason: get("reason_text"),
        },
        "decide_extension" => Move::DecideExtension {
            approve: get("approve") == "true",
        },
        "escalate" => Move::Escalate,
        "merge" => Move::Merge {
            into: get("into")
                .parse()
                .map_err(|_| AppError::validation("into", "invalid_reference"))?,
        },
        _ => return Err(AppError::validation("move", "invalid_choice")),
    })
}

async fn make_move(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    form: FormData,
) -> Result<Response, AppError> {
    user.check_csrf(form.get("_csrf"))?;
    let version = form
        .version()?
        .ok_or_else(|| AppError::validation("version", "required"))?;
    let result = match move_from(&form) {
        Ok(mv) => apply_move(&state, &user, id, version, &mv).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/requests/{id}")).into_response()),
        Err(e @ (AppError::Validation(_) | AppError::Conflict { .. })) => {
            let r = state.store.get_request(id).await?;
            may_read(&user, &r)?;
            let msg = match &e {
                AppError::Validation(fe) => {
                    fe.0.iter()
                        .map(|x| state.i18n.field_error(user.lang, x))
                        .collect::<Vec<_>>()
                        .join("；")
                }
                other => state.i18n.t(user.lang, &format!("error.{}", other.code())),
            };
            render_show(&state, &user, &r, Some(msg), e.status()).await
        }
        Err(e) => Err(e),
    }
}

/// An image added from the request page (multipart, with the form's CSRF token).
async fn upload(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    mut mp: axum::extract::Multipart,
) -> Result<Response, AppError> {
    let bad = |e: axum::extract::multipart::MultipartError| AppError::BadRequest(e.body_text());
    let mut csrf = None;
    let mut photo = Vec::new();
    while let Some(field) = mp.next_field().await.map_err(bad)? {
        match field.name() {
            Some("_csrf") => csrf = Some(field.text().await.map_err(bad)?),
            Some("photo") => photo = field.bytes().await.map_err(bad)?.to_vec(),
            _ => {}
        }
    }
    user.check_csrf(csrf.as_deref())?;
    let r = state.store.get_request(id).await?;
    may_read(&user, &r)?;
    match crate::attachments::attach(&state, id, "photo", &photo, &user.ctx(&state)).await {
        Ok(_) => Ok(Redirect::to(&format!("/requests/{id}")).into_response()),
        Err(AppError::Validation(fe)) => {
            let msg =
                fe.0.iter()
                    .map(|x| state.i18n.field_error(user.lang, x))
                    .collect::<Vec<_>>()
                    .join("；");
            render_show(
                &state,
                &user,
                &r,
                Some(msg),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e),
    }
}
