//! The Huamu demo mirrors the seed, and marks what it invents.

use crate::backend_tests;
use doorstep_domain::{Entity, Scope, Value};
use doorstep_store::scratch::ScratchDb as TestDb;
use doorstep_store::{Backend, ListQuery};

backend_tests!(the_demo_mirrors_the_seed);

/// The demo's "now" in this test: a Tuesday evening in Shanghai (21:36), the hour at which
/// a demo built on the wall clock once left too few requests just received.
fn pinned_now() -> chrono::DateTime<chrono::Utc> {
    use chrono::TimeZone;
    chrono_tz::Asia::Shanghai
        .with_ymd_and_hms(2026, 12, 1, 21, 36, 0)
        .unwrap()
        .with_timezone(&chrono::Utc)
}

async fn the_demo_mirrors_the_seed(b: Backend) {
    let db = TestDb::new(b).await.unwrap();
    let s = &db.store;
    let hash = doorstep_services::signin::hash_password(doorstep::demo::DEMO_PASSWORD.into())
        .await
        .unwrap();
    let h = hash.clone();
    assert!(
        doorstep::demo::ensure(s, pinned_now(), async move || Ok(h))
            .await
            .unwrap()
    );
    // Everything is there after the first build (not only after a reuse).
    let first = s.places().first_subdistrict().await.unwrap().unwrap();
    let q = ListQuery::new(Scope::Subdistrict(first.subdistrict_id));
    assert_eq!(
        s.places()
            .list(Entity::ServiceItem, &q)
            .await
            .unwrap()
            .total,
        doorstep_domain::catalogue::demo_catalogue().unwrap().len() as i64
    );
    assert!(
        s.geo()
            .current_network(first.subdistrict_id)
            .await
            .unwrap()
            .is_some()
    );
    // A few hundred requests, in every state, each timeline replaying to its state.
    let all_requests = s
        .requests()
        .list(&doorstep_store::RequestFilter {
            limit: 10_000,
            ..doorstep_store::RequestFilter::of(first.subdistrict_id)
        })
        .await
        .unwrap();
    assert!(all_requests.total >= 700, "{}", all_requests.total);
    use doorstep_domain::requests::{Move, Relation, State, Workflow};
    let mut per_state = std::collections::HashMap::new();
    for r in &all_requests.items {
        *per_state.entry(r.workflow.state).or_insert(0) += 1;
        assert!(r.is_demo);
    }
    for st in [
        State::Received,
        State::Assigned,
        State::Accepted,
        State::InProgress,
        State::Returned,
        State::Resolved,
        State::Closed,
        State::Reopened,
    ] {
        assert!(
            per_state.get(&st).copied().unwrap_or(0) >= 3,
            "{st:?}: {per_state:?}"
        );
    }
    let merged = all_requests
        .items
        .iter()
        .filter(|r| r.workflow.merged_into.is_some())
        .count();
    let escalated = all_requests
        .items
        .iter()
        .filter(|r| r.workflow.escalated)
        .count();
    assert!(
        merged >= 5 && escalated >= 5,
        "merged {merged}, escalated {escalated}"
    );
    for r in all_requests.items.iter().step_by(37) {
        let tl = s.requests().timeline(r.id).await.unwrap();
        let moves: Vec<(Move, Relation)> = tl
            .iter()
            .filter_map(|e| e.mv.clone().map(|m| (m, e.relation)))
            .collect();
        assert_eq!(
            Workflow::replay(&moves).unwrap(),
            r.workflow,
            "{}",
            r.tracking_code
        );
        assert_eq!(tl.len() as i64, r.version);
    }
    let h = hash.clone();
    assert!(
        !doorstep::demo::ensure(s, pinned_now(), async move || Ok(h))
            .await
            .unwrap(),
        "built once, then reused"
    );

    let sd = s.places().first_subdistrict().await.unwrap().unwrap();
    assert_eq!(sd.title(), "花木街道");
    assert!(!sd.is_demo, "the subdistrict is real");
    let all = |e: Entity| {
        let q = ListQuery::new(Scope::Subdistrict(sd.subdistrict_id)).all();
        async move { s.places().list(e, &q).await.unwrap().items }
    };
    assert_eq!(all(Entity::Community).await.len(), 6);
    let nbs = all(Entity::Neighbourhood).await;
    assert_eq!(nbs.len(), 44);
    for short in ["联洋五", "由由七", "东城五", "牡丹六", "牡丹七"] {
        assert!(
            nbs.iter()
                .any(|n| n.get("short_name").as_str() == Some(short)),
            "{short}"
        );
    }
    let mudan7 = nbs.iter().find(|n| n.title() == "牡丹第七居民区").unwrap();
    let scope = Scope::Neighbourhood {
        subdistrict_id: sd.subdistrict_id,
        neighbourhood_id: doorstep_domain::NeighbourhoodId(mudan7.id),
    };
    let estates = s
        .places()
        .list(Entity::Estate, &ListQuery::new(scope).all())
        .await
        .unwrap();
    assert_eq!(estates.total, 10, "牡丹七 serves 10 estates");
    let station = s
        .places()
        .list(Entity::Station, &ListQuery::new(scope).all())
        .await
        .unwrap()
        .items
        .remove(0);
    assert!(station.get("is_model").as_bool());
    assert_eq!(station.get("office_area_before_m2"), &Value::Float(300.0));
    let rooms = s
        .places()
        .list(Entity::Room, &ListQuery::new(scope).all())
        .await
        .unwrap()
        .items;
    for name in [
        "首问接待区",
        "党建服务站",
        "文化客厅",
        "联勤联动服务站",
        "综合活动室",
        "健康小屋",
        "绿色小屋",
    ] {
        assert!(rooms.iter().any(|r| r.title() == name), "{name}");
    }
    let areas = s.places().room_areas(scope).await.unwrap();
    assert_eq!(areas[0].office_m2, 30.0, "300 m² → 30 m² of office");

    // Realistic sizes: 1,000–2,500 households per neighbourhood; buildings inside Huamu.
    let totals = s
        .places()
        .totals(Scope::Subdistrict(sd.subdistrict_id))
        .await
        .unwrap();
    assert!(
        (44_000..=115_000).contains(&totals.households),
        "{}",
        totals.households
    );
    assert!((120..=230).contains(&totals.estates), "{}", totals.estates);
    for n in &nbs {
        let h = n.get("households").as_i64().unwrap();
        assert!((1000..=2700).contains(&h), "{}: {h}", n.title());
        assert!(n.is_demo, "figures and secretaries are invented");
    }
    let buildings = all(Entity::Building).await;
    assert_eq!(buildings.len() as i64, totals.buildings);
    for b in &buildings {
        let (lat, lon) = (
            b.get("lat").as_f64().unwrap(),
            b.get("lon").as_f64().unwrap(),
        );
        assert!(
            (31.20..=31.23).contains(&lat) && (121.53..=121.57).contains(&lon),
            "{lat},{lon}"
        );
        assert!(b.is_demo && b.get("block_id").as_i64().is_some());
    }
    // The demo catalogue: the seed's 八大类180余项.
    let items = all(Entity::ServiceItem).await;
    assert!(items.len() >= 180, "{}", items.len());
    assert!(items.iter().all(|i| i.is_demo));
    // Demo accounts for every role.
    for l in doorstep::demo::logins() {
        let (a, hash) = s.accounts().find_login(&l.username).await.unwrap().unwrap();
        assert_eq!(a.role, l.role);
        assert!(a.is_demo && hash.is_some(), "{}", l.username);
    }
    // A month of room bookings in the stations, the seed's activities among them.
    let stations = all(Entity::Station).await;
    let (from, to) = (
        pinned_now() - chrono::Duration::days(14),
        pinned_now() + chrono::Duration::days(28),
    );
    let mut booked = Vec::new();
    for st in &stations {
        booked.extend(s.bookings().in_station(st.id, from, to).await.unwrap());
    }
    assert!(booked.len() >= 44 * 10, "{}", booked.len());
    for purpose in [
        "书法班",
        "外籍居民汉语班（入门班）",
        "垃圾分类楼组长会议",
        "消防演练",
    ] {
        assert!(booked.iter().any(|b| b.purpose == purpose), "{purpose}");
    }
    let stations_booked: std::collections::BTreeSet<i64> =
        booked.iter().map(|b| b.station_id).collect();
    assert_eq!(
        stations_booked.len(),
        stations.len(),
        "every station uses its rooms"
    );
    db.drop_db().await;
}
