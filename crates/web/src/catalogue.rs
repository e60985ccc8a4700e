//! The service catalogue's search: an index per subdistrict, rebuilt from the database
//! whenever the catalogue's version (count, last change) moves, so every app server
//! answers from the same data.

use crate::{AppError, AppState};
use doorstep_domain::catalogue::{Category, SearchIndex, ServiceItem};
use doorstep_domain::{Entity, Scope};
use doorstep_store::{ListQuery, PlaceRecord};
use std::collections::HashMap;
use std::sync::Arc;

/// The catalogue of a subdistrict and its index.
#[derive(Debug)]
pub struct Catalogue {
    pub records: Vec<PlaceRecord>,
    index: SearchIndex,
}

pub type CatalogueCache = tokio::sync::Mutex<HashMap<i64, (String, Arc<Catalogue>)>>;

fn lines(v: &doorstep_domain::Value) -> Vec<String> {
    v.as_str()
        .map(|s| {
            s.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// A record as the domain's catalogue item.
pub fn item(r: &PlaceRecord) -> ServiceItem {
    let text = |k: &str| r.get(k).as_str().unwrap_or("").to_string();
    ServiceItem {
        category: Category::parse(r.get("category").as_str().unwrap_or(""))
            .unwrap_or(Category::Life),
        name: text("name"),
        description: text("description"),
        eligibility: text("eligibility"),
        materials: lines(r.get("materials")),
        steps: lines(r.get("steps")),
        location: text("location"),
        time_limit_days: r.get("time_limit_days").as_i64().unwrap_or(1).clamp(1, 60) as u32,
        post: text("post"),
        remote_assist: r.get("remote_assist").as_bool(),
    }
}

pub async fn load(state: &AppState, subdistrict_id: i64) -> Result<Arc<Catalogue>, AppError> {
    let mut cache = state.catalogue.lock().await;
    let key = state.store.catalogue_fingerprint(subdistrict_id).await?;
    if let Some((k, c)) = cache.get(&subdistrict_id)
        && *k == key
    {
        return Ok(c.clone());
    }
    let records = state
        .store
        .list_places(
            Entity::ServiceItem,
            &ListQuery::new(Scope::Subdistrict(subdistrict_id)).all(),
        )
        .await?
        .items;
    let items: Vec<ServiceItem> = records.iter().map(item).collect();
    let index = SearchIndex::build(&items);
    let c = Arc::new(Catalogue { records, index });
    cache.insert(subdistrict_id, (key, c.clone()));
    Ok(c)
}

impl Catalogue {
    /// Matching records, best first (all of a category, in order, when `q` is empty).
    pub fn search(
        &self,
        q: &str,
        category: Option<Category>,
        limit: usize,
    ) -> Vec<(&PlaceRecord, f32)> {
        let in_cat =
            |r: &PlaceRecord| category.is_none_or(|c| r.get("category").as_str() == Some(c.code()));
        if q.trim().is_empty() {
            return self
                .records
                .iter()
                .filter(|r| in_cat(r))
                .take(limit)
                .map(|r| (r, 0.0))
                .collect();
        }
        self.index
            .search(q, self.records.len())
            .into_iter()
            .map(|(i, s)| (&self.records[i], s))
            .filter(|(r, _)| in_cat(r))
            .take(limit)
            .collect()
    }
}

/// One search hit as JSON (API and as-you-type suggestions).
pub fn hit_json(r: &PlaceRecord, score: f32) -> serde_json::Value {
    let it = item(r);
    serde_json::json!({
        "id": r.id, "score": (score * 1000.0).round() / 1000.0, "category": it.category, "name": it.name,
        "description": it.description, "eligibility": it.eligibility, "materials": it.materials, "steps": it.steps,
        "location": it.location, "time_limit_days": it.time_limit_days, "post": it.post, "remote_assist": it.remote_assist,
        "is_demo": r.is_demo,
    })
}
