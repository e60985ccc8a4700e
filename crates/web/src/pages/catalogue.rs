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
use doorstep_services::catalogue::{guide as guide_of, item, search};
use minijinja::context;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/catalogue", get(show))
        .route("/catalogue/{id}", get(guide))
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
    let browsing = q_is_empty && category.is_none();
    let limit = if q_is_empty { 500 } else { 30 };
    let sd = user.actor.subdistrict_id;
    let answer = search(&state.services, sd, &q, category, limit).await?;
    // With neither words nor a category, the page is a map of the categories, not all
    // the items unfolded (a phone would scroll for minutes).
    let overview: Vec<serde_json::Value> = if browsing {
        Category::ALL
            .iter()
            .map(|c| {
                let n = answer
                    .hits
                    .iter()
                    .filter(|(r, _)| item(r).category == *c)
                    .count();
                serde_json::json!({"code": c.code(), "name": category_name(&state, lang, *c), "count": n})
            })
            .collect()
    } else {
        Vec::new()
    };
    let items: Vec<serde_json::Value> = if browsing {
        Vec::new()
    } else {
        answer
            .hits
            .iter()
            .map(|(r, _)| item_json(&state, lang, r))
            .collect()
    };
    let nearest: Vec<serde_json::Value> = answer
        .nearest
        .iter()
        .map(|c| serde_json::json!({"code": c.code(), "name": category_name(&state, lang, *c)}))
        .collect();
    let categories = views::choice_options(&state.i18n, lang, Category::CODES, "choice.category.");
    let title = tr("catalogue.title");
    let extra = context! {
        title => title.clone(), q, categories, items,
        category => category.map(|c| c.code()).unwrap_or(""),
        count => answer.hits.len(),
        overview,
        nearest,
        searched => category.is_some() || !q_is_empty,
        manage => user.actor.role == doorstep_domain::Role::Admin,
    };
    Ok(page(&state, lang, Some(&user), "catalogue.html", &title, extra)?.into_response())
}

fn category_name(state: &AppState, lang: crate::i18n::Lang, c: Category) -> String {
    state.i18n.t(lang, &format!("choice.category.{}", c.code()))
}

/// An item as the catalogue and its guide show it.
fn item_json(
    state: &AppState,
    lang: crate::i18n::Lang,
    r: &doorstep_services::records::PlaceRecord,
) -> serde_json::Value {
    let it = item(r);
    serde_json::json!({
        "id": r.id, "name": it.name, "description": it.description, "eligibility": it.eligibility,
        "materials": it.materials, "steps": it.steps, "location": it.location, "post": it.post,
        "category": category_name(state, lang, it.category),
        "category_code": it.category.code(),
        "days": state.i18n.t_args(lang, "catalogue.days", &[it.time_limit_days.to_string()]),
        "remote": it.remote_assist, "demo": r.is_demo, "archived": r.archived_at.is_some(),
        "phrasings": it.phrasings,
    })
}

/// One matter as a guide for the worker at the counter: who, what to bring, the steps in
/// order, and a button that takes the request with this item chosen.
async fn guide(
    State(state): State<AppState>,
    user: CurrentUser,
    axum::extract::Path(id): axum::extract::Path<i64>,
) -> Result<Response, AppError> {
    let lang = user.lang;
    let (r, it) = guide_of(&state.services, user.actor.subdistrict_id, id).await?;
    let title = it.name.clone();
    let extra = context! {
        title => title.clone(),
        it => item_json(&state, lang, &r),
        take_href => user.actor.may_take_requests().then(|| format!("/requests/new?service_item_id={id}")),
        edit_href => (user.actor.role == doorstep_domain::Role::Admin).then(|| format!("/service_items/{id}/edit")),
    };
    Ok(page(
        &state,
        lang,
        Some(&user),
        "catalogue_item.html",
        &title,
        extra,
    )?
    .into_response())
}
