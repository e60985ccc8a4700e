//! A block in mind (心中有数): its people counted by the seed's groups, who is due a visit
//! by the visit plan, its buildings (each with its households on its own page), and the
//! requests from them. A block has up to a few thousand households: the block page reads
//! counts per building and the tagged people, never every household.

use crate::{Caller, Error, Result, Services, allowed};
use chrono::{DateTime, Duration, Utc};
use doorstep_domain::people::CareTag;
use doorstep_domain::policy::BlockPlace;
use doorstep_domain::{BuildingId, Entity, HouseholdId, Scope};
use doorstep_store::{HouseholdSummary, ListQuery, PlaceRecord, TagAtHome};
use std::collections::HashMap;

/// A block and what its worker keeps in mind.
#[derive(Debug, Clone)]
pub struct BlockView {
    pub block: PlaceRecord,
    pub place: BlockPlace,
    pub worker_name: Option<String>,
    /// Buildings by estate and number.
    pub buildings: Vec<BuildingRow>,
    /// People living in the block.
    pub people: i64,
    /// Residents now holding each of the seed's groups (and admin tags).
    pub counts: Vec<(String, i64)>,
    /// Households overdue or due within [`DUE_AHEAD_DAYS`], most overdue first.
    pub due: Vec<Due>,
    /// Households on the plan due later.
    pub due_later: usize,
    /// The newest requests about the block's buildings.
    pub recent: Vec<doorstep_store::RequestRecord>,
}

/// A building of the block as its page lists it.
#[derive(Debug, Clone)]
pub struct BuildingRow {
    pub building: PlaceRecord,
    /// "牡丹路100弄 2号".
    pub label: String,
    pub households: i64,
    pub people: i64,
}

/// A household the plan says to visit.
#[derive(Debug, Clone, PartialEq)]
pub struct Due {
    pub household: HouseholdId,
    pub building: BuildingId,
    /// "1单元502室".
    pub room: String,
    /// The tag whose plan asks soonest.
    pub tag: String,
    pub last_visit: Option<DateTime<Utc>>,
    pub due_at: DateTime<Utc>,
}

/// How far ahead the due list looks.
pub const DUE_AHEAD_DAYS: i64 = 7;

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
pub fn due_visits(tags: &[TagAtHome], plan: &HashMap<String, i64>) -> Vec<Due> {
    let mut soonest: HashMap<HouseholdId, Due> = HashMap::new();
    for t in tags.iter().filter(|t| t.tag.ended_on.is_none()) {
        let Some(days) = plan.get(&t.tag.tag) else {
            continue;
        };
        let since = t.last_visit.unwrap_or_else(|| {
            t.tag
                .started_on
                .and_hms_opt(0, 0, 0)
                .map(|d| d.and_utc())
                .unwrap_or_default()
        });
        let due = Due {
            household: t.household_id,
            building: t.building_id,
            room: t.room_label.clone(),
            tag: t.tag.tag.clone(),
            last_visit: t.last_visit,
            due_at: since + Duration::days(*days),
        };
        match soonest.get(&t.household_id) {
            Some(d) if d.due_at <= due.due_at => {}
            _ => {
                soonest.insert(t.household_id, due);
            }
        }
    }
    let mut out: Vec<Due> = soonest.into_values().collect();
    out.sort_by_key(|d| (d.due_at, d.household));
    out
}

/// Residents holding each tag, by tag.
fn counts_of(tags: &[TagAtHome]) -> Vec<(String, i64)> {
    let mut who: std::collections::BTreeMap<&str, std::collections::HashSet<_>> =
        std::collections::BTreeMap::new();
    for t in tags.iter().filter(|t| t.tag.ended_on.is_none()) {
        who.entry(t.tag.tag.as_str())
            .or_default()
            .insert(t.tag.resident_id);
    }
    who.into_iter()
        .map(|(t, rs)| (t.to_string(), rs.len() as i64))
        .collect()
}

/// The ids of a known block's buildings (no labels: what counts and due lists need).
async fn building_ids(
    sv: &Services,
    block: &PlaceRecord,
    place: &BlockPlace,
) -> Result<Vec<PlaceRecord>> {
    let q = ListQuery {
        filters: vec![("block_id", doorstep_domain::Value::Int(block.id))],
        ..ListQuery::new(Scope::Neighbourhood {
            subdistrict_id: place.subdistrict_id,
            neighbourhood_id: place.neighbourhood_id,
        })
        .all()
    };
    Ok(sv.store.places().list(Entity::Building, &q).await?.items)
}

/// The block `id` and its buildings, if the caller knows it; with each building's label
/// and its place in the neighbourhood's order ("… 2号" before "… 10号").
async fn block_and_buildings(
    sv: &Services,
    who: &Caller,
    id: i64,
) -> Result<(PlaceRecord, BlockPlace, Vec<(PlaceRecord, String)>)> {
    let block = sv
        .store
        .places()
        .find(Entity::Block, id)
        .await?
        .ok_or(Error::NotFound)?;
    let place = super::place_of_block(&block).ok_or(Error::NotFound)?;
    allowed(who.actor.may_know_block(&place))?;
    let buildings = building_ids(sv, &block, &place).await?;
    let scope = Scope::Neighbourhood {
        subdistrict_id: place.subdistrict_id,
        neighbourhood_id: place.neighbourhood_id,
    };
    let order: HashMap<i64, (usize, String)> = crate::places::building_choices(sv, scope)
        .await?
        .into_iter()
        .enumerate()
        .map(|(i, c)| (c.id, (i, format!("{} {}", c.estate, c.number))))
        .collect();
    let mut rows: Vec<(PlaceRecord, String)> = buildings
        .into_iter()
        .map(|b| {
            let label = order
                .get(&b.id)
                .map_or_else(|| b.title(), |(_, l)| l.clone());
            (b, label)
        })
        .collect();
    rows.sort_by_key(|(b, _)| order.get(&b.id).map_or(usize::MAX, |(i, _)| *i));
    Ok((block, place, rows))
}

/// The block `id` as its worker or secretary sees it.
pub async fn block(sv: &Services, who: &Caller, id: i64) -> Result<BlockView> {
    let (block, place, buildings) = block_and_buildings(sv, who, id).await?;
    let ids: Vec<BuildingId> = buildings.iter().map(|(b, _)| BuildingId(b.id)).collect();
    let reg = sv.store.register();
    let sizes: HashMap<BuildingId, (i64, i64)> = reg
        .building_counts(&ids)
        .await?
        .into_iter()
        .map(|c| (c.building_id, (c.households, c.people)))
        .collect();
    let tags = reg.tags_at_home_in(&ids).await?;
    let mut due = due_visits(&tags, &plan(sv, who).await?);
    let horizon = sv.now() + Duration::days(DUE_AHEAD_DAYS);
    let due_later = due.iter().filter(|d| d.due_at > horizon).count();
    due.retain(|d| d.due_at <= horizon);
    let worker_name = match place.worker_id {
        Some(w) => sv.store.accounts().names(&[w]).await?.remove(&w),
        None => None,
    };
    let rows: Vec<BuildingRow> = buildings
        .into_iter()
        .map(|(building, label)| {
            let (households, people) = sizes
                .get(&BuildingId(building.id))
                .copied()
                .unwrap_or_default();
            BuildingRow {
                building,
                label,
                households,
                people,
            }
        })
        .collect();
    let recent = sv
        .store
        .requests()
        .list(&doorstep_store::RequestFilter {
            neighbourhood_id: Some(place.neighbourhood_id),
            buildings: Some(ids),
            limit: RECENT_REQUESTS,
            ..doorstep_store::RequestFilter::of(place.subdistrict_id)
        })
        .await?
        .items;
    Ok(BlockView {
        people: rows.iter().map(|r| r.people).sum(),
        counts: counts_of(&tags),
        recent,
        block,
        place,
        worker_name,
        buildings: rows,
        due,
        due_later,
    })
}

/// One building of a block with its households (people, last visit), by unit and room.
#[derive(Debug, Clone)]
pub struct BuildingView {
    pub block: PlaceRecord,
    pub building: PlaceRecord,
    pub label: String,
    pub households: Vec<HouseholdSummary>,
}

/// Building `building` of block `block`, if the caller knows the block and the building
/// is in it.
pub async fn building(
    sv: &Services,
    who: &Caller,
    block: i64,
    building: i64,
) -> Result<BuildingView> {
    let (block, _, buildings) = block_and_buildings(sv, who, block).await?;
    let (building, label) = buildings
        .into_iter()
        .find(|(b, _)| b.id == building)
        .ok_or(Error::NotFound)?;
    let households = sv
        .store
        .register()
        .household_summaries_in(&[BuildingId(building.id)])
        .await?;
    Ok(BuildingView {
        block,
        building,
        label,
        households,
    })
}

/// A worker's block at a glance, for her home page.
#[derive(Debug, Clone)]
pub struct BlockSummary {
    pub block: PlaceRecord,
    /// Residents now holding each tag.
    pub counts: Vec<(String, i64)>,
    /// Households past their visit.
    pub overdue: usize,
    /// Households due within [`DUE_AHEAD_DAYS`].
    pub due_soon: usize,
}

/// The caller's own blocks at a glance (workers only; none while the register is off).
pub async fn summaries(sv: &Services, who: &Caller) -> Result<Vec<BlockSummary>> {
    if who.actor.role != doorstep_domain::Role::Worker || sv.vault().is_err() {
        return Ok(Vec::new());
    }
    let plan = plan(sv, who).await?;
    let now = sv.now();
    let horizon = now + Duration::days(DUE_AHEAD_DAYS);
    let mut out = Vec::new();
    // The home page asks on every visit: the blocks my_blocks checked, their buildings'
    // ids, no labels or order.
    for block in my_blocks(sv, who).await? {
        let Some(place) = super::place_of_block(&block) else {
            continue;
        };
        let ids: Vec<BuildingId> = building_ids(sv, &block, &place)
            .await?
            .iter()
            .map(|b| BuildingId(b.id))
            .collect();
        let tags = sv.store.register().tags_at_home_in(&ids).await?;
        let due = due_visits(&tags, &plan);
        out.push(BlockSummary {
            counts: counts_of(&tags),
            overdue: due.iter().filter(|d| d.due_at < now).count(),
            due_soon: due
                .iter()
                .filter(|d| d.due_at >= now && d.due_at <= horizon)
                .count(),
            block,
        });
    }
    Ok(out)
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
    use doorstep_store::CareTagRecord;

    fn tag(
        resident: i64,
        household: i64,
        tag: &str,
        started: &str,
        last: Option<DateTime<Utc>>,
    ) -> TagAtHome {
        TagAtHome {
            tag: CareTagRecord {
                id: CareTagId(resident * 10),
                resident_id: ResidentId(resident),
                tag: tag.into(),
                detail: serde_json::Value::Null,
                note: None,
                started_on: NaiveDate::parse_from_str(started, "%Y-%m-%d").unwrap(),
                ended_on: None,
            },
            household_id: HouseholdId(household),
            building_id: BuildingId(1),
            room_label: format!("{household}室"),
            last_visit: last,
        }
    }

    #[test]
    fn the_plan_makes_the_due_list() {
        let at = |d: u32| Utc.with_ymd_and_hms(2026, 11, d, 2, 0, 0).unwrap();
        let tags = vec![
            tag(1, 10, "hardship", "2026-10-01", Some(at(25))),
            tag(2, 10, "elderly_alone", "2026-10-01", Some(at(25))),
            tag(3, 20, "hardship", "2026-11-20", None),
            tag(4, 30, "core_volunteer", "2026-01-01", None),
        ];
        assert_eq!(
            counts_of(&tags),
            vec![
                ("core_volunteer".to_string(), 1),
                ("elderly_alone".to_string(), 1),
                ("hardship".to_string(), 2)
            ]
        );
        let plan: HashMap<String, i64> = [
            ("elderly_alone".to_string(), 7),
            ("hardship".to_string(), 30),
        ]
        .into_iter()
        .collect();
        let due = due_visits(&tags, &plan);
        // Household 10: weekly for the one living alone, from the last visit.
        assert_eq!(due[0].household, HouseholdId(10));
        assert_eq!(
            (due[0].tag.as_str(), due[0].due_at, due[0].room.as_str()),
            ("elderly_alone", at(25) + Duration::days(7), "10室")
        );
        // Household 20: never visited, due a month after the tag started.
        assert_eq!(due[1].household, HouseholdId(20));
        assert_eq!(due[1].last_visit, None);
        // Core volunteers are not on a plan.
        assert_eq!(due.len(), 2);
    }
}
