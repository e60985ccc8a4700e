//! A block in mind (心中有数): its people counted by the seed's groups, who is due a visit
//! by the visit plan, its buildings and households, and the requests from them.

use crate::{Caller, Error, Result, Services, allowed};
use chrono::{DateTime, Duration, Utc};
use doorstep_domain::people::CareTag;
use doorstep_domain::policy::BlockPlace;
use doorstep_domain::{BuildingId, Entity, HouseholdId, Scope};
use doorstep_store::{CareTagRecord, Household, ListQuery, PlaceRecord};
use std::collections::HashMap;

/// A block and what its worker keeps in mind.
#[derive(Debug, Clone)]
pub struct BlockView {
    pub block: PlaceRecord,
    pub place: BlockPlace,
    pub worker_name: Option<String>,
    /// Buildings by estate and number, with their households.
    pub buildings: Vec<BuildingRow>,
    /// People living in the block.
    pub people: i64,
    /// Residents now holding each of the seed's groups (and admin tags).
    pub counts: Vec<(String, i64)>,
    /// Households due a visit by the plan, most overdue first.
    pub due: Vec<Due>,
    /// The newest requests about the block's buildings.
    pub recent: Vec<doorstep_store::RequestRecord>,
}

/// A building of the block: the record, its label ("牡丹路100弄 2号"), its households
/// with how many people live in each.
pub type BuildingRow = (PlaceRecord, String, Vec<(Household, i64)>);

/// A household the plan says to visit.
#[derive(Debug, Clone, PartialEq)]
pub struct Due {
    pub household: HouseholdId,
    /// The tag whose plan asks soonest.
    pub tag: String,
    pub last_visit: Option<DateTime<Utc>>,
    pub due_at: DateTime<Utc>,
}

/// How many of the block's newest requests its page lists.
pub const RECENT_REQUESTS: i64 = 10;

/// Days between visits for each tag: the subdistrict's plan over the defaults.
pub async fn plan(sv: &Services, who: &Caller) -> Result<HashMap<String, i64>> {
    let mut out: HashMap<String, i64> = CareTag::ALL
        .iter()
        .filter_map(|t| {
            t.default_visit_days()
                .map(|d| (t.code().to_string(), i64::from(d)))
        })
        .collect();
    for (tag, days) in sv.store.register().plans(who.actor.subdistrict_id).await? {
        if days > 0 {
            out.insert(tag, days);
        } else {
            out.remove(&tag);
        }
    }
    Ok(out)
}

/// Which households are due: each one's soonest plan among its residents' tags, from its
/// last visit (never visited: due from when the tag started).
pub fn due_visits(
    tags: &[(HouseholdId, CareTagRecord)],
    last: &HashMap<HouseholdId, DateTime<Utc>>,
    plan: &HashMap<String, i64>,
) -> Vec<Due> {
    let mut soonest: HashMap<HouseholdId, Due> = HashMap::new();
    for (h, t) in tags.iter().filter(|(_, t)| t.ended_on.is_none()) {
        let Some(days) = plan.get(&t.tag) else {
            continue;
        };
        let since = last.get(h).copied().unwrap_or_else(|| {
            t.started_on
                .and_hms_opt(0, 0, 0)
                .map(|d| d.and_utc())
                .unwrap_or_default()
        });
        let due = Due {
            household: *h,
            tag: t.tag.clone(),
            last_visit: last.get(h).copied(),
            due_at: since + Duration::days(*days),
        };
        match soonest.get(h) {
            Some(d) if d.due_at <= due.due_at => {}
            _ => {
                soonest.insert(*h, due);
            }
        }
    }
    let mut out: Vec<Due> = soonest.into_values().collect();
    out.sort_by_key(|d| (d.due_at, d.household));
    out
}

/// Residents holding each tag, by tag.
fn counts_of(tags: &[(HouseholdId, CareTagRecord)]) -> Vec<(String, i64)> {
    let mut who: std::collections::BTreeMap<&str, std::collections::HashSet<_>> =
        std::collections::BTreeMap::new();
    for (_, t) in tags.iter().filter(|(_, t)| t.ended_on.is_none()) {
        who.entry(t.tag.as_str()).or_default().insert(t.resident_id);
    }
    who.into_iter()
        .map(|(t, rs)| (t.to_string(), rs.len() as i64))
        .collect()
}

/// The block `id` as its worker or secretary sees it.
pub async fn block(sv: &Services, who: &Caller, id: i64) -> Result<BlockView> {
    let block = sv
        .store
        .places()
        .find(Entity::Block, id)
        .await?
        .ok_or(Error::NotFound)?;
    let place = super::place_of_block(&block).ok_or(Error::NotFound)?;
    allowed(who.actor.may_know_block(&place))?;
    let scope = Scope::Neighbourhood {
        subdistrict_id: place.subdistrict_id,
        neighbourhood_id: place.neighbourhood_id,
    };
    let q = ListQuery {
        filters: vec![("block_id", doorstep_domain::Value::Int(block.id))],
        ..ListQuery::new(scope).all()
    };
    let buildings = sv.store.places().list(Entity::Building, &q).await?.items;
    // Labels and order as everywhere ("牡丹路100弄 2号" before "… 10号").
    let order: HashMap<i64, (usize, String)> = crate::places::building_choices(sv, scope)
        .await?
        .into_iter()
        .enumerate()
        .map(|(i, c)| (c.id, (i, format!("{} {}", c.estate, c.number))))
        .collect();
    let ids: Vec<BuildingId> = buildings.iter().map(|b| BuildingId(b.id)).collect();
    let reg = sv.store.register();
    let households = reg.households_sized_in(&ids).await?;
    let tags = reg.tags_in(&ids).await?;
    let counts = counts_of(&tags);
    let last: HashMap<_, _> = reg.last_visits_in(&ids).await?.into_iter().collect();
    let due = due_visits(&tags, &last, &plan(sv, who).await?);
    let worker_name = match place.worker_id {
        Some(w) => sv.store.accounts().names(&[w]).await?.remove(&w),
        None => None,
    };
    let people = households.iter().map(|(_, n)| n).sum();
    let mut by_building: HashMap<BuildingId, Vec<(Household, i64)>> = HashMap::new();
    for (h, n) in households {
        by_building.entry(h.building_id).or_default().push((h, n));
    }
    let mut rows: Vec<BuildingRow> = buildings
        .into_iter()
        .map(|b| {
            let label = order
                .get(&b.id)
                .map_or_else(|| b.title(), |(_, l)| l.clone());
            let hs = by_building.remove(&BuildingId(b.id)).unwrap_or_default();
            (b, label, hs)
        })
        .collect();
    rows.sort_by_key(|(b, _, _)| order.get(&b.id).map_or(usize::MAX, |(i, _)| *i));
    let recent = sv
        .store
        .requests()
        .list(&doorstep_store::RequestFilter {
            neighbourhood_id: Some(place.neighbourhood_id),
            buildings: Some(ids.clone()),
            limit: RECENT_REQUESTS,
            ..doorstep_store::RequestFilter::of(place.subdistrict_id)
        })
        .await?
        .items;
    Ok(BlockView {
        recent,
        block,
        place,
        worker_name,
        buildings: rows,
        people,
        counts,
        due,
    })
}

/// The blocks the caller knows: a worker's own, a secretary's neighbourhood's.
pub async fn my_blocks(sv: &Services, who: &Caller) -> Result<Vec<PlaceRecord>> {
    let Some(nb) = who.actor.neighbourhood_id else {
        return Ok(Vec::new());
    };
    let scope = Scope::Neighbourhood {
        subdistrict_id: who.actor.subdistrict_id,
        neighbourhood_id: nb,
    };
    Ok(crate::places::all_in(sv, Entity::Block, scope)
        .await?
        .into_iter()
        .filter(|b| {
            b.is_active()
                && super::place_of_block(b).is_some_and(|place| {
                    who.actor.may_know_block(&place) == doorstep_domain::policy::Decision::Allow
                })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone};
    use doorstep_domain::{CareTagId, ResidentId};

    fn tag(resident: i64, tag: &str, started: &str) -> CareTagRecord {
        CareTagRecord {
            id: CareTagId(resident * 10),
            resident_id: ResidentId(resident),
            tag: tag.into(),
            detail: serde_json::Value::Null,
            note: None,
            started_on: NaiveDate::parse_from_str(started, "%Y-%m-%d").unwrap(),
            ended_on: None,
        }
    }

    #[test]
    fn the_plan_makes_the_due_list() {
        let tags = vec![
            (HouseholdId(10), tag(1, "hardship", "2026-10-01")),
            (HouseholdId(10), tag(2, "elderly_alone", "2026-10-01")),
            (HouseholdId(20), tag(3, "hardship", "2026-11-20")),
            (HouseholdId(30), tag(4, "core_volunteer", "2026-01-01")),
        ];
        assert_eq!(
            counts_of(&tags),
            vec![
                ("core_volunteer".to_string(), 1),
                ("elderly_alone".to_string(), 1),
                ("hardship".to_string(), 2)
            ]
        );
        let at = |d: u32| Utc.with_ymd_and_hms(2026, 11, d, 2, 0, 0).unwrap();
        let last: HashMap<_, _> = [(HouseholdId(10), at(25))].into_iter().collect();
        let plan: HashMap<String, i64> = [
            ("elderly_alone".to_string(), 7),
            ("hardship".to_string(), 30),
        ]
        .into_iter()
        .collect();
        let due = due_visits(&tags, &last, &plan);
        // Household 10: weekly for the one living alone, from the last visit.
        assert_eq!(due[0].household, HouseholdId(10));
        assert_eq!(
            (due[0].tag.as_str(), due[0].due_at),
            ("elderly_alone", at(25) + Duration::days(7))
        );
        // Household 20: never visited, due a month after the tag started.
        assert_eq!(due[1].household, HouseholdId(20));
        assert_eq!(due[1].last_visit, None);
        // Core volunteers are not on a plan.
        assert_eq!(due.len(), 2);
    }
}
