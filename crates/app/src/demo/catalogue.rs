//! The demo service catalogue (198 items across the 8 categories), marked as demo data.

use super::{demo_ctx, text, vals};
use anyhow::bail;
use chrono::{DateTime, Utc};
use doorstep_domain::{Entity, Scope, ServiceItemId, SubdistrictId, Value, Values};
use doorstep_store::{ListQuery, Store};

/// Lines as one text, or nothing.
fn lines(xs: &[String]) -> Value {
    if xs.is_empty() {
        Value::Null
    } else {
        text(xs.join("\n"))
    }
}

pub async fn add_catalogue(store: &Store, now: DateTime<Utc>) -> anyhow::Result<()> {
    let Some(sd) = store.places().first_subdistrict().await? else {
        bail!("no subdistrict")
    };
    let scope = Scope::Subdistrict(sd.subdistrict_id);
    let existing = store
        .places()
        .list(Entity::ServiceItem, &ListQuery::new(scope))
        .await?;
    if existing.total > 0 {
        return Ok(());
    }
    let items = doorstep_domain::catalogue::demo_catalogue()
        .map_err(|e| anyhow::anyhow!("demo catalogue: {e}"))?;
    let rows: Vec<Values> = items
        .iter()
        .map(|it| {
            vals(vec![
                ("subdistrict_id", Value::Int(sd.id)),
                ("category", text(it.category.code())),
                ("name", text(it.name.clone())),
                ("description", text(it.description.clone())),
                ("phrasings", lines(&it.phrasings)),
                ("eligibility", text(it.eligibility.clone())),
                ("materials", lines(&it.materials)),
                ("steps", lines(&it.steps)),
                ("location", text(it.location.clone())),
                ("time_limit_days", Value::Int(i64::from(it.time_limit_days))),
                ("post", text(it.post.clone())),
                ("remote_assist", Value::Bool(it.remote_assist)),
                ("publishable", Value::Bool(it.publishable)),
            ])
        })
        .collect();
    let ctx = demo_ctx(Some(sd.subdistrict_id), now);
    store
        .places()
        .create_many(Entity::ServiceItem, &rows, &ctx)
        .await?;
    Ok(())
}

/// The subdistrict's catalogue items, for generated requests.
pub async fn catalogue_items(
    store: &Store,
    sd: SubdistrictId,
) -> anyhow::Result<Vec<crate::request_gen::GenItem>> {
    let q = ListQuery::new(Scope::Subdistrict(sd)).all();
    let items = store.places().list(Entity::ServiceItem, &q).await?;
    Ok(items
        .items
        .iter()
        .map(|i| crate::request_gen::GenItem {
            id: ServiceItemId(i.id),
            name: i.get("name").as_str().unwrap_or("").to_string(),
        })
        .collect())
}
