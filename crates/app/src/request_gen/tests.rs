//! The generator's histories are legal, timely and cover every state at any hour.

use super::walk::{STEERED, working_hours};
use super::*;
use doorstep_domain::requests::{FollowUpChannel, Workflow};
use rand::SeedableRng;

#[test]
fn staff_act_in_working_hours() {
    let at = |h: u32, m: u32| {
        Shanghai
            .with_ymd_and_hms(2026, 11, 27, h, m, 0)
            .unwrap()
            .with_timezone(&Utc)
    };
    assert_eq!(working_hours(at(10, 0)), at(10, 0));
    assert_eq!(working_hours(at(20, 20)), at(8, 50) + Duration::days(1));
    assert_eq!(working_hours(at(3, 15)), at(8, 45));
}

#[test]
fn codes_are_ten_readable_characters_and_distinct() {
    let a = code_for("DM", 0);
    let b = code_for("DM", 1);
    assert_eq!((a.len(), b.len()), (10, 10));
    assert_ne!(a, b);
    assert!(a.chars().all(|c| !"01OI".contains(c)) || a.starts_with("DM"));
}

/// Instants that once left a state empty, or might: a weekday morning, a weekday night
/// (21:36), a Saturday before midnight, a Sunday before dawn, the National Day holiday
/// and the Spring Festival.
fn instants() -> Vec<DateTime<Utc>> {
    [
        (2026, 11, 30, 10, 0),
        (2026, 12, 1, 21, 36),
        (2026, 12, 5, 23, 30),
        (2026, 12, 6, 3, 0),
        (2026, 10, 3, 15, 0),
        (2026, 2, 18, 20, 0),
    ]
    .into_iter()
    .map(|(y, mo, d, h, mi)| {
        Shanghai
            .with_ymd_and_hms(y, mo, d, h, mi, 0)
            .unwrap()
            .with_timezone(&Utc)
    })
    .collect()
}

#[test]
fn histories_replay_and_cover_every_state_at_any_hour() {
    let nbs = vec![GenNeighbourhood {
        id: NeighbourhoodId(1),
        subdistrict_id: SubdistrictId(1),
        staff: vec![
            (AccountId(10), "sec".into()),
            (AccountId(11), "w1".into()),
            (AccountId(12), "w2".into()),
        ],
        buildings: vec![(BuildingId(100), 31.2, 121.55, "牡丹路100弄 1号".into())],
    }];
    let items: Vec<GenItem> = [
        "楼道堆物投诉",
        "垃圾分类投放咨询",
        "律师咨询预约",
        "加装电梯意见征询",
    ]
    .iter()
    .enumerate()
    .map(|(i, n)| GenItem {
        id: ServiceItemId(i as i64 + 1),
        name: n.to_string(),
    })
    .collect();
    let cal = WorkCalendar::china().unwrap();
    for now in instants() {
        let mut rng = StdRng::seed_from_u64(7);
        let hs = generate(&mut rng, &nbs, &items, 600, now, 45, &cal, "DM", 0);
        let mut seen = std::collections::HashMap::new();
        let mut ratings = std::collections::HashMap::new();
        for h in &hs {
            let moves: Vec<(Move, Relation)> =
                h.moves.iter().map(|m| (m.mv.clone(), m.relation)).collect();
            let wf = Workflow::replay(&moves).expect("a legal history");
            *seen.entry(wf.state).or_insert(0) += 1;
            assert!(
                h.moves.windows(2).all(|w| w[0].at <= w[1].at),
                "time runs forward"
            );
            assert!(h.received_at < now);
            assert!(h.moves.iter().all(|m| m.at < now && m.at > h.received_at));
            // A rating is the resident's own, or taken by someone other than the resolver.
            let mut resolver = None;
            for m in &h.moves {
                match &m.mv {
                    Move::Resolve { .. } | Move::ResolveOnSpot { .. } => resolver = m.actor_id,
                    Move::Close => assert!(m.actor_id != resolver, "{h:?}"),
                    Move::FollowUp { channel, .. } => {
                        let by_resident = *channel == FollowUpChannel::Web;
                        assert_eq!(by_resident, m.relation == Relation::Resident);
                        assert!(by_resident || m.actor_id != resolver, "{h:?}");
                    }
                    _ => {}
                }
            }
            *ratings
                .entry(
                    moves.iter().any(|(m, r)| {
                        matches!(m, Move::FollowUp { .. }) && *r == Relation::Resident
                    }),
                )
                .or_insert(0) += 1;
        }
        assert!(ratings.get(&true).copied().unwrap_or(0) > 50, "{ratings:?}");
        for s in STEERED {
            let n = seen.get(&s).copied().unwrap_or(0);
            assert!(n >= GUARANTEED_PER_STATE, "{now}: {s:?} {n} in {seen:?}");
        }
    }
}
