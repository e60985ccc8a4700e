//! The 15-minute circle in the API: coverage, buildings (JSON and GeoJSON), suggested
//! sites, and the XLSX export.

use crate::auth::CurrentUser;
use crate::circle::{self, CircleQuery, XlsxLabels};
use crate::pages::circle_api::{category_label, coverage_rows};
use crate::{AppError, AppState};
use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use doorstep_geo::Category;
use serde_json::json;
use std::sync::Arc;

async fn data(state: &AppState, user: &CurrentUser) -> Result<Arc<circle::CircleData>, AppError> {
    circle::load(state, user.actor.subdistrict_id)
        .await?
        .ok_or(AppError::NotFound)
}

pub async fn summary(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<serde_json::Value>, AppError> {
    let d = data(&state, &user).await?;
    let rows = coverage_rows(&state, &user, &d, "subdistrict".into()).await?;
    let limits: serde_json::Map<String, serde_json::Value> = Category::ALL
        .iter()
        .map(|c| (c.code().to_string(), c.default_minutes().into()))
        .collect();
    let mut counts = serde_json::Map::new();
    for c in Category::ALL {
        counts.insert(
            c.code().into(),
            d.facilities
                .iter()
                .filter(|f| f.category == c)
                .count()
                .into(),
        );
    }
    Ok(Json(json!({
        "network": d.meta, "attribution": circle::attribution(&d), "walk_speed_mps": d.speed_mps,
        "limits_minutes": limits, "facilities": counts, "coverage": rows,
    })))
}

pub async fn buildings(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<CircleQuery>,
) -> Result<Json<serde_json::Value>, AppError> {
    let p = q.check()?;
    let d = data(&state, &user).await?;
    let bs = circle::scoped(&d, &user.actor, p.neighbourhood_id)?;
    let items: Vec<serde_json::Value> = bs
        .iter()
        .filter(|b| !p.outside || !d.covered(b, p.category, p.limit))
        .map(|b| circle::building_json(&d, b))
        .collect();
    Ok(Json(
        json!({"category": p.category, "limit_minutes": p.limit, "total": items.len(), "items": items}),
    ))
}

pub async fn geojson(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<CircleQuery>,
) -> Result<Response, AppError> {
    let p = q.check()?;
    let d = data(&state, &user).await?;
    let bs = circle::scoped(&d, &user.actor, p.neighbourhood_id)?;
    let sites = match p.k {
        0 => Vec::new(),
        k => d.sites(&bs, p.category, p.limit, k, None),
    };
    let body = circle::geojson(&d, &bs, &sites, circle::attribution(&d));
    audit_export(&state, &user, "geojson", bs.len()).await?;
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
    Query(q): Query<CircleQuery>,
) -> Result<Json<serde_json::Value>, AppError> {
    let p = q.check()?;
    let d = data(&state, &user).await?;
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

pub async fn xlsx(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<CircleQuery>,
) -> Result<Response, AppError> {
    let p = q.check()?;
    let lang = user.lang;
    let tr = |k: &str| state.i18n.t(lang, k);
    let d = data(&state, &user).await?;
    let rows = coverage_rows(&state, &user, &d, tr("circle.subdistrict_total")).await?;
    let bs = circle::scoped(&d, &user.actor, p.neighbourhood_id)?;
    let labels = XlsxLabels {
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
            .map(|c| category_label(&state, lang, *c))
            .collect(),
        note: format!(
            "{} · {}",
            tr("circle.coverage_note"),
            circle::attribution(&d)
        ),
    };
    let bytes = circle::xlsx(&d, &rows, &bs, &labels).map_err(|e| {
        tracing::error!(error = %e, "xlsx export failed");
        AppError::Internal
    })?;
    audit_export(&state, &user, "xlsx", bs.len()).await?;
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"circle.xlsx\""),
    );
    Ok(res)
}

async fn audit_export(
    state: &AppState,
    user: &CurrentUser,
    format: &str,
    rows: usize,
) -> Result<(), AppError> {
    let entry = doorstep_store::AuditEntry::event(
        "export",
        json!({"what": "circle_buildings", "format": format, "rows": rows}),
    );
    state.store.record_audit(&user.ctx(state), entry).await?;
    Ok(())
}
