//! The service catalogue page: search in the resident's words, or browse by category.

use crate::auth::CurrentUser;
use crate::catalogue::{self, item};
use crate::render::page;
use crate::views::SelectOption;
use crate::{AppError, AppState};
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use doorstep_domain::catalogue::Category;
use minijinja::context;

pub fn routes() -> Router<AppState> {
    Router::new().route("/catalogue", get(show))
}

#[derive(serde::Deserialize, Default)]
pub struct CatalogueQuery {
    pub q: Option<String>,
    pub category: Option<String>,
}

async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<CatalogueQuery>,
) -> Result<Response, AppError> {
    let lang = user.lang;
    let tr = |k: &str| state.i18n.t(lang, k);
    let cat = catalogue::load(&state, user.actor.subdistrict_id).await?;
    let q = p.q.clone().unwrap_or_default();
    let q_is_empty = q.trim().is_empty();
    let category = p.category.as_deref().and_then(Category::parse);
    let hits = cat.search(&q, category, if q.trim().is_empty() { 500 } else { 30 });
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
    let categories: Vec<SelectOption> = Category::ALL
        .iter()
        .map(|c| SelectOption {
            value: c.code().into(),
            label: state.i18n.t(lang, &format!("choice.category.{}", c.code())),
        })
        .collect();
    let title = tr("catalogue.title");
    let extra = context! {
        title => title.clone(), q, categories, items,
        category => category.map(|c| c.code()).unwrap_or(""),
        count => hits.len(),
        searched => p.category.is_some() || !q_is_empty,
        manage => user.actor.role == doorstep_domain::Role::Admin,
    };
    Ok(page(&state, lang, Some(&user), "catalogue.html", &title, extra)?.into_response())
}
