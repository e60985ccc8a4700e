//! The service catalogue's search in the API (also the as-you-type suggestions).

use crate::params::{ApiQuery, FromParams, Params};
use crate::session::CurrentUser;
use crate::{AppError, AppState};
use axum::Json;
use axum::extract::State;
use doorstep_domain::catalogue::Category;
use doorstep_services::catalogue::{item, search as find};
use doorstep_services::records::PlaceRecord;
use serde_json::json;

/// `GET /api/v1/catalogue/search`.
pub struct SearchParams {
    q: String,
    category: Option<Category>,
    limit: i64,
}

impl FromParams for SearchParams {
    fn from_params(p: &mut Params) -> Self {
        let q = p.text("q").unwrap_or_default();
        let category = p.code("category");
        let limit = p.int("limit").unwrap_or(10);
        if !(1..=100).contains(&limit) {
            p.error_with("limit", "out_of_range", &["1", "100"]);
        }
        SearchParams { q, category, limit }
    }
}

/// One search hit as JSON.
fn hit_json(r: &PlaceRecord, score: f32, category_name: String) -> serde_json::Value {
    let it = item(r);
    json!({
        "id": r.id, "score": (score * 1000.0).round() / 1000.0, "category": it.category,
        "category_name": category_name,
        "name": it.name, "description": it.description, "eligibility": it.eligibility,
        "materials": it.materials, "steps": it.steps, "location": it.location,
        "time_limit_days": it.time_limit_days, "post": it.post,
        "remote_assist": it.remote_assist, "phrasings": it.phrasings, "is_demo": r.is_demo,
    })
}

pub async fn search(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(p): ApiQuery<SearchParams>,
) -> Result<Json<serde_json::Value>, AppError> {
    let sd = user.actor.subdistrict_id;
    let name = |c: Category| {
        state
            .i18n
            .t(user.lang, &format!("choice.category.{}", c.code()))
    };
    let answer = find(&state.services, sd, &p.q, p.category, p.limit as usize).await?;
    let items: Vec<serde_json::Value> = answer
        .hits
        .iter()
        .map(|(r, s)| hit_json(r, *s, name(item(r).category)))
        .collect();
    let nearest: Vec<serde_json::Value> = answer
        .nearest
        .iter()
        .map(|c| json!({"code": c.code(), "name": name(*c)}))
        .collect();
    Ok(Json(
        json!({ "q": p.q, "total": items.len(), "items": items, "nearest_categories": nearest }),
    ))
}
