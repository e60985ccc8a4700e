//! The demo register's visit history: each block's worker has been round her households
//! over the past year, more often where someone is on the visit plan (elderly living
//! alone weekly, serious illness fortnightly…), and not quite keeping up, so that the
//! due lists, the overdue marks and the coverage figures show what a real block shows.
//! Marked as demo data; generated from a fixed seed.

use super::demo_ctx;
use chrono::{DateTime, Duration, Utc};
use doorstep_domain::people::{CareTag, VisitKind};
use doorstep_domain::{AccountId, BuildingId, Entity, HouseholdId, Scope, SubdistrictId};
use doorstep_store::{ListQuery, NewVisit, Store};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::HashMap;

/// What workers write after a visit (demo phrasing).
const NOTES: &[&str] = &[
    "身体状况良好，家中整洁",
    "老人精神不错，叮嘱注意防滑",
    "家属在家，情况稳定",
    "已提醒近期防诈骗",
    "按时服药，子女每周探望",
    "了解近况，无特殊需求",
    "送去社区活动通知",
];

/// What residents said that became nothing more than a note.
const SAID: &[&str] = &[
    "希望楼道多装一盏灯",
    "想报名书法班",
    "问了长护险怎么申请",
    "反映电梯有时异响",
];

/// Who answered the door.
const MET: &[&str] = &["本人", "本人及老伴", "子女", "保姆"];

/// The households of each staffed block, with the shortest visit interval their people's
/// tags ask for (none: no plan, a routine round).
async fn blocks(
    store: &Store,
    sd: SubdistrictId,
) -> anyhow::Result<Vec<(AccountId, Vec<(HouseholdId, Option<u32>)>)>> {
    let all = ListQuery::new(Scope::Subdistrict(sd)).all();
    let mut by_block: HashMap<i64, Vec<BuildingId>> = HashMap::new();
    for b in store.places().list(Entity::Building, &all).await?.items {
        if let Some(block) = b.get("block_id").as_i64() {
            by_block.entry(block).or_default().push(BuildingId(b.id));
        }
    }
    let mut out = Vec::new();
    for block in store.places().list(Entity::Block, &all).await?.items {
        let (Some(worker), Some(buildings)) =
            (block.get("worker_id").as_i64(), by_block.get(&block.id))
        else {
            continue;
        };
        let reg = store.register();
        let mut plan: HashMap<HouseholdId, Option<u32>> = reg
            .household_summaries_in(buildings)
            .await?
            .into_iter()
            .filter(|h| h.people > 0)
            .map(|h| (h.household.id, None))
            .collect();
        for t in reg.tags_at_home_in(buildings).await? {
            let days = CareTag::parse(&t.tag.tag).and_then(CareTag::default_visit_days);
            if let (Some(d), Some(e)) = (days, plan.get_mut(&t.household_id)) {
                *e = Some(e.map_or(d, |x| x.min(d)));
            }
        }
        let mut households: Vec<_> = plan.into_iter().collect();
        households.sort_unstable_by_key(|(h, _)| *h);
        out.push((AccountId(worker), households));
    }
    out.sort_unstable_by_key(|(w, _)| *w);
    Ok(out)
}

/// The visits to one household: the last one (mostly within its plan, sometimes late),
/// and a few before it.
fn history(rng: &mut StdRng, now: DateTime<Utc>, every: Option<u32>) -> Vec<(Duration, VisitKind)> {
    let (last_within, kind) = match every {
        // On the plan: mostly kept, one in five overdue by up to a few weeks.
        Some(d) if rng.random_bool(0.8) => (i64::from(d), VisitKind::Care),
        Some(d) => (i64::from(d) + 21, VisitKind::Care),
        // A routine round: most homes within three months, some not this year.
        None if rng.random_bool(0.45) => (30, VisitKind::Routine),
        None if rng.random_bool(0.7) => (90, VisitKind::Routine),
        None if rng.random_bool(0.5) => (300, VisitKind::Routine),
        None => return Vec::new(),
    };
    let mut ago = Duration::minutes(rng.random_range(120..last_within.max(1) * 24 * 60));
    let mut out = vec![(ago, kind)];
    let gap = i64::from(every.unwrap_or(60));
    for _ in 0..rng.random_range(0..4) {
        ago += Duration::days(gap + rng.random_range(0..gap / 2 + 1));
        if ago > Duration::days(360) {
            break;
        }
        out.push((ago, kind));
    }
    // Visits happen in working hours, Shanghai time (UTC+8): a time outside 09:00–17:00
    // moves to a working hour of the same day.
    out.into_iter()
        .map(|(ago, k)| {
            let at = now - ago;
            let hour = (at.timestamp().div_euclid(3600) + 8).rem_euclid(24);
            if (9..17).contains(&hour) {
                return (ago, k);
            }
            let to = rng.random_range(9..17);
            (ago + Duration::hours(hour - to), k)
        })
        .filter(|(ago, _)| *ago > Duration::zero() && *ago <= Duration::days(360))
        .collect()
}

/// Loads the visit history of every staffed block; how many visits.
pub(super) async fn add_visits(
    store: &Store,
    sd: SubdistrictId,
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    let mut rng = StdRng::seed_from_u64(202_612);
    let ctx = demo_ctx(Some(sd), now);
    let mut batch = Vec::new();
    let mut loaded = 0;
    for (worker, households) in blocks(store, sd).await? {
        for (h, every) in households {
            for (ago, kind) in history(&mut rng, now, every) {
                let said = rng
                    .random_bool(0.1)
                    .then(|| SAID[rng.random_range(0..SAID.len())]);
                batch.push(NewVisit {
                    household_id: h,
                    worker_id: worker,
                    kind,
                    met: Some(MET[rng.random_range(0..MET.len())].into()),
                    notes: Some(NOTES[rng.random_range(0..NOTES.len())].into()),
                    said: said.map(str::to_string),
                    visited_at: now - ago,
                    client_key: format!("demo-visit-{}", loaded + batch.len()),
                });
            }
        }
        if batch.len() >= 5_000 {
            loaded += store.register().load_visits(&batch, &ctx).await?;
            batch.clear();
        }
    }
    if !batch.is_empty() {
        loaded += store.register().load_visits(&batch, &ctx).await?;
    }
    Ok(loaded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn histories_keep_to_the_plan_mostly_and_to_office_hours() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 4, 0, 0).unwrap();
        let mut rng = StdRng::seed_from_u64(7);
        let (mut kept, mut planned) = (0, 0);
        for _ in 0..2_000 {
            let h = history(&mut rng, now, Some(7));
            planned += 1;
            if h.first().is_some_and(|(ago, _)| *ago <= Duration::days(7)) {
                kept += 1;
            }
            for (ago, _) in &h {
                let local = (now - *ago) + Duration::hours(8);
                let hour = chrono::Timelike::hour(&local);
                assert!((9..17).contains(&hour), "{local}");
                assert!(*ago > Duration::zero() && *ago <= Duration::days(360));
            }
        }
        // About four in five on time: the due list has work on it, not everything.
        let share = f64::from(kept) / f64::from(planned);
        assert!((0.7..0.9).contains(&share), "{share}");
    }
}
