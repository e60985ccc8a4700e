//! Open311 GeoReport v2 at `/open311/v2` (<https://wiki.open311.org/GeoReport_v2>):
//! discovery, services (the catalogue, plus `general` for matters outside it), service
//! definitions, requests (search, one by id, create) and tokens, as `.json` or `.xml`.
//!
//! Mapping: `service_code` is a catalogue item's id; `service_request_id` is the request's
//! id and the `token` its tracking code; every internal state maps to `open` or `closed`,
//! with the state in `status_notes`. GET answers never carry the submitter's name, phone
//! or e-mail. Creating needs an `api_key`: an API token of a staff account (made on
//! /me), named in the audit log; the request is owned by the neighbourhood's receiver.

use crate::auth::{client_ip, sha256_hex};
use crate::i18n::{Lang, negotiate};
use crate::pages::resident::resident_intake;
use crate::{AppState, REPORT_WINDOW};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use doorstep_domain::requests::{Channel, State as RState, code};
use doorstep_domain::{Entity, Role, Scope};
use doorstep_store::{ListQuery, PublicFilter, PublicRequest};
use serde_json::{Value, json};
use std::collections::HashMap;

/// The service code of matters outside the catalogue.
pub const GENERAL: &str = "general";
/// The most requests one search returns.
const MAX_RESULTS: i64 = 1000;
/// A search without dates covers this many days back (the spec's default).
const DEFAULT_DAYS: i64 = 90;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/open311/v2/{file}", get(top).post(create))
        .route("/open311/v2/services/{file}", get(service_definition))
        .route("/open311/v2/requests/{file}", get(one_request))
        .route("/open311/v2/tokens/{file}", get(token))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Xml,
}

/// `name.json` / `name.xml` → (name, format).
fn split(file: &str) -> Option<(&str, Format)> {
    let (name, ext) = file.rsplit_once('.')?;
    let f = match ext {
        "json" => Format::Json,
        "xml" => Format::Xml,
        _ => return None,
    };
    Some((name, f))
}

/// An answer in the spec's error format: `[{code, description}]` / `<errors>`.
struct Failure {
    status: StatusCode,
    description: String,
}

fn fail(status: StatusCode, description: impl Into<String>) -> Failure {
    Failure {
        status,
        description: description.into(),
    }
}

impl Failure {
    fn respond(self, f: Format) -> Response {
        let body = json!([{"code": self.status.as_u16(), "description": self.description}]);
        answer(f, self.status, "errors", "error", &body)
    }
}

impl From<doorstep_store::StoreError> for Failure {
    fn from(e: doorstep_store::StoreError) -> Self {
        match e {
            doorstep_store::StoreError::NotFound => fail(StatusCode::NOT_FOUND, "not found"),
            doorstep_store::StoreError::Unavailable(_) => {
                fail(StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
            }
            other => {
                tracing::error!(error = %other, "open311 store error");
                fail(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
            }
        }
    }
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters are not allowed in XML 1.0.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// The singular of a list element's name (`endpoints` → `endpoint`).
fn singular(name: &str) -> &str {
    name.strip_suffix('s').unwrap_or(name)
}

fn xml_value(out: &mut String, name: &str, v: &Value) {
    match v {
        Value::Null => out.push_str(&format!("<{name}/>")),
        Value::Object(m) => {
            out.push_str(&format!("<{name}>"));
            for (k, x) in m {
                xml_value(out, k, x);
            }
            out.push_str(&format!("</{name}>"));
        }
        Value::Array(xs) => {
            out.push_str(&format!("<{name}>"));
            for x in xs {
                xml_value(out, singular(name), x);
            }
            out.push_str(&format!("</{name}>"));
        }
        Value::String(s) => out.push_str(&format!("<{name}>{}</{name}>", xml_escape(s))),
        other => out.push_str(&format!("<{name}>{other}</{name}>")),
    }
}

/// The body in the asked format: JSON as is; XML as `<root><item>…</item></root>` for a
/// list, or `<root>…</root>` for an object.
fn answer(f: Format, status: StatusCode, root: &str, item: &str, body: &Value) -> Response {
    match f {
        Format::Json => (status, axum::Json(body.clone())).into_response(),
        Format::Xml => {
            let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
            match body {
                Value::Array(xs) => {
                    out.push_str(&format!("<{root}>"));
                    for x in xs {
                        xml_value(&mut out, item, x);
                    }
                    out.push_str(&format!("</{root}>"));
                }
                other => xml_value(&mut out, root, other),
            }
            (
                status,
                [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
                out,
            )
                .into_response()
        }
    }
}

fn respond(f: Format, root: &str, item: &str, r: Result<Value, Failure>) -> Response {
    match r {
        Ok(v) => answer(f, StatusCode::OK, root, item, &v),
        Err(e) => e.respond(f),
    }
}

/// The subdistrict a call is about: `jurisdiction_id` (its code or id), or the only one.
async fn jurisdiction(state: &AppState, j: Option<&str>) -> Result<i64, Failure> {
    let ids = state.store.subdistrict_ids().await?;
    match j.map(str::trim).filter(|j| !j.is_empty()) {
        None => match ids.as_slice() {
            [one] => Ok(*one),
            [] => Err(fail(StatusCode::NOT_FOUND, "no jurisdiction is set up")),
            _ => Err(fail(
                StatusCode::BAD_REQUEST,
                "jurisdiction_id is required: this server serves several subdistricts",
            )),
        },
        Some(j) => {
            for id in ids {
                if let Some(sd) = state.store.find_place(Entity::Subdistrict, id).await?
                    && (sd.get("code").as_str() == Some(j) || id.to_string() == j)
                {
                    return Ok(id);
                }
            }
            Err(fail(
                StatusCode::NOT_FOUND,
                format!("jurisdiction_id {j} not found"),
            ))
        }
    }
}

async fn services_json(state: &AppState, sd: i64, lang: Lang) -> Result<Vec<Value>, Failure> {
    let items = state
        .store
        .list_places(
            Entity::ServiceItem,
            &ListQuery::new(Scope::Subdistrict(sd)).all(),
        )
        .await?;
    let mut out: Vec<Value> = items
        .items
        .iter()
        .filter(|i| i.archived_at.is_none())
        .map(|i| {
            let cat = i.get("category").as_str().unwrap_or("").to_string();
            json!({
                "service_code": i.id.to_string(),
                "service_name": i.get("name").as_str().unwrap_or(""),
                "description": i.get("description").as_str().unwrap_or(""),
                "metadata": false,
                "type": "realtime",
                "keywords": cat,
                "group": state.i18n.t(lang, &format!("choice.category.{cat}")),
            })
        })
        .collect();
    out.push(json!({
        "service_code": GENERAL,
        "service_name": state.i18n.t(lang, "open311.general"),
        "description": state.i18n.t(lang, "open311.general_description"),
        "metadata": false, "type": "realtime", "keywords": "", "group": "",
    }));
    Ok(out)
}

/// GET discovery / services / requests, and the 405-free answer for other names.
async fn top(
    State(state): State<AppState>,
    Path(file): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: axum::http::HeaderMap,
) -> Response {
    let Some((name, f)) = split(&file) else {
        return fail(StatusCode::NOT_FOUND, "use .json or .xml").respond(Format::Json);
    };
    let lang = negotiate(&headers, true);
    match name {
        "discovery" => respond(f, "discovery", "discovery", Ok(discovery())),
        "services" => {
            let r = async {
                let sd = jurisdiction(&state, q.get("jurisdiction_id").map(String::as_str)).await?;
                Ok(Value::Array(services_json(&state, sd, lang).await?))
            }
            .await;
            respond(f, "services", "service", r)
        }
        "requests" => respond(
            f,
            "service_requests",
            "request",
            search(&state, &q, lang).await,
        ),
        _ => fail(StatusCode::NOT_FOUND, format!("no resource {name}")).respond(f),
    }
}

fn discovery() -> Value {
    json!({
        "changeset": "2026-11-28T00:00:00Z",
        "contact": "Doorstep (家门口) — the subdistrict's neighbourhood service stations",
        "key_service": "API tokens are issued to staff accounts on /me; pass one as api_key",
        "endpoints": [{
            "specification": "http://wiki.open311.org/GeoReport_v2",
            "url": "/open311/v2",
            "changeset": "2026-11-28T00:00:00Z",
            "type": "production",
            "formats": ["application/json", "text/xml"],
        }],
    })
}

async fn service_definition(
    State(state): State<AppState>,
    Path(file): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Some((code, f)) = split(&file) else {
        return fail(StatusCode::NOT_FOUND, "use .json or .xml").respond(Format::Json);
    };
    let r = async {
        let sd = jurisdiction(&state, q.get("jurisdiction_id").map(String::as_str)).await?;
        service_item(&state, sd, code).await?;
        // No service takes extra attributes (metadata is false everywhere).
        Ok(json!({"service_code": code, "attributes": []}))
    }
    .await;
    respond(f, "service_definition", "service_definition", r)
}

/// The catalogue item of a service code (`None` for `general`), or 404.
async fn service_item(state: &AppState, sd: i64, code: &str) -> Result<Option<i64>, Failure> {
    if code == GENERAL {
        return Ok(None);
    }
    let unknown = || {
        fail(
            StatusCode::NOT_FOUND,
            format!("service_code {code} not found"),
        )
    };
    let id: i64 = code.parse().map_err(|_| unknown())?;
    match state.store.find_place(Entity::ServiceItem, id).await? {
        Some(i) if i.subdistrict_id == sd && i.archived_at.is_none() => Ok(Some(id)),
        _ => Err(unknown()),
    }
}

fn w3c(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn parse_time(k: &str, v: &str) -> Result<DateTime<Utc>, Failure> {
    DateTime::parse_from_rfc3339(v.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            fail(
                StatusCode::BAD_REQUEST,
                format!("{k} must be a W3C datetime such as 2026-11-01T00:00:00Z"),
            )
        })
}

/// One request as Open311 shows it: no name, phone or e-mail.
fn public_json(p: &PublicRequest, state: &AppState, lang: Lang) -> Value {
    let r = &p.record;
    let st = r.workflow.state;
    let open = st.is_open();
    let mut notes = state.i18n.t(lang, &format!("request.state.{}", code(&st)));
    if let Some(into) = r.workflow.merged_into {
        notes = format!(
            "{notes} · {} {into}",
            state.i18n.t(lang, "request.merged_into")
        );
    }
    let (lat, lon) = match (r.lat.zip(r.lon), p.building_point) {
        (Some(pt), _) | (None, Some(pt)) => (Some(pt.0), Some(pt.1)),
        _ => (None, None),
    };
    json!({
        "service_request_id": r.id.to_string(),
        "token": r.tracking_code,
        "status": if open { "open" } else { "closed" },
        "status_notes": notes,
        "service_name": p.service_name.clone().unwrap_or_else(|| state.i18n.t(lang, "open311.general")),
        "service_code": r.service_item_id.map(|i| i.to_string()).unwrap_or_else(|| GENERAL.into()),
        "description": r.description,
        "agency_responsible": state.i18n.t(lang, "open311.agency"),
        "service_notice": "",
        "requested_datetime": w3c(r.created_at),
        "updated_datetime": w3c(r.updated_at),
        "expected_datetime": if open && st != RState::Resolved { Value::String(w3c(r.deadline_at)) } else { Value::Null },
        "address": r.address.clone().or_else(|| p.building_label.clone()).unwrap_or_default(),
        "address_id": r.building_id.map(|b| b.to_string()).unwrap_or_default(),
        "zipcode": "",
        "lat": lat,
        "long": lon,
        "media_url": "",
    })
}

async fn search(
    state: &AppState,
    q: &HashMap<String, String>,
    lang: Lang,
) -> Result<Value, Failure> {
    let sd = jurisdiction(state, q.get("jurisdiction_id").map(String::as_str)).await?;
    let nonempty = |k: &str| q.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let mut f = PublicFilter {
        subdistrict_id: sd,
        limit: MAX_RESULTS,
        ..Default::default()
    };
    if let Some(ids) = nonempty("service_request_id") {
        let parsed: Result<Vec<i64>, _> = ids.split(',').map(|s| s.trim().parse()).collect();
        f.ids = Some(parsed.map_err(|_| {
            fail(
                StatusCode::BAD_REQUEST,
                "service_request_id must be numbers, comma separated",
            )
        })?);
    } else {
        if let Some(codes) = nonempty("service_code") {
            let mut items = Vec::new();
            for c in codes.split(',') {
                items.push(service_item(state, sd, c.trim()).await?);
            }
            f.items = Some(items);
        }
        if let Some(s) = nonempty("status") {
            let mut open = None;
            for part in s.split(',') {
                let this = match part.trim() {
                    "open" => true,
                    "closed" => false,
                    other => {
                        return Err(fail(
                            StatusCode::BAD_REQUEST,
                            format!("status {other} is neither open nor closed"),
                        ));
                    }
                };
                open = match open {
                    None => Some(Some(this)),
                    Some(Some(prev)) if prev != this => Some(None),
                    keep => keep,
                };
            }
            f.open = open.flatten();
        }
        let start = nonempty("start_date")
            .map(|v| parse_time("start_date", v))
            .transpose()?;
        let end = nonempty("end_date")
            .map(|v| parse_time("end_date", v))
            .transpose()?;
        let now = state.clock.now();
        let (from, to) = match (start, end) {
            (Some(a), Some(b)) => (a, b),
            (Some(a), None) => (a, a + chrono::Duration::days(DEFAULT_DAYS)),
            (None, Some(b)) => (b - chrono::Duration::days(DEFAULT_DAYS), b),
            (None, None) => (
                now - chrono::Duration::days(DEFAULT_DAYS),
                now + chrono::Duration::days(1),
            ),
        };
        if from > to {
            return Err(fail(
                StatusCode::BAD_REQUEST,
                "start_date is after end_date",
            ));
        }
        f.from = Some(from);
        f.to = Some(to);
    }
    let rows = state.store.public_requests(&f).await?;
    Ok(Value::Array(
        rows.iter().map(|p| public_json(p, state, lang)).collect(),
    ))
}

async fn one_request(
    State(state): State<AppState>,
    Path(file): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: axum::http::HeaderMap,
) -> Response {
    let Some((id, f)) = split(&file) else {
        return fail(StatusCode::NOT_FOUND, "use .json or .xml").respond(Format::Json);
    };
    let lang = negotiate(&headers, true);
    let r = async {
        let sd = jurisdiction(&state, q.get("jurisdiction_id").map(String::as_str)).await?;
        let id: i64 = id
            .parse()
            .map_err(|_| fail(StatusCode::NOT_FOUND, format!("request {id} not found")))?;
        let rows = state
            .store
            .public_requests(&PublicFilter {
                subdistrict_id: sd,
                ids: Some(vec![id]),
                limit: 1,
                ..Default::default()
            })
            .await?;
        if rows.is_empty() {
            return Err(fail(
                StatusCode::NOT_FOUND,
                format!("request {id} not found"),
            ));
        }
        Ok(Value::Array(
            rows.iter().map(|p| public_json(p, &state, lang)).collect(),
        ))
    }
    .await;
    respond(f, "service_requests", "request", r)
}

async fn token(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    let Some((tok, f)) = split(&file) else {
        return fail(StatusCode::NOT_FOUND, "use .json or .xml").respond(Format::Json);
    };
    let r = async {
        match state
            .store
            .find_request_by_code(&tok.to_uppercase())
            .await?
        {
            Some(r) => {
                Ok(json!([{"service_request_id": r.id.to_string(), "token": r.tracking_code}]))
            }
            None => Err(fail(
                StatusCode::NOT_FOUND,
                format!("token {tok} not found"),
            )),
        }
    }
    .await;
    respond(f, "service_requests", "request", r)
}

/// The form fields of a POST (body, with `api_key` also accepted in the query).
fn form_pairs(body: &[u8], query: Option<&str>) -> HashMap<String, String> {
    let mut out: HashMap<String, String> = HashMap::new();
    for src in [query.unwrap_or("").as_bytes(), body] {
        for (k, v) in url::form_urlencoded::parse(src) {
            out.insert(k.into_owned(), v.into_owned());
        }
    }
    out
}

/// POST requests: a new request from an Open311 client.
async fn create(State(state): State<AppState>, Path(file): Path<String>, req: Request) -> Response {
    let Some((name, f)) = split(&file) else {
        return fail(StatusCode::NOT_FOUND, "use .json or .xml").respond(Format::Json);
    };
    if name != "requests" {
        return fail(StatusCode::NOT_FOUND, format!("cannot POST {name}")).respond(f);
    }
    let (parts, body) = req.into_parts();
    let lang = negotiate(&parts.headers, true);
    let ip = client_ip(&parts);
    let bytes: Bytes = match axum::body::to_bytes(body, 64 * 1024).await {
        Ok(b) => b,
        Err(_) => return fail(StatusCode::PAYLOAD_TOO_LARGE, "the form is too large").respond(f),
    };
    let r = async {
        let form = form_pairs(&bytes, parts.uri.query());
        let key = form.get("api_key").map(|k| k.trim()).unwrap_or("");
        if key.is_empty() {
            return Err(fail(
                StatusCode::FORBIDDEN,
                "api_key is required to create requests",
            ));
        }
        let account = match state.store.find_api_token(&sha256_hex(key)).await? {
            Some((_, a))
                if !a.disabled
                    && matches!(a.role, Role::Admin | Role::Secretary | Role::Worker) =>
            {
                a
            }
            _ => return Err(fail(StatusCode::FORBIDDEN, "api_key is not valid")),
        };
        if !state
            .report_throttle
            .allow(ip, state.config.resident_reports_per_hour, REPORT_WINDOW)
        {
            return Err(fail(
                StatusCode::TOO_MANY_REQUESTS,
                "too many requests from this address; try again later",
            ));
        }
        let sd = jurisdiction(&state, form.get("jurisdiction_id").map(String::as_str)).await?;
        if sd != account.subdistrict_id {
            return Err(fail(
                StatusCode::FORBIDDEN,
                "api_key does not belong to this jurisdiction",
            ));
        }
        let code = form.get("service_code").map(|c| c.trim()).unwrap_or("");
        if code.is_empty() {
            return Err(fail(StatusCode::BAD_REQUEST, "service_code is required"));
        }
        let item = service_item(&state, sd, code)
            .await
            .map_err(|e| fail(StatusCode::BAD_REQUEST, e.description))?;
        let (nb, building, point) = place(&state, sd, &form).await?;
        let mut body = serde_json::Map::new();
        body.insert("kind".into(), json!(kind_for(item)));
        body.insert(
            "description".into(),
            json!(form.get("description").cloned().unwrap_or_default()),
        );
        if let Some(i) = item {
            body.insert("service_item_id".into(), json!(i));
        }
        if let Some(b) = building {
            body.insert("building_id".into(), json!(b));
        }
        if let Some((la, lo)) = point {
            body.insert("lat".into(), json!(la));
            body.insert("lon".into(), json!(lo));
        }
        if let Some(a) = form.get("address_string").filter(|a| !a.trim().is_empty()) {
            body.insert("address".into(), json!(a.trim()));
        }
        let name = [form.get("last_name"), form.get("first_name")]
            .into_iter()
            .flatten()
            .map(|s| s.trim())
            .collect::<Vec<_>>()
            .join("");
        if !name.is_empty() {
            body.insert("resident_name".into(), json!(name));
        }
        if let Some(p) = form.get("phone").filter(|p| !p.trim().is_empty()) {
            body.insert("resident_phone".into(), json!(p.trim()));
        }
        let email = form
            .get("email")
            .map(|e| e.trim())
            .filter(|e| !e.is_empty());
        if let Some(e) = email
            && (e.len() > 120 || !e.contains('@') || e.starts_with('@') || e.ends_with('@'))
        {
            return Err(fail(
                StatusCode::BAD_REQUEST,
                "email is not an e-mail address",
            ));
        }
        // Validated like every other intake: the desk's fields, on the Open311 channel.
        body.insert("channel".into(), json!("open311"));
        let values =
            doorstep_domain::validate(crate::api::requests::REQUEST_FIELDS, &body, None, &[])
                .map_err(|e| {
                    let why: Vec<String> =
                        e.0.iter()
                            .map(|x| {
                                format!(
                                    "{}: {}",
                                    open311_name(&x.field),
                                    state.i18n.field_error(lang, x)
                                )
                            })
                            .collect();
                    fail(StatusCode::BAD_REQUEST, why.join("; "))
                })?;
        let mut values = values;
        if let Some(e) = email {
            values.insert(
                "resident_email",
                doorstep_domain::Value::Text(e.to_string()),
            );
        }
        let actor = format!("open311:{}", account.username);
        let r = resident_intake(&state, nb, &values, Channel::Open311, &[], ip, &actor)
            .await
            .map_err(|e| match e {
                crate::AppError::Validation(fe) => fail(
                    StatusCode::BAD_REQUEST,
                    fe.0.iter()
                        .map(|x| {
                            format!(
                                "{}: {}",
                                open311_name(&x.field),
                                state.i18n.field_error(lang, x)
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("; "),
                ),
                crate::AppError::Unavailable => fail(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "no one can receive requests for this place now",
                ),
                other => fail(other.status(), other.code()),
            })?;
        Ok(json!([{
            "service_request_id": r.id.to_string(),
            "token": r.tracking_code,
            "service_notice": state.i18n.t(lang, "open311.notice"),
            "account_id": "",
        }]))
    }
    .await;
    match r {
        Ok(v) => answer(f, StatusCode::CREATED, "service_requests", "request", &v),
        Err(e) => e.respond(f),
    }
}

/// Our field name as the client sent it.
fn open311_name(field: &str) -> &str {
    match field {
        "lon" => "long",
        "building_id" => "address_id",
        "address" => "address_string",
        "resident_name" => "first_name/last_name",
        "resident_phone" => "phone",
        "service_item_id" => "service_code",
        other => other,
    }
}

/// Open311 has no request kinds: a catalogue service is a call for help, a matter
/// outside the catalogue (`general`) a complaint, as 12345 files citizens' reports.
fn kind_for(item: Option<i64>) -> &'static str {
    match item {
        None => "complaint",
        Some(_) => "help",
    }
}

/// The neighbourhood, building and point of a POST: `address_id` (a building), else the
/// building nearest to `lat`/`long` within 300 m.
async fn place(
    state: &AppState,
    sd: i64,
    form: &HashMap<String, String>,
) -> Result<(i64, Option<i64>, Option<(f64, f64)>), Failure> {
    let num = |k: &str| -> Result<Option<f64>, Failure> {
        form.get(k)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
            .map(|v| {
                v.parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| fail(StatusCode::BAD_REQUEST, format!("{k} is not a number")))
            })
            .transpose()
    };
    let point = match (num("lat")?, num("long")?) {
        (Some(a), Some(b)) => Some((a, b)),
        (None, None) => None,
        _ => return Err(fail(StatusCode::BAD_REQUEST, "lat and long go together")),
    };
    if let Some(id) = form
        .get("address_id")
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
    {
        let bad = || {
            fail(
                StatusCode::BAD_REQUEST,
                format!("address_id {id} is not a building here"),
            )
        };
        let id: i64 = id.parse().map_err(|_| bad())?;
        return match state.store.find_place(Entity::Building, id).await? {
            Some(b) if b.subdistrict_id == sd && b.archived_at.is_none() => {
                Ok((b.neighbourhood_id.ok_or_else(bad)?, Some(id), point))
            }
            _ => Err(bad()),
        };
    }
    let Some((lat, lon)) = point else {
        return Err(fail(
            StatusCode::BAD_REQUEST,
            "a location is required: lat and long, or address_id (a building)",
        ));
    };
    let best = state
        .store
        .building_points(sd)
        .await?
        .into_iter()
        .map(|b| {
            let d = doorstep_domain::duplicates::haversine_m(lat, lon, b.lat, b.lon);
            (d, b)
        })
        .min_by(|a, b| a.0.total_cmp(&b.0));
    match best {
        Some((d, b)) if d <= 300.0 => Ok((b.neighbourhood_id, Some(b.id), point)),
        _ => Err(fail(
            StatusCode::BAD_REQUEST,
            "lat/long is not within 300 m of any building of this jurisdiction",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_split_into_name_and_format() {
        assert_eq!(split("services.json"), Some(("services", Format::Json)));
        assert_eq!(split("12.xml"), Some(("12", Format::Xml)));
        assert_eq!(split("services"), None);
        assert_eq!(split("services.csv"), None);
    }

    #[test]
    fn xml_nests_lists_and_escapes_text() {
        let mut out = String::new();
        xml_value(
            &mut out,
            "discovery",
            &json!({"endpoints": [{"formats": ["text/xml"]}], "note": "a<b&\"c\"\u{1}"}),
        );
        assert_eq!(
            out,
            "<discovery><endpoints><endpoint><formats><format>text/xml</format></formats></endpoint></endpoints>\
             <note>a&lt;b&amp;&quot;c&quot;</note></discovery>"
        );
    }
}
