//! The service catalogue page: search in the resident's words, or browse by category.

use crate::params::{FromParams, PageQuery, Params};
use crate::render::page;
use crate::session::CurrentUser;
use crate::views;
use crate::{AppError, AppState};
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use doorstep_domain::catalogue::Category;
use doorstep_services::catalogue::{item, search};
use minijinja::context;

pub fn routes() -> Router<AppState> {
    Router::new().route("/catalogue", get(show))
}

/// A search in the resident's words, in one category or all.
struct CatalogueQuery {
    q: Option<String>,
    category: Option<Category>,
}

impl FromParams for CatalogueQuery {
    fn from_params(p: &mut Params) -> Self {
        CatalogueQuery {
            q: p.text("q"),
            category: p.code_or_none("category"),
        }
    }
}

async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    PageQuery(p): PageQuery<CatalogueQuery>,
) -> Result<Response, AppError> {
    let lang = user.lang;
    let tr = |k: &str| state.i18n.t(lang, k);
    let q = p.q.clone().unwrap_or_default();
    let q_is_empty = q.trim().is_empty();
    let category = p.category;
    let limit = if q_is_empty { 500 } else { 30 };
    let sd = user.actor.subdistrict_id;
    let hits = search(&state.services, sd, &q, category, limit).await?;
    let items: Vec<serde_json::Value> = hits
        .iter()
        .map(|(r, _)| {
            let it = item(r);
            serde_json::json!({
                "id": r.id, "name": it.name, "description": it.description, "eligibility": it.eligibility,
                "materials": it.materials, "steps": it.steps, "location": it.location, "post": it.post,
                "category": state.i18n.t(lang, &format!("choice.category.{}", it.category.code())),
                "days": state.i18n.t_args(lang, "catalogue.days", &[it.time_limit_days.to_string()]),
                "remote": it.remote_assist, "demo": r.is_demo,
            })
        })
        .collect();
    let categories = views::choice_options(&state.i18n, lang, Category::CODES, "choice.category.");
    let title = tr("catalogue.title");
    let extra = context! {
        title => title.clone(), q, categories, items,
        category => category.map(|c| c.code()).unwrap_or(""),
        count => hits.len(),
        searched => category.is_some() || !q_is_empty,
        manage => user.actor.role == doorstep_domain::Role::Admin,
    };
    Ok(page(&state, lang, Some(&user), "catalogue.html", &title, extra)?.into_response())
}
