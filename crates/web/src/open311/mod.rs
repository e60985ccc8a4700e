//! Open311 GeoReport v2 at `/open311/v2` (<https://wiki.open311.org/GeoReport_v2>):
//! discovery, services (the catalogue, plus `general` for matters outside it), service
//! definitions, requests (search, one by id, create) and tokens, as `.json` or `.xml`.
//!
//! Mapping: `service_code` is a catalogue item's id; `service_request_id` is the request's
//! id and the `token` its tracking code; every internal state maps to `open` or `closed`,
//! with the state in `status_notes`. GET answers never carry the submitter's name, phone
//! or e-mail. Creating needs an `api_key`: an API token of a staff account (made on
//! /me), named in the audit log; the request is owned by the neighbourhood's receiver.
//!
//! The listing (search and by id) shows only requests residents filed themselves, of
//! any kind but a consultation, under a catalogue item an admin marked
//! publishable; the description only where the resident said `publish_description=yes`;
//! the place at the building; never the token. Token lookups share the tracking page's
//! per-address limit.

mod create;
mod format;
mod search;

use crate::AppState;
use crate::i18n::{Lang, negotiate};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use doorstep_domain::{ServiceItemId, SubdistrictId};
use doorstep_services::requests::resident as svc;
use format::{Failure, Format, fail, respond, split};
use serde_json::{Value, json};
use std::collections::HashMap;

/// The service code of matters outside the catalogue.
pub const GENERAL: &str = "general";

/// The one attribute every service takes: may the listing show the description?
const PUBLISH_DESCRIPTION: &str = "publish_description";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/open311/v2/{file}", get(top).post(create::create))
        .route("/open311/v2/services/{file}", get(service_definition))
        .route("/open311/v2/requests/{file}", get(search::one_request))
        .route("/open311/v2/tokens/{file}", get(search::token))
}

/// The subdistrict a call is about: `jurisdiction_id` (its code or id), or the only one.
async fn jurisdiction(state: &AppState, j: Option<&str>) -> Result<SubdistrictId, Failure> {
    match svc::jurisdiction(&state.services, j).await {
        Ok(Some(sd)) => Ok(sd),
        Ok(None) => Err(match j.map(str::trim).filter(|j| !j.is_empty()) {
            Some(j) => fail(
                StatusCode::NOT_FOUND,
                format!("jurisdiction_id {j} not found"),
            ),
            None => fail(StatusCode::NOT_FOUND, "no jurisdiction is set up"),
        }),
        Err(doorstep_services::Error::Validation(_)) => Err(fail(
            StatusCode::BAD_REQUEST,
            "jurisdiction_id is required: this server serves several subdistricts",
        )),
        Err(e) => Err(e.into()),
    }
}

async fn services_json(
    state: &AppState,
    sd: SubdistrictId,
    lang: Lang,
) -> Result<Vec<Value>, Failure> {
    let tr = |k: &str| state.i18n.t(lang, k);
    let items = svc::services(&state.services, sd).await?;
    let mut out: Vec<Value> = items
        .iter()
        .map(|i| {
            let cat = i.get("category").as_str().unwrap_or("").to_string();
            json!({
                "service_code": i.id.to_string(),
                "service_name": i.get("name").as_str().unwrap_or(""),
                "description": i.get("description").as_str().unwrap_or(""),
                "metadata": true,
                "type": "realtime",
                "keywords": cat,
                "group": tr(&format!("choice.category.{cat}")),
            })
        })
        .collect();
    out.push(json!({
        "service_code": GENERAL,
        "service_name": tr("open311.general"),
        "description": tr("open311.general_description"),
        "metadata": true, "type": "realtime", "keywords": "", "group": "",
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
        "discovery" => respond(
            f,
            "discovery",
            "discovery",
            Ok(discovery(&root(&state, &headers))),
        ),
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
            search::search(&state, &q, lang).await,
        ),
        _ => fail(StatusCode::NOT_FOUND, format!("no resource {name}")).respond(f),
    }
}

/// This server's address as its clients reach it: the configured public URL, else the
/// request's host.
fn root(state: &AppState, headers: &axum::http::HeaderMap) -> String {
    if let Some(o) = state.config.trusted_origins.first() {
        return o.clone();
    }
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .unwrap_or("localhost");
    let scheme = if state.config.secure_cookies {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}")
}

/// The discovery document; endpoint URLs are absolute, as the spec's clients expect.
fn discovery(root: &str) -> Value {
    json!({
        "changeset": "2026-11-28T00:00:00Z",
        "contact": "Doorstep (家门口) — the subdistrict's neighbourhood service stations",
        "key_service": "API tokens are issued to staff accounts on /me; pass one as api_key",
        "endpoints": [{
            "specification": "http://wiki.open311.org/GeoReport_v2",
            "url": format!("{root}/open311/v2"),
            "changeset": "2026-11-28T00:00:00Z",
            "type": "production",
            "formats": ["application/json", "text/xml"],
        }],
    })
}

/// The attribute of every service definition: the resident's consent to show the
/// description in the public listing (what was said stays private otherwise).
fn publish_attribute(state: &AppState, lang: Lang) -> Value {
    let tr = |k: &str| state.i18n.t(lang, k);
    json!({
        "variable": true,
        "code": PUBLISH_DESCRIPTION,
        "datatype": "singlevaluelist",
        "required": false,
        "datatype_description": tr("open311.publish_hint"),
        "order": 1,
        "description": tr("open311.publish"),
        "values": [
            {"key": "no", "name": tr("open311.publish_no")},
            {"key": "yes", "name": tr("open311.publish_yes")},
        ],
    })
}

async fn service_definition(
    State(state): State<AppState>,
    Path(file): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: axum::http::HeaderMap,
) -> Response {
    let Some((code, f)) = split(&file) else {
        return fail(StatusCode::NOT_FOUND, "use .json or .xml").respond(Format::Json);
    };
    let lang = negotiate(&headers, true);
    let r = async {
        let sd = jurisdiction(&state, q.get("jurisdiction_id").map(String::as_str)).await?;
        service_item(&state, sd, code).await?;
        Ok(json!({"service_code": code, "attributes": [publish_attribute(&state, lang)]}))
    }
    .await;
    respond(f, "service_definition", "service_definition", r)
}

/// The catalogue item of a service code (`None` for `general`), or 404.
async fn service_item(
    state: &AppState,
    sd: SubdistrictId,
    code: &str,
) -> Result<Option<ServiceItemId>, Failure> {
    if code == GENERAL {
        return Ok(None);
    }
    let unknown = || {
        fail(
            StatusCode::NOT_FOUND,
            format!("service_code {code} not found"),
        )
    };
    let id: ServiceItemId = code.parse().map_err(|_| unknown())?;
    match svc::service(&state.services, sd, id).await? {
        Some(_) => Ok(Some(id)),
        None => Err(unknown()),
    }
}
