//! The resident's own pages, with no account: report a matter from a phone (a tracking
//! code is issued; the phone number is optional but checked; up to three photos), and
//! follow it by that code. Reports are limited per client address. Nothing here shows
//! anyone's name or phone, or the staff who handled it.

use crate::api::requests::create_checked;
use crate::auth::client_ip;
use crate::i18n::{Lang, negotiate};
use crate::render::page;
use crate::views;
use crate::{AppError, AppState, LOOKUP_WINDOW, LOOKUPS_PER_WINDOW, REPORT_WINDOW};
use axum::Router;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use doorstep_domain::requests::{Channel, Move, code};
use doorstep_domain::{Entity, FieldErrors, FieldKind, FieldSpec, Scope};
use doorstep_store::{ListQuery, NewAttachment, RequestRecord, WriteCtx};
use minijinja::context;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/report",
            get(report_form)
                .post(report)
                .layer(axum::extract::DefaultBodyLimit::max(
                    crate::attachments::BODY_LIMIT,
                )),
        )
        .route("/track", get(track_lookup))
        .route("/track/{code}", get(track))
}

const KINDS: &[&str] = &[
    "help",
    "complaint",
    "report",
    "suggestion",
    "consultation",
    "praise",
];

/// What a resident fills in.
pub const RESIDENT_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("neighbourhood_id", FieldKind::Ref("neighbourhoods")).required(),
    FieldSpec::new("kind", FieldKind::Choice(KINDS)).required(),
    FieldSpec::long_text("description", 2000).required(),
    FieldSpec::new("building_id", FieldKind::Ref("buildings")),
    FieldSpec::text("address", 200),
    FieldSpec::text("resident_name", 30),
    FieldSpec::new("resident_phone", FieldKind::Phone),
];

/// The most photos one report carries.
const MAX_PHOTOS: usize = 3;

async fn neighbourhood_choices(state: &AppState) -> Result<Vec<serde_json::Value>, AppError> {
    // One subdistrict per deployment is the usual case; list every neighbourhood in use.
    let mut out = Vec::new();
    for id in state.store.subdistrict_ids().await? {
        let Some(sd) = state.store.find_place(Entity::Subdistrict, id).await? else {
            continue;
        };
        let nbs = state
            .store
            .list_places(
                Entity::Neighbourhood,
                &ListQuery::new(Scope::Subdistrict(sd.id)).all(),
            )
            .await?;
        for n in nbs.items.iter().filter(|n| n.archived_at.is_none()) {
            out.push(serde_json::json!({"href": format!("/report?neighbourhood_id={}", n.id), "label": n.title(), "subdistrict": sd.title()}));
        }
    }
    Ok(out)
}

async fn render_form(
    state: &AppState,
    lang: Lang,
    nb: i64,
    raw: &BTreeMap<String, String>,
    errors: &FieldErrors,
    status: StatusCode,
) -> Result<Response, AppError> {
    let nb_rec = match state.store.find_place(Entity::Neighbourhood, nb).await? {
        Some(n) if n.archived_at.is_none() => n,
        _ => return Err(AppError::NotFound),
    };
    let mut options = views::RefOptions::new();
    options.insert(
        "building_id",
        views::building_options(&state.store, nb_rec.subdistrict_id, nb).await?,
    );
    let specs: Vec<_> = RESIDENT_FIELDS
        .iter()
        .filter(|f| f.name != "neighbourhood_id")
        .copied()
        .collect();
    let fields = views::form_fields(&state.i18n, lang, &specs, raw, errors, &options, false);
    let photo_error = errors
        .0
        .iter()
        .find(|e| e.field == "photo")
        .map(|e| state.i18n.field_error(lang, e));
    let title = state.i18n.t(lang, "resident.report_title");
    let extra = context! {
        title => title.clone(), fields, neighbourhood => nb_rec.title(), neighbourhood_id => nb,
        photo_error, max_photos => MAX_PHOTOS,
        error => (!errors.is_empty()).then(|| state.i18n.t(lang, "error.validation_failed")),
    };
    Ok((
        status,
        page(state, lang, None, "resident/report.html", &title, extra)?,
    )
        .into_response())
}

async fn report_form(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let lang = negotiate(&headers, false);
    match q.get("neighbourhood_id").map(|v| v.parse::<i64>()) {
        Some(Ok(nb)) => {
            let mut raw = BTreeMap::new();
            raw.insert("kind".to_string(), "help".to_string());
            render_form(&state, lang, nb, &raw, &FieldErrors::new(), StatusCode::OK).await
        }
        Some(Err(_)) => Err(AppError::NotFound),
        None => {
            let choices = neighbourhood_choices(&state).await?;
            let title = state.i18n.t(lang, "resident.report_title");
            let extra = context! { title => title.clone(), choices };
            Ok(page(&state, lang, None, "resident/pick.html", &title, extra)?.into_response())
        }
    }
}

/// The text fields and photos of a multipart report.
struct Report {
    fields: serde_json::Map<String, serde_json::Value>,
    photos: Vec<Vec<u8>>,
}

async fn read_report(mut mp: Multipart) -> Result<Report, AppError> {
    let bad = |e: axum::extract::multipart::MultipartError| AppError::BadRequest(e.body_text());
    let mut fields = serde_json::Map::new();
    let mut photos = Vec::new();
    while let Some(field) = mp.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or("").to_string();
        if name == "photo" {
            let bytes = field.bytes().await.map_err(bad)?;
            // A file input left empty still sends an empty part.
            if !bytes.is_empty() {
                photos.push(bytes.to_vec());
            }
        } else {
            let text = field.text().await.map_err(bad)?;
            fields.insert(name, serde_json::Value::String(text));
        }
    }
    Ok(Report { fields, photos })
}

async fn report(State(state): State<AppState>, req: Request) -> Result<Response, AppError> {
    let (parts, body) = req.into_parts();
    let lang = negotiate(&parts.headers, false);
    let ip = client_ip(&parts);
    // An address over its limit is turned away before its (up to 15 MB) body is read.
    if state
        .report_throttle
        .is_limited(ip, state.config.resident_reports_per_hour, REPORT_WINDOW)
    {
        return Err(AppError::TooManyRequests);
    }
    let mp = Multipart::from_request(Request::from_parts(parts, body), &state)
        .await
        .map_err(|e| AppError::BadRequest(e.body_text()))?;
    let Report { fields, photos } = read_report(mp).await?;
    let nb: i64 = fields
        .get("neighbourhood_id")
        .and_then(|v| v.as_str())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| AppError::validation("neighbourhood_id", "required"))?;
    let raw: BTreeMap<String, String> = fields
        .iter()
        .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
        .collect();
    if !state
        .report_throttle
        .allow(ip, state.config.resident_reports_per_hour, REPORT_WINDOW)
    {
        let mut e = FieldErrors::new();
        e.add("description", "too_many_reports");
        return render_form(&state, lang, nb, &raw, &e, StatusCode::TOO_MANY_REQUESTS).await;
    }
    let mut input = fields.clone();
    input.retain(|k, _| !k.starts_with('_'));
    let checked = doorstep_domain::validate(RESIDENT_FIELDS, &input, None, &[]);
    let mut errors = match &checked {
        Ok(_) => FieldErrors::new(),
        Err(e) => e.clone(),
    };
    let mut files = Vec::new();
    if photos.len() > MAX_PHOTOS {
        errors.add("photo", "too_many");
    }
    for p in &photos {
        match crate::attachments::check(p) {
            Ok(t) => files.push(NewAttachment {
                content_type: t.to_string(),
                sha256: format!("{:x}", Sha256::digest(p)),
                data: p.clone(),
            }),
            Err(code) => {
                errors.add("photo", code);
                break;
            }
        }
    }
    let values = match checked {
        Ok(v) if errors.is_empty() => v,
        _ => {
            return render_form(
                &state,
                lang,
                nb,
                &raw,
                &errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let created = resident_intake(
        &state,
        nb,
        &values,
        Channel::Web,
        &files,
        ip,
        "resident-web",
    )
    .await;
    match created {
        Ok(r) => Ok(Redirect::to(&format!("/track/{}?new=1", r.tracking_code)).into_response()),
        Err(AppError::Validation(fe)) => {
            render_form(
                &state,
                lang,
                nb,
                &raw,
                &fe,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

/// Intake with no staff account behind it (resident web page, Open311): the
/// neighbourhood's receiver (its secretary) owns the request from the start.
pub(crate) async fn resident_intake(
    state: &AppState,
    nb: i64,
    values: &doorstep_domain::Values,
    channel: Channel,
    files: &[NewAttachment],
    ip: Option<std::net::IpAddr>,
    actor: &str,
) -> Result<RequestRecord, AppError> {
    let nb_rec = match state.store.find_place(Entity::Neighbourhood, nb).await? {
        Some(n) if n.archived_at.is_none() => n,
        _ => {
            return Err(AppError::validation(
                "neighbourhood_id",
                "invalid_reference",
            ));
        }
    };
    let owner = state
        .store
        .receiver_for(nb_rec.subdistrict_id, nb)
        .await
        .map_err(|_| AppError::Unavailable)?;
    let ctx = WriteCtx {
        actor_id: None,
        actor_name: actor.to_string(),
        subdistrict_id: Some(nb_rec.subdistrict_id),
        ip: ip.map(|i| i.to_string()),
        at: state.clock.now(),
        demo: false,
    };
    create_checked(
        state,
        nb_rec.subdistrict_id,
        nb,
        values,
        channel,
        owner,
        files,
        &ctx,
    )
    .await
}

async fn track_lookup(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    if let Some(code) = q
        .get("code")
        .map(|c| c.trim().to_uppercase())
        .filter(|c| !c.is_empty() && c.chars().all(|c| c.is_ascii_alphanumeric()))
    {
        return Ok(Redirect::to(&format!("/track/{code}")).into_response());
    }
    let lang = negotiate(&headers, false);
    let title = state.i18n.t(lang, "resident.track_title");
    let extra = context! { title => title.clone(), not_found => q.contains_key("code") };
    Ok(page(&state, lang, None, "resident/track.html", &title, extra)?.into_response())
}

async fn track(
    State(state): State<AppState>,
    Path(asked): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    req: Request,
) -> Result<Response, AppError> {
    let (parts, _) = req.into_parts();
    let lang = negotiate(&parts.headers, false);
    let ip = client_ip(&parts);
    let code_in = asked.trim().to_uppercase();
    let fresh = q.get("new").is_some_and(|v| v == "1");
    if !state
        .lookup_throttle
        .allow(ip, LOOKUPS_PER_WINDOW, LOOKUP_WINDOW)
    {
        return Err(AppError::TooManyRequests);
    }
    let tr = |k: &str| state.i18n.t(lang, k);
    let title = tr("resident.track_title");
    let Some(r) = state.store.find_request_by_code(&code_in).await? else {
        let extra = context! { title => title.clone(), not_found => true, code => code_in };
        return Ok((
            StatusCode::NOT_FOUND,
            page(&state, lang, None, "resident/track.html", &title, extra)?,
        )
            .into_response());
    };
    let timeline = state.store.request_timeline(r.id).await?;
    let mut steps = Vec::new();
    for e in &timeline {
        let (what, detail) = match &e.mv {
            None => ("receive".to_string(), String::new()),
            Some(m @ (Move::Resolve { reply } | Move::ResolveOnSpot { reply })) => {
                (crate::pages::requests::code_of_move(m), reply.clone())
            }
            Some(Move::Merge { into }) => {
                let other = state.store.find_request(*into).await?;
                (
                    "merge".to_string(),
                    other.map(|o| o.tracking_code).unwrap_or_default(),
                )
            }
            // Internal notes (return reasons, extension reasons) stay inside.
            Some(m) => (crate::pages::requests::code_of_move(m), String::new()),
        };
        steps.push(serde_json::json!({
            "at": views::local_time(e.at),
            "what": tr(&format!("request.move.{what}")),
            "detail": detail,
        }));
    }
    let state_label = tr(&format!("request.state.{}", code(&r.workflow.state)));
    let extra = context! {
        title => title.clone(), found => true, code => r.tracking_code, fresh,
        kind => tr(&format!("choice.kind.{}", code(&r.kind))),
        state_label, open => r.workflow.state.is_open(),
        received => views::local_time(r.created_at),
        deadline => views::local_deadline(r.deadline_at),
        description => r.description, steps,
    };
    Ok(page(&state, lang, None, "resident/track.html", &title, extra)?.into_response())
}
