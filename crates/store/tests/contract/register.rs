//! The care register: households, residents found by sealed ID number, tags as history,
//! counts per building, visits recorded once per client key, and the visit plan.

use super::*;
use chrono::NaiveDate;
use doorstep_domain::people::{Residency, Sex, VisitKind};
use doorstep_domain::{BuildingId, HouseholdId};
use doorstep_store::{NewResident, NewVisit, Sealed};

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn sealed(tag: &str) -> Sealed {
    Sealed {
        sealed: format!("v1:test:{tag}"),
        lookup: format!("lookup-{tag}"),
    }
}

fn resident(h: HouseholdId, name: &str, id: &str) -> NewResident {
    NewResident {
        household_id: h,
        name: name.into(),
        sex: Some(Sex::Female),
        birth_date: Some(day("1942-03-05")),
        id_number: Some(sealed(id)),
        phone: None,
        residency: Residency::Registered,
        languages: None,
    }
}

pub(crate) async fn the_register_keeps_households_residents_tags_and_visits(s: Store) {
    let seed = seed(&s).await;
    let b = s
        .places()
        .create(
            Entity::Building,
            &vals(
                Entity::Building,
                json!({"estate_id": seed.estate, "number": "3号"}),
            ),
            &ctx(),
        )
        .await
        .unwrap();
    let building = BuildingId(b.id);
    let reg = s.register();
    // A household is one per unit and room: asking again gives the same.
    let h = reg.household(building, "1", "502", &ctx()).await.unwrap();
    assert_eq!(
        reg.household(building, "1", "502", &ctx())
            .await
            .unwrap()
            .id,
        h.id
    );
    assert_eq!(h.neighbourhood_id, seed.nb1);
    let h2 = reg.household(building, "2", "101", &ctx()).await.unwrap();
    // Residents, found by the lookup hash of their ID number; no two with one number.
    let mum = reg
        .add_resident(&resident(h.id, "王秀英", "A"), &ctx())
        .await
        .unwrap();
    assert_eq!(
        reg.resident_by_id_number(seed.sd, "lookup-A")
            .await
            .unwrap()
            .map(|r| r.id),
        Some(mum.id)
    );
    assert!(matches!(
        reg.add_resident(&resident(h2.id, "李四", "A"), &ctx()).await,
        Err(StoreError::Duplicate(f)) if f == vec!["id_number"]
    ));
    let son = reg
        .add_resident(&resident(h2.id, "李四", "B"), &ctx())
        .await
        .unwrap();
    // Tags: ending one keeps it in the history; counts see only those that hold.
    let alone = reg
        .start_tag(
            mum.id,
            "elderly_alone",
            json!({}),
            Some("女儿在外地"),
            day("2026-01-01"),
            &ctx(),
        )
        .await
        .unwrap();
    reg.start_tag(
        son.id,
        "hardship",
        json!({"kind": "dibao"}),
        None,
        day("2026-02-01"),
        &ctx(),
    )
    .await
    .unwrap();
    assert_eq!(
        tag_counts(&reg, &[building]).await,
        vec![
            ("elderly_alone".to_string(), 1),
            ("hardship".to_string(), 1)
        ]
    );
    // Read by building, the same as by household and resident.
    let by_household = reg.residents_of(&[h.id, h2.id]).await.unwrap();
    assert_eq!(reg.residents_in(&[building]).await.unwrap(), by_household);
    let ids: Vec<_> = by_household.iter().map(|r| r.id).collect();
    let tags_in = reg.tags_at_home_in(&[building]).await.unwrap();
    assert!(tags_in.iter().all(|t| {
        by_household
            .iter()
            .any(|r| r.id == t.tag.resident_id && r.household_id == t.household_id)
    }));
    assert_eq!(
        tags_in.into_iter().map(|t| t.tag).collect::<Vec<_>>(),
        reg.tags_of(&ids, false).await.unwrap()
    );
    let sized = reg.household_summaries_in(&[building]).await.unwrap();
    assert_eq!(
        sized
            .iter()
            .map(|s| (s.household.id, s.people))
            .collect::<Vec<_>>(),
        vec![
            (
                h.id,
                by_household
                    .iter()
                    .filter(|r| r.household_id == h.id)
                    .count() as i64
            ),
            (
                h2.id,
                by_household
                    .iter()
                    .filter(|r| r.household_id == h2.id)
                    .count() as i64
            )
        ]
    );
    assert_eq!(reg.tags_at_home_in(&[]).await.unwrap(), vec![]);
    reg.end_tag(alone.id, day("2026-11-01"), &ctx())
        .await
        .unwrap();
    assert!(matches!(
        reg.end_tag(alone.id, day("2026-11-02"), &ctx()).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(reg.tags_of(&[mum.id], false).await.unwrap().len(), 0);
    let history = reg.tags_of(&[mum.id], true).await.unwrap();
    assert_eq!(history[0].ended_on, Some(day("2026-11-01")));
    // Someone who moved away is archived: kept, but no longer counted or listed.
    reg.archive_resident(son.id, "moved", &ctx()).await.unwrap();
    assert_eq!(tag_counts(&reg, &[building]).await, vec![]);
    assert_eq!(reg.residents_of(&[h.id, h2.id]).await.unwrap().len(), 1);
    assert_eq!(reg.residents_in(&[building]).await.unwrap().len(), 1);
    assert_eq!(
        reg.find_resident(son.id)
            .await
            .unwrap()
            .unwrap()
            .archived_reason
            .as_deref(),
        Some("moved")
    );
    // A visit sent twice (the phone lost the answer) is recorded once.
    let worker = crate::requests::worker(&s, seed.sd, seed.nb1, "visitor", Role::Worker).await;
    let v = NewVisit {
        household_id: h.id,
        worker_id: worker,
        kind: VisitKind::Care,
        met: Some("王秀英".into()),
        notes: Some("身体尚可".into()),
        said: Some("楼道灯坏了".into()),
        visited_at: ctx().at,
        client_key: "phone-7f3a".into(),
    };
    let (first, new) = reg.record_visit(&v, &ctx()).await.unwrap();
    assert!(new);
    let (again, new) = reg.record_visit(&v, &ctx()).await.unwrap();
    assert!(!new);
    assert_eq!(again.id, first.id);
    assert_eq!(reg.visits_to(h.id, 10).await.unwrap().len(), 1);
    assert_eq!(
        reg.last_visits(&[h.id, h2.id]).await.unwrap(),
        vec![(h.id, ctx().at)]
    );
    let summaries = reg.household_summaries_in(&[building]).await.unwrap();
    assert_eq!(
        summaries
            .iter()
            .map(|s| (s.household.id, s.last_visit))
            .collect::<Vec<_>>(),
        vec![(h.id, Some(ctx().at)), (h2.id, None)]
    );
    // The plan: only what an admin changed is stored.
    assert!(reg.plans(seed.sd).await.unwrap().is_empty());
    reg.set_plan(seed.sd, "elderly_alone", 3, &ctx())
        .await
        .unwrap();
    reg.set_plan(seed.sd, "elderly_alone", 5, &ctx())
        .await
        .unwrap();
    assert_eq!(
        reg.plans(seed.sd).await.unwrap(),
        vec![("elderly_alone".to_string(), 5)]
    );
}

pub(crate) async fn a_roster_imports_all_or_nothing_and_reimports_without_duplicates(s: Store) {
    use doorstep_store::RosterRow;
    let seed = seed(&s).await;
    let b = s
        .places()
        .create(
            Entity::Building,
            &vals(
                Entity::Building,
                json!({"estate_id": seed.estate, "number": "9号"}),
            ),
            &ctx(),
        )
        .await
        .unwrap();
    let row = |room: &str, name: &str, id: &str, tags: &[&str]| RosterRow {
        building_id: BuildingId(b.id),
        unit: "1".into(),
        room: room.into(),
        name: name.into(),
        sex: None,
        birth_date: None,
        id_number: Some(sealed(id)),
        phone: Some(sealed(&format!("p{id}"))),
        residency: Residency::Registered,
        tags: tags.iter().map(|t| t.to_string()).collect(),
        tags_since: day("2026-01-01"),
    };
    let rows = vec![
        row("101", "张一", "R1", &["elderly_alone"]),
        row("101", "张二", "R2", &[]),
        row("102", "李三", "R3", &["hardship", "disability"]),
    ];
    let reg = s.register();
    let counts = reg.import(seed.sd, &rows, &ctx()).await.unwrap();
    assert_eq!(
        (
            counts.households_added,
            counts.residents_added,
            counts.residents_updated,
            counts.tags_started
        ),
        (2, 3, 0, 3)
    );
    // Again, with a new phone and one more tag: updated by ID number, nothing doubled.
    let mut again = rows.clone();
    again[0].phone = Some(sealed("new-phone"));
    again[1].tags.push("core_volunteer".into());
    let counts = reg.import(seed.sd, &again, &ctx()).await.unwrap();
    assert_eq!(
        (
            counts.households_added,
            counts.residents_added,
            counts.residents_updated,
            counts.tags_started
        ),
        (0, 0, 3, 1)
    );
    assert_eq!(
        tag_counts(&reg, &[BuildingId(b.id)]).await,
        vec![
            ("core_volunteer".to_string(), 1),
            ("disability".to_string(), 1),
            ("elderly_alone".to_string(), 1),
            ("hardship".to_string(), 1),
        ]
    );
    let zhang = reg
        .resident_by_id_number(seed.sd, "lookup-R1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(zhang.phone_sealed.as_deref(), Some("v1:test:new-phone"));
    // A row in a building of no one's (or another subdistrict's) writes nothing at all.
    let mut bad = vec![row("103", "王四", "R4", &[])];
    bad.push(RosterRow {
        building_id: BuildingId(999_999),
        ..row("104", "王五", "R5", &[])
    });
    assert!(matches!(
        reg.import(seed.sd, &bad, &ctx()).await,
        Err(StoreError::Validation(_))
    ));
    assert!(
        reg.resident_by_id_number(seed.sd, "lookup-R4")
            .await
            .unwrap()
            .is_none()
    );
}

/// Residents holding each tag now in `buildings`, by tag (what a block page counts).
async fn tag_counts(
    reg: &doorstep_store::RegisterStore<'_>,
    buildings: &[BuildingId],
) -> Vec<(String, i64)> {
    let mut counts = std::collections::BTreeMap::<String, std::collections::BTreeSet<_>>::new();
    for t in reg.tags_at_home_in(buildings).await.unwrap() {
        counts
            .entry(t.tag.tag)
            .or_default()
            .insert(t.tag.resident_id);
    }
    counts
        .into_iter()
        .map(|(t, who)| (t, who.len() as i64))
        .collect()
}
