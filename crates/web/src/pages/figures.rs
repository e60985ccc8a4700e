//! The figures page: a neighbourhood's (or, for admins, every neighbourhood's) requests
//! in a period, with the rates secretaries report upwards.

use crate::params::{FromParams, PageQuery, Params};
use crate::render::page;
use crate::session::CurrentUser;
use crate::views::SelectOption;
use crate::{AppError, AppState};
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::NaiveDate;
use doorstep_domain::{NeighbourhoodId, Role};
use doorstep_services::figures::{self, Period};
use doorstep_services::records::FigureRow;
use minijinja::context;

pub fn routes() -> Router<AppState> {
    Router::new().route("/figures", get(index))
}

fn pct(x: Option<f64>) -> String {
    x.map(|v| format!("{:.1}%", v * 100.0))
        .unwrap_or_else(|| "—".into())
}

fn row_cells(r: &FigureRow, name: String) -> serde_json::Value {
    serde_json::json!({
        "name": name, "total": r.total, "open": r.open, "overdue": r.overdue_open, "merged": r.merged,
        "on_time": pct(r.on_time_rate()), "on_spot": pct(r.on_spot_rate()),
        "resolution": pct(r.resolution_rate()), "satisfaction": pct(r.satisfaction_rate()), "rated": r.rated,
        "median": r.median_resolve_secs.map(|s| format!("{:.1}", s as f64 / 3600.0)).unwrap_or_else(|| "—".into()),
    })
}

/// A period and, for admins, a neighbourhood.
struct FigureQuery {
    neighbourhood_id: Option<NeighbourhoodId>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
}

impl FromParams for FigureQuery {
    fn from_params(p: &mut Params) -> Self {
        FigureQuery {
            neighbourhood_id: p.id("neighbourhood_id"),
            from: p.date("from"),
            to: p.date("to"),
        }
    }
}

async fn index(
    State(state): State<AppState>,
    user: CurrentUser,
    PageQuery(p): PageQuery<FigureQuery>,
) -> Result<Response, AppError> {
    let lang = user.lang;
    let sv = &state.services;
    let tr = |k: &str| state.i18n.t(lang, k);
    let asked = p.neighbourhood_id;
    let period = Period::new(p.from, p.to, figures::today(sv))?;
    let f = figures::load(sv, &user.actor, asked, period).await?;
    let names = figures::neighbourhood_names(sv, &user.actor).await?;
    let name_of = |id: Option<NeighbourhoodId>| {
        id.and_then(|n| names.get(&n).cloned())
            .unwrap_or_else(|| tr("figures.all"))
    };
    let overall = row_cells(&f.overall, name_of(f.overall.neighbourhood_id));
    let rows: Vec<serde_json::Value> = f
        .neighbourhoods
        .iter()
        .map(|r| row_cells(r, name_of(r.neighbourhood_id)))
        .collect();
    let kinds: Vec<serde_json::Value> = f
        .by_kind
        .iter()
        .map(|(k, n)| serde_json::json!({"label": tr(&format!("choice.kind.{k}")), "n": n}))
        .collect();
    let categories: Vec<serde_json::Value> = f
        .by_category
        .iter()
        .map(|(k, n)| {
            let label = if k.is_empty() {
                tr("figures.no_item")
            } else {
                tr(&format!("choice.category.{k}"))
            };
            serde_json::json!({"label": label, "n": n})
        })
        .collect();
    let mut nb_options: Vec<SelectOption> = Vec::new();
    if user.actor.role == Role::Admin {
        let mut all: Vec<(&NeighbourhoodId, &String)> = names.iter().collect();
        all.sort_by_key(|(id, _)| **id);
        nb_options = all
            .into_iter()
            .map(|(id, n)| SelectOption {
                value: id.to_string(),
                label: n.clone(),
            })
            .collect();
    }
    let title = tr("figures.title");
    let extra = context! {
        title => title.clone(), overall, rows, kinds, categories, nb_options,
        from => period.from.to_string(), to => period.to.to_string(),
        selected => asked.map(|n| n.to_string()).unwrap_or_default(),
        api => format!("/api/v1/figures?from={}&to={}{}", period.from, period.to, asked.map(|n| format!("&neighbourhood_id={n}")).unwrap_or_default()),
    };
    Ok(page(&state, lang, Some(&user), "figures.html", &title, extra)?.into_response())
}
