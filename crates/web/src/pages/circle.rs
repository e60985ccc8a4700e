//! The 15-minute circle page: map, coverage per neighbourhood, buildings outside the
//! circle, and where to add a facility.

use super::circle_map::{MapLabels, map_svg};
use crate::params::PageQuery;
use crate::render::page;
use crate::session::CurrentUser;
use crate::views::{self, SelectOption};
use crate::{AppError, AppState};
use axum::Router;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use doorstep_domain::Role;
use doorstep_geo::Category;
use doorstep_services::circle::{self, CircleQuery};
use minijinja::context;

pub fn routes() -> Router<AppState> {
    Router::new().route("/circle", get(show))
}

async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    PageQuery(q): PageQuery<CircleQuery>,
) -> Result<Response, AppError> {
    let lang = user.lang;
    let sv = &state.services;
    let tr = |k: &str| state.i18n.t(lang, k);
    let title = tr("circle.title");
    let Some(data) = circle::load(sv, user.actor.subdistrict_id).await? else {
        let extra = context! { title => title.clone(), missing => true, admin => user.actor.role == Role::Admin };
        return Ok(page(&state, lang, Some(&user), "circle.html", &title, extra)?.into_response());
    };
    let (p, param_error) = checked(&state, lang, &q)?;
    let buildings = circle::scoped(&data, &user.actor, p.neighbourhood_id)?;
    let candidates = match &p.candidate_buildings {
        Some(ids) => Some(circle::candidate_nodes(&buildings, ids)?),
        None => None,
    };
    let sites = if p.k > 0 {
        data.sites(&buildings, p.category, p.limit, p.k, candidates.as_deref())
    } else {
        Vec::new()
    };
    let svg = map_svg(
        &data,
        &buildings,
        p.category,
        p.limit,
        &sites,
        &labels(&state, lang, p.category),
    );
    let rows =
        circle::coverage_rows(sv, &user.actor, &data, tr("circle.subdistrict_total")).await?;
    let coverage = coverage_json(&rows, p.category);
    let outside = Outside::of(&data, &buildings, p.category, p.limit);
    let site_rows = site_json(&sites, &buildings);
    let categories = category_options(&state, lang);
    let headers: Vec<String> = categories.iter().map(|c| c.label.clone()).collect();
    let neighbourhoods = neighbourhood_options(&rows);
    let qs = export_query(&p, q.minutes.as_deref());
    let meta = &data.meta;
    let extra = context! {
        title => title.clone(),
        svg => minijinja::Value::from_safe_string(svg),
        synthetic => meta.synthetic,
        network => serde_json::json!({
            "name": meta.name, "source": meta.source, "nodes": meta.nodes, "edges": meta.edges,
            "imported": views::local_time(meta.created_at), "facilities": data.facilities.len(),
        }),
        categories, headers, coverage, neighbourhoods,
        category => p.category.code(),
        category_label => state.i18n.circle_category(lang, p.category),
        minutes => views::format_num(p.limit),
        // The box shows a limit only when one was asked for: switching the category then
        // applies that category's own guideline (elderly care 5 minutes, child care 10).
        minutes_given => q.minutes.as_deref().filter(|m| !m.trim().is_empty() && param_error.is_none()),
        minutes_default => views::format_num(p.category.default_minutes()),
        param_error => param_error.clone(),
        speed => views::format_num(data.speed_mps),
        neighbourhood_id => p.neighbourhood_id.map(|n| n.to_string()).unwrap_or_default(),
        k => if p.k > 0 { p.k.to_string() } else { "3".to_string() },
        outside_rows => outside.rows,
        outside_count => outside.count,
        outside_residents => views::people(outside.residents),
        in_scope => buildings.len(),
        sites => site_rows,
        geojson_href => format!("/api/v1/circle/buildings.geojson?{qs}"),
        xlsx_href => format!("/api/v1/circle/export.xlsx?{qs}"),
        api_href => format!("/api/v1/circle?{qs}"),
        attribution => circle::attribution(&data),
    };
    let html: Html<String> = page(&state, lang, Some(&user), "circle.html", &title, extra)?;
    Ok(html.into_response())
}

/// The query checked; a value the page cannot use is named, and the defaults shown.
fn checked(
    state: &AppState,
    lang: crate::i18n::Lang,
    q: &CircleQuery,
) -> Result<(circle::Params, Option<String>), AppError> {
    let fe = match q.check() {
        Ok(p) => return Ok((p, None)),
        Err(doorstep_services::Error::Validation(fe)) => fe,
        Err(e) => return Err(e.into()),
    };
    // Keep what was valid (the category, say) and drop only what was not.
    let mut kept = q.clone();
    for e in &fe.0 {
        match e.field.as_str() {
            "category" => kept.category = None,
            "minutes" => kept.minutes = None,
            "neighbourhood_id" => kept.neighbourhood_id = None,
            "k" => kept.k = None,
            "candidate_buildings" => kept.candidate_buildings = None,
            _ => kept.outside = None,
        }
    }
    let p = kept.check().or_else(|_| CircleQuery::default().check())?;
    let label = |field: &str| match field {
        "category" => state.i18n.t(lang, "circle.category_label"),
        "minutes" => state.i18n.t(lang, "circle.limit"),
        "k" => state.i18n.t(lang, "circle.k"),
        other => state.i18n.t(lang, &format!("field.{other}")),
    };
    let named: Vec<String> =
        fe.0.iter()
            .map(|e| format!("{}：{}", label(&e.field), state.i18n.field_error(lang, e)))
            .collect();
    Ok((p, Some(named.join("；"))))
}

fn labels(state: &AppState, lang: crate::i18n::Lang, c: Category) -> MapLabels {
    let tr = |k: &str| state.i18n.t(lang, k);
    MapLabels {
        title: state.i18n.t_args(
            lang,
            "circle.map_label",
            &[state.i18n.circle_category(lang, c)],
        ),
        minutes: tr("circle.minutes"),
        site: tr("circle.site"),
        unnamed: tr("circle.unnamed"),
    }
}

fn category_options(state: &AppState, lang: crate::i18n::Lang) -> Vec<SelectOption> {
    Category::ALL
        .iter()
        .map(|c| SelectOption {
            value: c.code().into(),
            label: state.i18n.circle_category(lang, *c),
        })
        .collect()
}

/// The neighbourhoods the coverage table lists (the total row has no id).
fn neighbourhood_options(rows: &[circle::Coverage]) -> Vec<SelectOption> {
    rows.iter()
        .filter_map(|r| {
            r.neighbourhood_id.map(|id| SelectOption {
                value: id.to_string(),
                label: r.name.clone(),
            })
        })
        .collect()
}

/// One row per neighbourhood (and the subdistrict total): its share covered per category.
fn coverage_json(rows: &[circle::Coverage], category: Category) -> Vec<serde_json::Value> {
    rows.iter()
        .map(|r| {
            let cells: Vec<serde_json::Value> = Category::ALL
                .iter()
                .map(|c| {
                    let s = r.share[c.code()];
                    serde_json::json!({"pct": format!("{:.1}%", s * 100.0), "low": s < 0.99})
                })
                .collect();
            let href = r
                .neighbourhood_id
                .map(|n| format!("/circle?neighbourhood_id={n}&category={}", category.code()));
            serde_json::json!({
                "name": r.name, "href": href, "buildings": r.buildings,
                "residents": views::people(r.residents), "cells": cells,
            })
        })
        .collect()
}

/// The buildings outside the circle, farthest first; the page lists the first 200.
struct Outside {
    count: usize,
    residents: f64,
    rows: Vec<serde_json::Value>,
}

impl Outside {
    const SHOWN: usize = 200;

    fn of(
        data: &circle::CircleData,
        buildings: &[&circle::PlacedBuilding],
        category: Category,
        limit: f64,
    ) -> Outside {
        let far = |b: &circle::PlacedBuilding| data.minutes(b, category).unwrap_or(f64::MAX);
        let mut outside: Vec<&circle::PlacedBuilding> = buildings
            .iter()
            .copied()
            .filter(|b| !data.covered(b, category, limit))
            .collect();
        outside.sort_by(|a, b| far(b).total_cmp(&far(a)));
        let rows = outside
            .iter()
            .take(Self::SHOWN)
            .map(|b| {
                let minutes = data.minutes(b, category);
                serde_json::json!({
                    "href": format!("/buildings/{}", b.point.id),
                    "label": format!("{} {}", b.point.estate, b.point.number),
                    "minutes": minutes.map(|m| format!("{m:.1}")).unwrap_or_else(|| "—".into()),
                    "residents": views::people(b.point.residents),
                })
            })
            .collect();
        Outside {
            count: outside.len(),
            residents: outside.iter().map(|b| b.point.residents).sum(),
            rows,
        }
    }
}

/// The suggested sites, each named by the nearest building in scope.
fn site_json(
    sites: &[doorstep_geo::SiteChoice],
    buildings: &[&circle::PlacedBuilding],
) -> Vec<serde_json::Value> {
    use doorstep_domain::earth::haversine_m;
    sites
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let distance =
                |b: &&circle::PlacedBuilding| haversine_m(b.point.lat, b.point.lon, s.lat, s.lon);
            let near = buildings
                .iter()
                .min_by(|a, b| distance(a).total_cmp(&distance(b)))
                .map(|b| format!("{} {}", b.point.estate, b.point.number))
                .unwrap_or_default();
            serde_json::json!({
                "rank": i + 1, "lat": format!("{:.6}", s.lat), "lon": format!("{:.6}", s.lon),
                "near": near, "residents": views::people(s.gain_weight), "buildings": s.gain_points,
            })
        })
        .collect()
}

/// The query the export links carry: the same category, scope and (if asked) minutes.
fn export_query(p: &circle::Params, minutes_asked: Option<&str>) -> String {
    let mut query = vec![format!("category={}", p.category.code())];
    if let Some(n) = p.neighbourhood_id {
        query.push(format!("neighbourhood_id={n}"));
    }
    if minutes_asked.is_some_and(|m| !m.is_empty()) {
        query.push(format!("minutes={}", p.limit));
    }
    query.join("&")
}
