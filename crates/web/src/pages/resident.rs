//! The resident's own pages, with no account: report a matter from a phone (a tracking
//! code is issued; the phone number is optional but checked; up to three photos), and
//! follow it by that code. Reports are limited per client address. Nothing here shows
//! anyone's name or phone, or the staff who handled it.

use crate::forms::FormData;
use crate::i18n::{Lang, negotiate};
use crate::params::{FromParams, PageQuery, Params};
use crate::render::page;
use crate::session::client_ip;
use crate::views;
use crate::{AppError, AppState, LOOKUP_WINDOW, LOOKUPS_PER_WINDOW, REPORT_WINDOW};
use axum::Router;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use doorstep_domain::requests::MAX_ATTACHMENTS;
use doorstep_domain::{FieldErrors, NeighbourhoodId};
use doorstep_services::requests::resident::{self as svc, RESIDENT_FIELDS};
use minijinja::context;
use std::collections::BTreeMap;

/// The largest report: three photos and the form around them.
const BODY_LIMIT: usize =
    MAX_ATTACHMENTS * doorstep_domain::requests::MAX_ATTACHMENT_BYTES + 256 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/report",
            get(report_form)
                .post(report)
                .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT)),
        )
        .route("/track", get(track_lookup))
        .route("/track/{code}", get(track))
        .route("/track/{code}/rating", axum::routing::post(rate))
}

async fn neighbourhood_choices(state: &AppState) -> Result<Vec<serde_json::Value>, AppError> {
    Ok(svc::neighbourhoods(&state.services)
        .await?
        .iter()
        .map(|p| {
            let n = &p.neighbourhood;
            serde_json::json!({"href": format!("/report?neighbourhood_id={}", n.id), "label": n.title(), "subdistrict": p.subdistrict})
        })
        .collect())
}

async fn render_form(
    state: &AppState,
    lang: Lang,
    nb: NeighbourhoodId,
    raw: &BTreeMap<String, String>,
    errors: &FieldErrors,
    status: StatusCode,
) -> Result<Response, AppError> {
    let form = svc::report_form(&state.services, nb).await?;
    let nb_rec = form.neighbourhood;
    let mut options = views::RefOptions::new();
    options.insert(
        "building_id",
        form.buildings.into_iter().map(Into::into).collect(),
    );
    options.insert(
        "service_item_id",
        form.matters.into_iter().map(Into::into).collect(),
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
        photo_error, max_photos => MAX_ATTACHMENTS,
        error => (!errors.is_empty()).then(|| state.i18n.t(lang, "error.validation_failed")),
    };
    Ok((
        status,
        page(state, lang, None, "resident/report.html", &title, extra)?,
    )
        .into_response())
}

/// `?neighbourhood_id=`: which neighbourhood the report is for; without it, the finder:
/// `?q=` words (a name, an estate, a street address) or `?lat=&lon=` (the phone's place).
struct Pick {
    nb: Option<String>,
    q: Option<String>,
    at: Option<(f64, f64)>,
}

impl FromParams for Pick {
    fn from_params(p: &mut Params) -> Self {
        Pick {
            nb: p.text("neighbourhood_id"),
            q: p.text("q").filter(|q| !q.trim().is_empty()),
            at: p.float("lat").zip(p.float("lon")),
        }
    }
}

/// The finder's answer: the neighbourhoods found and why, or that none was.
async fn find(
    state: &AppState,
    lang: Lang,
    pick: &Pick,
) -> Result<Option<Vec<serde_json::Value>>, AppError> {
    use doorstep_services::requests::finder::{self, Found};
    let sv = &state.services;
    let hits = match (&pick.q, pick.at) {
        (Some(q), _) => finder::by_words(sv, q).await?,
        (None, Some((lat, lon))) => finder::by_location(sv, lat, lon).await?,
        (None, None) => return Ok(None),
    };
    Ok(Some(
        hits.iter()
            .map(|h| {
                let n = &h.place.neighbourhood;
                let why = match &h.found {
                    Found::Name => String::new(),
                    Found::Estate(e) => state.i18n.t_args(lang, "resident.found_estate", std::slice::from_ref(e)),
                    Found::Near(m) => state.i18n.t_args(lang, "resident.found_near", &[format!("{m:.0}")]),
                };
                serde_json::json!({"href": format!("/report?neighbourhood_id={}", n.id), "label": n.title(),
                    "subdistrict": h.place.subdistrict, "why": why})
            })
            .collect(),
    ))
}

async fn report_form(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    PageQuery(pick): PageQuery<Pick>,
) -> Result<Response, AppError> {
    let lang = negotiate(&headers, false);
    match pick.nb.as_ref().map(|v| v.parse::<NeighbourhoodId>()) {
        Some(Ok(nb)) => {
            let mut raw = BTreeMap::new();
            raw.insert("kind".to_string(), "help".to_string());
            render_form(&state, lang, nb, &raw, &FieldErrors::new(), StatusCode::OK).await
        }
        Some(Err(_)) => Err(AppError::NotFound),
        None => {
            let choices = neighbourhood_choices(&state).await?;
            let found = find(&state, lang, &pick).await?;
            let title = state.i18n.t(lang, "resident.report_title");
            let extra = context! {
                title => title.clone(), choices, found,
                q => pick.q.clone().unwrap_or_default(), located => pick.at.is_some(),
            };
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
    let sv = &state.services;
    let limit = state.config.resident_reports_per_hour;
    // An address over its limit is turned away before its (up to 15 MB) body is read.
    state
        .report_throttle
        .check(sv, ip, limit, REPORT_WINDOW)
        .await?;
    let mp = Multipart::from_request(Request::from_parts(parts, body), &state)
        .await
        .map_err(|e| AppError::BadRequest(e.body_text()))?;
    let Report { fields, photos } = read_report(mp).await?;
    let nb: NeighbourhoodId = fields
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
        .allow(sv, ip, limit, REPORT_WINDOW)
        .await?
    {
        let e = FieldErrors::single("description", "too_many_reports");
        return render_form(&state, lang, nb, &raw, &e, StatusCode::TOO_MANY_REQUESTS).await;
    }
    let mut input = fields;
    input.retain(|k, _| !k.starts_with('_'));
    match svc::report(sv, nb, &input, &photos, ip).await {
        Ok(r) => Ok(Redirect::to(&format!("/track/{}?new=1", r.tracking_code)).into_response()),
        Err(doorstep_services::Error::Validation(fe)) => {
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
        Err(e) => Err(e.into()),
    }
}

/// `?code=`: the tracking code typed on the lookup page.
struct Lookup(Option<String>, bool);

impl FromParams for Lookup {
    fn from_params(p: &mut Params) -> Self {
        let asked = p.has("code");
        Lookup(p.text("code"), asked)
    }
}

async fn track_lookup(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    PageQuery(Lookup(code, asked)): PageQuery<Lookup>,
) -> Result<Response, AppError> {
    if let Some(code) = code
        .map(|c| {
            c.chars()
                .filter(|c| !c.is_whitespace())
                .collect::<String>()
                .to_uppercase()
        })
        .filter(|c| c.chars().all(|c| c.is_ascii_alphanumeric()))
    {
        return Ok(Redirect::to(&format!("/track/{code}")).into_response());
    }
    let lang = negotiate(&headers, false);
    let title = state.i18n.t(lang, "resident.track_title");
    let extra = context! { title => title.clone(), not_found => asked };
    Ok(page(&state, lang, None, "resident/track.html", &title, extra)?.into_response())
}

/// `?new=1` right after the report; `?rated=1` right after the resident's rating.
struct TrackFlags {
    fresh: bool,
    rated: bool,
}

impl FromParams for TrackFlags {
    fn from_params(p: &mut Params) -> Self {
        TrackFlags {
            fresh: p.text("new").as_deref() == Some("1"),
            rated: p.text("rated").as_deref() == Some("1"),
        }
    }
}

async fn track(
    State(state): State<AppState>,
    Path(asked): Path<String>,
    PageQuery(flags): PageQuery<TrackFlags>,
    req: Request,
) -> Result<Response, AppError> {
    let (parts, _) = req.into_parts();
    let lang = negotiate(&parts.headers, false);
    let ip = client_ip(&parts);
    state
        .lookup_throttle
        .take(&state.services, ip, LOOKUPS_PER_WINDOW, LOOKUP_WINDOW)
        .await?;
    let code: String = asked
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_uppercase();
    render_track(
        &state,
        lang,
        &code,
        &flags,
        &FieldErrors::new(),
        StatusCode::OK,
    )
    .await
}

/// The tracking page: the request as the resident may see it, and once it is resolved, the
/// three ratings to give (none preset).
async fn render_track(
    state: &AppState,
    lang: Lang,
    code: &str,
    flags: &TrackFlags,
    errors: &FieldErrors,
    status: StatusCode,
) -> Result<Response, AppError> {
    let tr = |k: &str| state.i18n.t(lang, k);
    let title = tr("resident.track_title");
    let Some(t) = svc::track(&state.services, code).await? else {
        let extra = context! { title => title.clone(), not_found => true, code };
        let html = page(state, lang, None, "resident/track.html", &title, extra)?;
        return Ok((StatusCode::NOT_FOUND, html).into_response());
    };
    let steps: Vec<serde_json::Value> = t
        .steps
        .iter()
        .map(|s| {
            serde_json::json!({
                "at": views::local_time(s.at),
                "what": tr(&format!("request.move.{}", s.what)),
                "detail": s.detail,
            })
        })
        .collect();
    let r = &t.record;
    let rating_fields: Vec<serde_json::Value> = ["efficiency", "attitude", "result"]
        .iter()
        .map(|f| {
            let error = errors.0.iter().find(|e| e.field == *f).map(|e| state.i18n.field_error(lang, e));
            serde_json::json!({"name": f, "label": tr(&format!("request.rating_{f}")), "error": error})
        })
        .collect();
    let extra = context! {
        title => title.clone(), found => true, code => r.tracking_code, fresh => flags.fresh,
        thanked => flags.rated,
        kind => tr(&format!("choice.kind.{}", r.kind)),
        state_label => tr(&format!("request.state.{}", r.workflow.state)),
        open => r.workflow.state.is_open(),
        received => views::local_time(r.created_at),
        deadline => views::local_deadline(r.deadline_at),
        description => r.description, steps,
        may_rate => r.workflow.state == doorstep_domain::requests::State::Resolved,
        rating_action => format!("/track/{}/rating", r.tracking_code),
        rating_fields,
        // Best first, as on the staff's follow-up form.
        ratings => views::choice_options(&state.i18n, lang, &["satisfied", "basic", "unsatisfied"], "request.rating."),
        reply => t.steps.iter().rev().find(|s| matches!(s.what, "resolve" | "resolve_on_spot")).map(|s| s.detail.clone()),
        merged_state => t.steps.iter().rev().find(|s| s.what == "merge").map(|s| tr(&format!("request.state.{}", s.detail))),
        rating_error => (!errors.is_empty()).then(|| tr("resident.rating_incomplete")),
    };
    Ok((
        status,
        page(state, lang, None, "resident/track.html", &title, extra)?,
    )
        .into_response())
}

/// `POST /track/{code}/rating`: the resident's own follow-up rating.
async fn rate(
    State(state): State<AppState>,
    Path(asked): Path<String>,
    req: Request,
) -> Result<Response, AppError> {
    let (parts, body) = req.into_parts();
    let lang = negotiate(&parts.headers, false);
    let ip = client_ip(&parts);
    let sv = &state.services;
    state
        .lookup_throttle
        .take(sv, ip, LOOKUPS_PER_WINDOW, LOOKUP_WINDOW)
        .await?;
    let form = FormData::from_request(Request::from_parts(parts, body), &state).await?;
    let code = asked.trim().to_uppercase();
    let given = |k: &str| {
        form.get(k)
            .and_then(doorstep_domain::requests::Satisfaction::parse)
    };
    let ratings = [given("efficiency"), given("attitude"), given("result")];
    match svc::rate(sv, &code, ratings, ip).await {
        Ok(r) => Ok(Redirect::to(&format!("/track/{}?rated=1", r.tracking_code)).into_response()),
        Err(doorstep_services::Error::Validation(fe)) => {
            let flags = TrackFlags {
                fresh: false,
                rated: false,
            };
            render_track(
                &state,
                lang,
                &code,
                &flags,
                &fe,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}
