//! The 15-minute circle in the API: coverage, buildings (JSON and GeoJSON), suggested
//! sites, and the XLSX export.

use crate::params::ApiQuery;
use crate::session::CurrentUser;
use crate::{AppError, AppState};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use doorstep_geo::Category;
use doorstep_services::circle::export::{self, XlsxLabels};
use doorstep_services::circle::{self, CircleQuery};
use serde_json::json;

pub async fn summary(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<serde_json::Value>, AppError> {
    let sv = &state.services;
    let d = circle::data(sv, &user.actor).await?;
    let rows = circle::coverage_rows(sv, &user.actor, &d, "subdistrict".into()).await?;
    let limits: serde_json::Map<String, serde_json::Value> = Category::ALL
        .iter()
        .map(|c| (c.code().to_string(), c.default_minutes().into()))
        .collect();
    let counts: serde_json::Map<String, serde_json::Value> = Category::ALL
        .iter()
        .map(|c| {
            let n = d.facilities.iter().filter(|f| f.category == *c).count();
            (c.code().to_string(), n.into())
        })
        .collect();
    Ok(Json(json!({
        "network": d.meta, "attribution": circle::attribution(&d), "walk_speed_mps": d.speed_mps,
        "limits_minutes": limits, "facilities": counts, "coverage": rows,
    })))
}

pub async fn buildings(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(q): ApiQuery<CircleQuery>,
) -> Result<Json<serde_json::Value>, AppError> {
    let p = q.check()?;
    let d = circle::data(&state.services, &user.actor).await?;
    let bs = circle::scoped(&d, &user.actor, p.neighbourhood_id)?;
    let items: Vec<serde_json::Value> = bs
        .iter()
        .filter(|b| !p.outside || !d.covered(b, p.category, p.limit))
        .map(|b| export::building_json(&d, b))
        .collect();
    Ok(Json(
        json!({"category": p.category, "limit_minutes": p.limit, "total": items.len(), "items": items}),
    ))
}

pub async fn geojson(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(q): ApiQuery<CircleQuery>,
) -> Result<Response, AppError> {
    let p = q.check()?;
    let sv = &state.services;
    let d = circle::data(sv, &user.actor).await?;
    let bs = circle::scoped(&d, &user.actor, p.neighbourhood_id)?;
    let sites = match p.k {
        0 => Vec::new(),
        k => d.sites(&bs, p.category, p.limit, k, None),
    };
    let body = export::geojson_export(sv, &user.caller(), &d, &bs, &sites).await?;
    let mut res = Json(body).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/geo+json"),
    );
    Ok(res)
}

pub async fn sites(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(q): ApiQuery<CircleQuery>,
) -> Result<Json<serde_json::Value>, AppError> {
    let p = q.check()?;
    let d = circle::data(&state.services, &user.actor).await?;
    let bs = circle::scoped(&d, &user.actor, p.neighbourhood_id)?;
    let candidates = match &p.candidate_buildings {
        Some(ids) => Some(circle::candidate_nodes(&bs, ids)?),
        None => None,
    };
    let k = if p.k == 0 { 3 } else { p.k };
    let sites = d.sites(&bs, p.category, p.limit, k, candidates.as_deref());
    let uncovered: f64 = bs
        .iter()
        .filter(|b| !d.covered(b, p.category, p.limit))
        .map(|b| b.point.residents)
        .sum();
    Ok(Json(
        json!({"category": p.category, "limit_minutes": p.limit, "uncovered_residents": uncovered, "sites": sites}),
    ))
}

fn labels(state: &AppState, lang: crate::i18n::Lang, d: &circle::CircleData) -> XlsxLabels {
    let tr = |k: &str| state.i18n.t(lang, k);
    XlsxLabels {
        coverage_sheet: tr("circle.xlsx_coverage"),
        buildings_sheet: tr("circle.xlsx_buildings"),
        neighbourhood: tr("field.neighbourhood_id"),
        buildings: tr("stat.buildings"),
        residents: tr("circle.residents"),
        estate: tr("field.estate_id"),
        number: tr("field.number"),
        households: tr("field.households"),
        lat: tr("field.lat"),
        lon: tr("field.lon"),
        minutes: tr("circle.minutes"),
        categories: Category::ALL
            .iter()
            .map(|c| state.i18n.circle_category(lang, *c))
            .collect(),
        note: format!(
            "{} · {}",
            tr("circle.coverage_note"),
            circle::attribution(d)
        ),
    }
}

pub async fn xlsx(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(q): ApiQuery<CircleQuery>,
) -> Result<Response, AppError> {
    let p = q.check()?;
    let sv = &state.services;
    let d = circle::data(sv, &user.actor).await?;
    let total = state.i18n.t(user.lang, "circle.subdistrict_total");
    let rows = circle::coverage_rows(sv, &user.actor, &d, total).await?;
    let bs = circle::scoped(&d, &user.actor, p.neighbourhood_id)?;
    let labels = labels(&state, user.lang, &d);
    let bytes = export::xlsx_export(sv, &user.caller(), &d, &rows, &bs, &labels).await?;
    Ok(crate::views::xlsx_download(bytes, "circle.xlsx"))
}
