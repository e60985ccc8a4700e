//! Creating a request from an Open311 client (`POST requests.json`): the form fields as
//! the spec names them, checked like every other intake, owned by the neighbourhood's
//! receiver.

use super::format::{Failure, Format, answer, fail, split};
use super::{jurisdiction, service_item};
use crate::i18n::{Lang, negotiate};
use crate::session::client_ip;
use crate::{AppState, REPORT_WINDOW};
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use doorstep_domain::requests::Channel;
use doorstep_domain::{
    BuildingId, FieldErrors, NeighbourhoodId, ServiceItemId, SubdistrictId, Value,
};
use doorstep_services::limits::{self, Bucket};
use doorstep_services::records::Account;
use doorstep_services::requests::resident as svc;
use doorstep_services::signin;
use serde_json::json;
use std::collections::HashMap;
use std::net::IpAddr;

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

/// Field errors in the client's words, as one 400.
fn field_failure(state: &AppState, lang: Lang, e: &FieldErrors) -> Failure {
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
}

/// Open311 has no request kinds: a matter of the shared place (a publishable item) is a
/// report (反映), any other catalogue service a call for help, a matter outside the
/// catalogue (`general`) a complaint, as 12345 files citizens' reports.
fn kind_for(item: Option<ServiceItemId>, publishable: bool) -> &'static str {
    match (item, publishable) {
        (None, _) => "complaint",
        (Some(_), true) => "report",
        (Some(_), false) => "help",
    }
}

/// The service attribute `publish_description` (`yes`/`no`, default `no`): whether the
/// resident allows the public listing to show the description.
fn publish_description(form: &HashMap<String, String>) -> Result<bool, Failure> {
    let key = format!("attribute[{}]", super::PUBLISH_DESCRIPTION);
    match form.get(&key).map(|v| v.trim()).unwrap_or("") {
        "" | "no" => Ok(false),
        "yes" => Ok(true),
        other => Err(fail(
            StatusCode::BAD_REQUEST,
            format!("{key} is yes or no, not {other}"),
        )),
    }
}

/// The staff account behind an `api_key`.
async fn key_holder(state: &AppState, form: &HashMap<String, String>) -> Result<Account, Failure> {
    let key = form.get("api_key").map(|k| k.trim()).unwrap_or("");
    if key.is_empty() {
        return Err(fail(
            StatusCode::FORBIDDEN,
            "api_key is required to create requests",
        ));
    }
    match signin::bearer(&state.services, key).await? {
        Some(a) if a.role.is_staff() => Ok(a),
        _ => Err(fail(StatusCode::FORBIDDEN, "api_key is not valid")),
    }
}

/// The neighbourhood, building and point of a POST: `address_id` (a building), else the
/// building nearest to `lat`/`long` within 300 m.
async fn place(
    state: &AppState,
    sd: SubdistrictId,
    form: &HashMap<String, String>,
) -> Result<(NeighbourhoodId, Option<BuildingId>, Option<(f64, f64)>), Failure> {
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
        let id: BuildingId = id.parse().map_err(|_| bad())?;
        let b = svc::building(&state.services, sd, id)
            .await?
            .ok_or_else(bad)?;
        return Ok((b.neighbourhood_id.ok_or_else(bad)?, Some(id), point));
    }
    let Some(p) = point else {
        return Err(fail(
            StatusCode::BAD_REQUEST,
            "a location is required: lat and long, or address_id (a building)",
        ));
    };
    match svc::nearest_building(&state.services, sd, p, 300.0).await? {
        Some(b) => Ok((b.neighbourhood_id, Some(b.id), point)),
        None => Err(fail(
            StatusCode::BAD_REQUEST,
            "lat/long is not within 300 m of any building of this jurisdiction",
        )),
    }
}

/// The intake's fields from the form.
fn intake_body(
    form: &HashMap<String, String>,
    item: Option<ServiceItemId>,
    publishable: bool,
    building: Option<BuildingId>,
    point: Option<(f64, f64)>,
    public_description: bool,
) -> serde_json::Map<String, serde_json::Value> {
    let mut body = serde_json::Map::new();
    let trimmed = |k: &str| form.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    body.insert("channel".into(), json!(Channel::Open311));
    body.insert("kind".into(), json!(kind_for(item, publishable)));
    body.insert(
        "description".into(),
        json!(form.get("description").cloned().unwrap_or_default()),
    );
    body.insert("public_description".into(), json!(public_description));
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
    if let Some(a) = trimmed("address_string") {
        body.insert("address".into(), json!(a));
    }
    let name: String = [form.get("last_name"), form.get("first_name")]
        .into_iter()
        .flatten()
        .map(|s| s.trim())
        .collect();
    if !name.is_empty() {
        body.insert("resident_name".into(), json!(name));
    }
    if let Some(p) = trimmed("phone") {
        body.insert("resident_phone".into(), json!(p));
    }
    body
}

/// A plausible e-mail address, if one is given.
fn email(form: &HashMap<String, String>) -> Result<Option<String>, Failure> {
    match form
        .get("email")
        .map(|e| e.trim())
        .filter(|e| !e.is_empty())
    {
        None => Ok(None),
        Some(e)
            if e.len() > 120
                || !e.contains('@')
                || e.starts_with('@')
                || e.ends_with('@')
                || e.chars().any(|c| c.is_control() || c.is_whitespace()) =>
        {
            Err(fail(
                StatusCode::BAD_REQUEST,
                "email is not an e-mail address",
            ))
        }
        Some(e) => Ok(Some(e.to_string())),
    }
}

/// Files a request for the key's holder. A client is limited by its key, not by the
/// address it calls from (a hotline's server is one address for thousands of
/// residents). The slot is taken first, so that requests sent at the same moment cannot
/// all pass, and given back when nothing is filed: only filed requests count.
async fn file_request(
    state: &AppState,
    form: &HashMap<String, String>,
    lang: Lang,
    ip: Option<IpAddr>,
) -> Result<serde_json::Value, Failure> {
    let sv = &state.services;
    let account = key_holder(state, form).await?;
    let limit = state.config.open311_reports_per_hour;
    let slot = match limits::reserve(
        sv,
        Bucket::Open311Key,
        account.id.get(),
        limit,
        REPORT_WINDOW,
    )
    .await?
    {
        Ok(slot) => slot,
        Err(retry_after) => {
            return Err(Failure {
                retry_after: Some(retry_after),
                ..fail(
                    StatusCode::TOO_MANY_REQUESTS,
                    format!(
                        "this api_key has filed {limit} requests in the past hour; try again in {retry_after} seconds"
                    ),
                )
            });
        }
    };
    let filed = file_checked(state, form, lang, ip, &account).await;
    if filed.is_err() {
        slot.release(sv).await?;
    }
    filed
}

/// The request of a POST, checked like every other intake.
async fn file_checked(
    state: &AppState,
    form: &HashMap<String, String>,
    lang: Lang,
    ip: Option<IpAddr>,
    account: &Account,
) -> Result<serde_json::Value, Failure> {
    let sv = &state.services;
    let sd = jurisdiction(state, form.get("jurisdiction_id").map(String::as_str)).await?;
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
    let item = service_item(state, sd, code)
        .await
        .map_err(|e| fail(StatusCode::BAD_REQUEST, e.description))?;
    let (nb, building, point) = place(state, sd, form).await?;
    // The same rules as every channel: a key of 牡丹七 files nothing in 牡丹六.
    svc::may_file_for(account, nb).map_err(|_| {
        fail(
            StatusCode::FORBIDDEN,
            "api_key may not file requests for this place",
        )
    })?;
    let email = email(form)?;
    let publishable = match item {
        Some(i) => svc::service(sv, sd, i)
            .await?
            .is_some_and(|r| r.get("publishable").as_bool()),
        None => false,
    };
    let body = intake_body(
        form,
        item,
        publishable,
        building,
        point,
        publish_description(form)?,
    );
    // Validated like every other intake: the desk's fields, on the Open311 channel.
    let mut values = svc::validate(&body).map_err(|e| field_failure(state, lang, &e))?;
    if let Some(e) = email {
        values.insert("resident_email", Value::Text(e));
    }
    let actor = format!("open311:{}", account.username);
    let r = svc::intake(sv, nb, &values, Channel::Open311, &[], ip, &actor)
        .await
        .map_err(|e| match e {
            doorstep_services::Error::Validation(fe) => field_failure(state, lang, &fe),
            doorstep_services::Error::Unavailable => fail(
                StatusCode::SERVICE_UNAVAILABLE,
                "no one can receive requests for this place now",
            ),
            other => other.into(),
        })?;
    Ok(json!([{
        "service_request_id": r.id.to_string(),
        "token": r.tracking_code,
        "service_notice": state.i18n.t(lang, "open311.notice"),
        "account_id": "",
    }]))
}

/// POST requests: a new request from an Open311 client.
pub(super) async fn create(
    State(state): State<AppState>,
    Path(file): Path<String>,
    req: Request,
) -> Response {
    let Some((name, f)) = split(&file) else {
        return fail(StatusCode::NOT_FOUND, "use .json or .xml").respond(Format::Json);
    };
    if name != "requests" {
        return fail(StatusCode::NOT_FOUND, format!("cannot POST {name}")).respond(f);
    }
    let (parts, body) = req.into_parts();
    let lang = negotiate(&parts.headers, true);
    let multipart = parts
        .headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.to_ascii_lowercase().starts_with("multipart/"));
    if multipart {
        return fail(
            StatusCode::BAD_REQUEST,
            "send the fields as application/x-www-form-urlencoded, as GeoReport v2 says; multipart forms (media uploads) are not taken here",
        )
        .respond(f);
    }
    let ip = client_ip(&parts);
    let bytes: Bytes = match axum::body::to_bytes(body, 64 * 1024).await {
        Ok(b) => b,
        Err(_) => return fail(StatusCode::PAYLOAD_TOO_LARGE, "the form is too large").respond(f),
    };
    let form = form_pairs(&bytes, parts.uri.query());
    match file_request(&state, &form, lang, ip).await {
        Ok(v) => answer(f, StatusCode::CREATED, "service_requests", "request", &v),
        Err(e) => e.respond(f),
    }
}
