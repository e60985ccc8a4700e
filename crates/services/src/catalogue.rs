//! The service catalogue's search: an index per subdistrict, rebuilt from the database
//! whenever the catalogue's version (count, last change) moves, so every app server
//! answers from the same data.

use crate::{Result, Services};
use doorstep_domain::catalogue::{Category, SearchIndex, ServiceItem};
use doorstep_domain::{Entity, Scope, SubdistrictId, Value};
use doorstep_store::PlaceRecord;
use std::collections::HashMap;
use std::sync::Arc;

/// The catalogue of a subdistrict and its index.
#[derive(Debug)]
pub struct Catalogue {
    pub records: Vec<PlaceRecord>,
    index: SearchIndex,
}

/// Each subdistrict's catalogue, with the version it was built from.
pub(crate) type Cache = tokio::sync::Mutex<HashMap<SubdistrictId, (String, Arc<Catalogue>)>>;

fn lines(v: &Value) -> Vec<String> {
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
        publishable: r.get("publishable").as_bool(),
        phrasings: lines(r.get("phrasings")),
    }
}

/// The subdistrict's catalogue, rebuilt if it changed since it was last built.
pub async fn load(sv: &Services, sd: SubdistrictId) -> Result<Arc<Catalogue>> {
    let mut cache = sv.catalogue.lock().await;
    let key = sv.store.places().catalogue_fingerprint(sd).await?;
    if let Some((k, c)) = cache.get(&sd)
        && *k == key
    {
        return Ok(c.clone());
    }
    let records = crate::places::all_in(sv, Entity::ServiceItem, Scope::Subdistrict(sd)).await?;
    let items: Vec<ServiceItem> = records.iter().map(item).collect();
    let index = SearchIndex::build(&items);
    let c = Arc::new(Catalogue { records, index });
    cache.insert(sd, (key, c.clone()));
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

/// What a search found: the items, best first, and when there are none for words that
/// were given, the categories nearest to them (to browse from).
#[derive(Debug, Clone)]
pub struct SearchAnswer {
    pub hits: Vec<(PlaceRecord, f32)>,
    pub nearest: Vec<Category>,
}

/// The catalogue items matching `q` in the caller's subdistrict, best first.
pub async fn search(
    sv: &Services,
    sd: SubdistrictId,
    q: &str,
    category: Option<Category>,
    limit: usize,
) -> Result<SearchAnswer> {
    let cat = load(sv, sd).await?;
    let hits: Vec<(PlaceRecord, f32)> = cat
        .search(q, category, limit)
        .into_iter()
        .map(|(r, s)| (r.clone(), s))
        .collect();
    let nearest = if hits.is_empty() && !q.trim().is_empty() {
        cat.index.nearest_categories(q)
    } else {
        Vec::new()
    };
    Ok(SearchAnswer { hits, nearest })
}

/// One item of the caller's subdistrict, as a guide (archived items too: a request may
/// still name one).
pub async fn guide(
    sv: &Services,
    sd: SubdistrictId,
    id: i64,
) -> Result<(PlaceRecord, ServiceItem)> {
    let r = sv
        .store
        .places()
        .find(Entity::ServiceItem, id)
        .await?
        .filter(|r| r.subdistrict_id == sd)
        .ok_or(crate::Error::NotFound)?;
    let it = item(&r);
    Ok((r, it))
}
