#![allow(clippy::unwrap_used)] // a panic is how a test fails
//! The store's contract, written once and run on both backends: SQLite always, PostgreSQL
//! with `--features pg-tests` (which fails, never skips, when the server is unreachable).

use chrono::{TimeZone, Utc};
use doorstep_domain::policy::Place;
use doorstep_domain::{Entity, FieldErrors, Role, Scope, Value, Values};
use doorstep_store::testing::TestDb;
use doorstep_store::{AuditFilter, ListQuery, NewAccount, Store, StoreError, WriteCtx};
use serde_json::json;

fn ctx() -> WriteCtx {
    WriteCtx {
        actor_id: None,
        actor_name: "test".into(),
        subdistrict_id: None,
        ip: Some("127.0.0.1".into()),
        at: Utc.with_ymd_and_hms(2026, 11, 28, 8, 0, 0).unwrap(),
        demo: false,
    }
}

fn vals(entity: Entity, v: serde_json::Value) -> Values {
    let map = v.as_object().cloned().unwrap_or_default();
    doorstep_domain::validate(entity.fields(), &map, None, &[]).expect("valid test values")
}

struct Seed {
    sd: i64,
    nb1: i64,
    nb2: i64,
    estate: i64,
    station: i64,
}

async fn seed(s: &Store) -> Seed {
    let c = ctx();
    let sd = s
        .create_place(
            Entity::Subdistrict,
            &vals(
                Entity::Subdistrict,
                json!({"name": "花木街道", "code": "310115016"}),
            ),
            &c,
        )
        .await
        .unwrap();
    let com = s
        .create_place(
            Entity::Community,
            &vals(
                Entity::Community,
                json!({"subdistrict_id": sd.id, "name": "牡丹"}),
            ),
            &c,
        )
        .await
        .unwrap();
    let nb1 = s
        .create_place(
            Entity::Neighbourhood,
            &vals(
                Entity::Neighbourhood,
                json!({"community_id": com.id, "name": "牡丹第七居民区", "short_name": "牡丹七"}),
            ),
            &c,
        )
        .await
        .unwrap();
    let nb2 = s
        .create_place(
            Entity::Neighbourhood,
            &vals(
                Entity::Neighbourhood,
                json!({"community_id": com.id, "name": "牡丹第六居民区"}),
            ),
            &c,
        )
        .await
        .unwrap();
    let estate = s
        .create_place(
            Entity::Estate,
            &vals(
                Entity::Estate,
                json!({"neighbourhood_id": nb1.id, "name": "牡丹路100弄"}),
            ),
            &c,
        )
        .await
        .unwrap();
    let station = s.create_place(Entity::Station, &vals(Entity::Station, json!({"neighbourhood_id": nb1.id, "name": "牡丹七家门口服务站", "office_area_before_m2": 300})), &c).await.unwrap();
    Seed {
        sd: sd.id,
        nb1: nb1.id,
        nb2: nb2.id,
        estate: estate.id,
        station: station.id,
    }
}

async fn places_nest_and_carry_their_scope(s: Store) {
    let seed = seed(&s).await;
    let b = s
        .create_place(Entity::Building, &vals(Entity::Building, json!({"estate_id": seed.estate, "number": "1号", "floors": 6, "households": 24, "lat": 31.21, "lon": 121.55})), &ctx())
        .await
        .unwrap();
    assert_eq!(b.subdistrict_id, seed.sd);
    assert_eq!(b.neighbourhood_id, Some(seed.nb1));
    assert_eq!(b.version, 1);
    assert_eq!(b.get("households"), &Value::Int(24));
    let nb = s.get_place(Entity::Neighbourhood, seed.nb1).await.unwrap();
    assert_eq!(
        nb.place(),
        Place {
            subdistrict_id: seed.sd,
            neighbourhood_id: Some(seed.nb1)
        }
    );

    // Scope: the other neighbourhood sees none of these buildings.
    let mine = s
        .list_places(
            Entity::Building,
            &ListQuery::new(Scope::Neighbourhood {
                subdistrict_id: seed.sd,
                neighbourhood_id: seed.nb1,
            }),
        )
        .await
        .unwrap();
    assert_eq!(mine.total, 1);
    let other = s
        .list_places(
            Entity::Building,
            &ListQuery::new(Scope::Neighbourhood {
                subdistrict_id: seed.sd,
                neighbourhood_id: seed.nb2,
            }),
        )
        .await
        .unwrap();
    assert_eq!(other.total, 0);
    let elsewhere = s
        .list_places(
            Entity::Building,
            &ListQuery::new(Scope::Subdistrict(seed.sd + 1000)),
        )
        .await
        .unwrap();
    assert_eq!(elsewhere.total, 0);
}

async fn lists_page_filter_and_search(s: Store) {
    let seed = seed(&s).await;
    for i in 1..=25 {
        s.create_place(
            Entity::Building,
            &vals(
                Entity::Building,
                json!({"estate_id": seed.estate, "number": format!("{i}号")}),
            ),
            &ctx(),
        )
        .await
        .unwrap();
    }
    let mut q =
        ListQuery::new(Scope::Subdistrict(seed.sd)).filter("estate_id", Value::Int(seed.estate));
    q.limit = 10;
    q.offset = 20;
    let page = s.list_places(Entity::Building, &q).await.unwrap();
    assert_eq!(page.total, 25);
    assert_eq!(page.items.len(), 5);
    assert_eq!(page.items[0].title(), "21号");
    let mut q = ListQuery::new(Scope::Subdistrict(seed.sd));
    q.q = Some("2".into());
    let page = s.list_places(Entity::Building, &q).await.unwrap();
    assert_eq!(page.total, 8); // 2, 12, 20..25
    // LIKE wildcards in the search are literal.
    q.q = Some("%".into());
    assert_eq!(s.list_places(Entity::Building, &q).await.unwrap().total, 0);
    let err = s
        .list_places(
            Entity::Building,
            &ListQuery::new(Scope::Subdistrict(seed.sd)).filter("nope", Value::Int(1)),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Validation(_)));
}

async fn duplicates_within_a_parent_conflict(s: Store) {
    let seed = seed(&s).await;
    let v = vals(
        Entity::Estate,
        json!({"neighbourhood_id": seed.nb1, "name": "牡丹路100弄"}),
    );
    match s.create_place(Entity::Estate, &v, &ctx()).await {
        Err(StoreError::Duplicate(fields)) => assert_eq!(fields, vec!["neighbourhood_id", "name"]),
        other => panic!("expected a duplicate, got {other:?}"),
    }
    // The same name under another neighbourhood is fine.
    let v = vals(
        Entity::Estate,
        json!({"neighbourhood_id": seed.nb2, "name": "牡丹路100弄"}),
    );
    s.create_place(Entity::Estate, &v, &ctx()).await.unwrap();
    // One station per neighbourhood.
    let v = vals(
        Entity::Station,
        json!({"neighbourhood_id": seed.nb1, "name": "第二个站"}),
    );
    assert!(matches!(
        s.create_place(Entity::Station, &v, &ctx()).await,
        Err(StoreError::Duplicate(_))
    ));
}

async fn updates_check_versions_and_never_lose_a_write(s: Store) {
    let seed = seed(&s).await;
    let b = s
        .create_place(
            Entity::Building,
            &vals(
                Entity::Building,
                json!({"estate_id": seed.estate, "number": "1号", "households": 0}),
            ),
            &ctx(),
        )
        .await
        .unwrap();
    let change = |households: i64| {
        move |cur: &doorstep_store::PlaceRecord| {
            let mut v = cur.values.clone();
            v.insert("households", Value::Int(households));
            Ok(v)
        }
    };
    let after = s
        .update_place(Entity::Building, b.id, Some(1), &ctx(), change(5))
        .await
        .unwrap();
    assert_eq!(after.version, 2);
    match s
        .update_place(Entity::Building, b.id, Some(1), &ctx(), change(6))
        .await
    {
        Err(StoreError::VersionConflict { current }) => assert_eq!(current, 2),
        other => panic!("expected a version conflict, got {other:?}"),
    }
    // Twenty concurrent read-modify-write increments: none may be lost.
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            s.update_place(Entity::Building, b.id, None, &ctx(), |cur| {
                let mut v = cur.values.clone();
                let n = cur.get("households").as_i64().unwrap_or(0);
                v.insert("households", Value::Int(n + 1));
                Ok(v)
            })
            .await
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let end = s.get_place(Entity::Building, b.id).await.unwrap();
    assert_eq!(end.get("households"), &Value::Int(25));
    assert_eq!(end.version, 22);
    let audit = s
        .list_audit(&AuditFilter {
            entity: Some("building".into()),
            entity_id: Some(b.id),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(audit.total, 22, "one audit entry per write");
}

async fn failed_writes_leave_nothing_behind(s: Store) {
    let seed = seed(&s).await;
    let before = s
        .list_audit(&AuditFilter {
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .total;
    // A block of another neighbourhood cannot be referenced.
    let other_block = s
        .create_place(
            Entity::Block,
            &vals(
                Entity::Block,
                json!({"neighbourhood_id": seed.nb2, "name": "一块区"}),
            ),
            &ctx(),
        )
        .await
        .unwrap();
    let v = vals(
        Entity::Building,
        json!({"estate_id": seed.estate, "number": "9号", "block_id": other_block.id}),
    );
    let err = s
        .create_place(Entity::Building, &v, &ctx())
        .await
        .unwrap_err();
    match err {
        StoreError::Validation(FieldErrors(e)) => assert_eq!(e[0].code, "invalid_reference"),
        other => panic!("{other:?}"),
    }
    // A change whose validation fails inside the transaction writes nothing.
    let est = s.get_place(Entity::Estate, seed.estate).await.unwrap();
    let err = s
        .update_place(Entity::Estate, seed.estate, None, &ctx(), |_| {
            Err(FieldErrors::single("name", "required").into())
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Validation(_)));
    assert_eq!(
        s.get_place(Entity::Estate, seed.estate)
            .await
            .unwrap()
            .version,
        est.version
    );
    let q = ListQuery::new(Scope::Subdistrict(seed.sd));
    assert_eq!(s.list_places(Entity::Building, &q).await.unwrap().total, 0);
    let after = s
        .list_audit(&AuditFilter {
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .total;
    assert_eq!(after, before + 1, "only the block's creation was audited");
}

async fn archiving_respects_children(s: Store) {
    let seed = seed(&s).await;
    s.create_place(
        Entity::Building,
        &vals(
            Entity::Building,
            json!({"estate_id": seed.estate, "number": "1号"}),
        ),
        &ctx(),
    )
    .await
    .unwrap();
    assert!(matches!(
        s.archive_place(Entity::Estate, seed.estate, None, true, &ctx())
            .await,
        Err(StoreError::InUse)
    ));
    let empty = s
        .create_place(
            Entity::Estate,
            &vals(
                Entity::Estate,
                json!({"neighbourhood_id": seed.nb1, "name": "空小区"}),
            ),
            &ctx(),
        )
        .await
        .unwrap();
    let archived = s
        .archive_place(Entity::Estate, empty.id, Some(1), true, &ctx())
        .await
        .unwrap();
    assert!(archived.archived_at.is_some());
    let q = ListQuery::new(Scope::Subdistrict(seed.sd));
    assert_eq!(s.list_places(Entity::Estate, &q).await.unwrap().total, 1);
    let mut q2 = q.clone();
    q2.include_archived = true;
    assert_eq!(s.list_places(Entity::Estate, &q2).await.unwrap().total, 2);
    // Nothing new goes under an archived parent.
    let v = vals(
        Entity::Building,
        json!({"estate_id": empty.id, "number": "1号"}),
    );
    assert!(matches!(
        s.create_place(Entity::Building, &v, &ctx()).await,
        Err(StoreError::Validation(_))
    ));
    let restored = s
        .archive_place(Entity::Estate, empty.id, None, false, &ctx())
        .await
        .unwrap();
    assert!(restored.archived_at.is_none());
}

async fn station_areas_split_office_from_service(s: Store) {
    let seed = seed(&s).await;
    for (name, kind, area, office) in [
        ("社工办公区", "office", 30.0, true),
        ("综合活动室", "activity", 120.0, false),
        ("健康小屋", "health_cabin", 25.5, false),
    ] {
        s.create_place(Entity::Room, &vals(Entity::Room, json!({"station_id": seed.station, "name": name, "kind": kind, "area_m2": area, "is_office": office})), &ctx()).await.unwrap();
    }
    let areas = s.room_areas(Scope::Subdistrict(seed.sd)).await.unwrap();
    assert_eq!(areas.len(), 1);
    assert_eq!(areas[0].office_m2, 30.0);
    assert_eq!(areas[0].service_m2, 145.5);
    let t = s
        .place_totals(Scope::Neighbourhood {
            subdistrict_id: seed.sd,
            neighbourhood_id: seed.nb1,
        })
        .await
        .unwrap();
    assert_eq!(
        (t.rooms, t.stations, t.estates, t.neighbourhoods),
        (3, 1, 1, 1)
    );
}

async fn the_audit_log_is_append_only(s: Store) {
    seed(&s).await;
    let url_is_pg = s.backend() == doorstep_store::Backend::Postgres;
    let err = s.set_meta("x", "y").await; // an ordinary write still works
    assert!(err.is_ok());
    let page = s
        .list_audit(&AuditFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(page.total >= 6);
    assert!(
        s.tamper_with_audit_log().await.is_err(),
        "UPDATE on audit_log must fail (pg: {url_is_pg})"
    );
}

async fn accounts_sessions_and_sign_in_attempts(s: Store) {
    let seed = seed(&s).await;
    let new = NewAccount {
        username: "mudan7-sec".into(),
        display_name: "王书记".into(),
        role: Role::Secretary,
        neighbourhood_id: Some(seed.nb1),
        partner_unit: None,
        phone: None,
        locale: "zh-CN".into(),
        password_hash: Some("$argon2id$fake".into()),
    };
    let a = s.create_account(seed.sd, &new, &ctx()).await.unwrap();
    assert!(a.has_password);
    assert!(
        matches!(s.create_account(seed.sd, &new, &ctx()).await, Err(StoreError::Duplicate(f)) if f == vec!["username"])
    );
    let mut bad = new.clone();
    bad.username = "x2".into();
    bad.neighbourhood_id = Some(999_999);
    assert!(matches!(
        s.create_account(seed.sd, &bad, &ctx()).await,
        Err(StoreError::Validation(_))
    ));
    let (found, hash) = s.find_login("MUDAN7-SEC").await.unwrap().unwrap();
    assert_eq!(found.id, a.id);
    assert_eq!(hash.as_deref(), Some("$argon2id$fake"));

    let t0 = ctx().at;
    for i in 0..3 {
        let c = WriteCtx {
            at: t0 + chrono::Duration::minutes(i),
            ..ctx()
        };
        s.record_login("mudan7-sec", Some(&a), false, "bad_password", &c)
            .await
            .unwrap();
    }
    let att = s
        .login_attempts("mudan7-sec", t0 - chrono::Duration::minutes(15))
        .await
        .unwrap();
    assert_eq!(att.failures, 3);
    assert_eq!(att.last_failure, Some(t0 + chrono::Duration::minutes(2)));
    // A success resets the count.
    let c = WriteCtx {
        at: t0 + chrono::Duration::minutes(3),
        ..ctx()
    };
    s.record_login("mudan7-sec", Some(&a), true, "ok", &c)
        .await
        .unwrap();
    let att = s
        .login_attempts("mudan7-sec", t0 - chrono::Duration::minutes(15))
        .await
        .unwrap();
    assert_eq!(att.failures, 0);

    let sess = doorstep_store::SessionRecord {
        id_hash: "h1".into(),
        account_id: a.id,
        csrf_token: "c".into(),
        ip: None,
        user_agent: None,
        created_at: t0,
        last_seen_at: t0,
    };
    s.create_session(&sess).await.unwrap();
    let (got, acc) = s.find_session("h1").await.unwrap().unwrap();
    assert_eq!((got.account_id, acc.id), (a.id, a.id));
    assert_eq!(got.created_at, t0);
    // Disabling the account ends its sessions.
    s.update_account(a.id, Some(a.version), &ctx(), |cur| {
        Ok(doorstep_store::AccountPatch {
            display_name: cur.display_name.clone(),
            role: cur.role,
            neighbourhood_id: cur.neighbourhood_id,
            partner_unit: None,
            phone: None,
            locale: cur.locale.clone(),
            disabled: true,
        })
    })
    .await
    .unwrap();
    assert!(s.find_session("h1").await.unwrap().is_none());
    let tok = s
        .create_api_token(a.id, "ci", "tokhash", &ctx())
        .await
        .unwrap();
    assert!(s.find_api_token("tokhash").await.unwrap().is_some());
    s.revoke_api_token(a.id, tok.id, &ctx()).await.unwrap();
    assert!(s.find_api_token("tokhash").await.unwrap().is_none());
    let page = s
        .list_accounts(
            seed.sd,
            Some(seed.nb1),
            Some(Role::Secretary),
            Some("王"),
            10,
            0,
        )
        .await
        .unwrap();
    assert_eq!(page.total, 1);
}

async fn setup_happens_once(s: Store) {
    let admin = NewAccount {
        username: "admin".into(),
        display_name: "管理员".into(),
        role: Role::Admin,
        neighbourhood_id: None,
        partner_unit: None,
        phone: None,
        locale: "zh-CN".into(),
        password_hash: Some("h".into()),
    };
    let a = s
        .setup_first_admin("花木街道", Some("310115016"), &admin, &ctx())
        .await
        .unwrap();
    assert_eq!(a.role, Role::Admin);
    assert!(matches!(
        s.setup_first_admin("x", None, &admin, &ctx()).await,
        Err(StoreError::Conflict("already_set_up"))
    ));
    assert_eq!(
        s.first_subdistrict().await.unwrap().unwrap().title(),
        "花木街道"
    );
}

async fn networks_are_stored_whole_and_replaced(s: Store) {
    let seed = seed(&s).await;
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let meta = doorstep_store::NetworkMeta {
        id: 0,
        subdistrict_id: seed.sd,
        name: "Huamu".into(),
        source: "shanghai.osm.pbf".into(),
        synthetic: false,
        nodes: 10,
        edges: 12,
        bbox: (31.2, 121.53, 31.23, 121.57),
        created_at: ctx().at,
    };
    let fac = vec![doorstep_store::FacilityRow {
        category: "health".into(),
        name: "卫生服务中心".into(),
        lat: 31.21,
        lon: 121.55,
        source: "osm:node/1".into(),
    }];
    let first = s.save_network(&meta, &data, &fac, &ctx()).await.unwrap();
    let second = s
        .save_network(&meta, &data[..1000], &[], &ctx())
        .await
        .unwrap();
    let (m, d) = s.current_network(seed.sd).await.unwrap().unwrap();
    assert_eq!((m.id, d.len(), m.bbox), (second, 1000, meta.bbox));
    assert!(
        s.network_facilities(first).await.unwrap().is_empty(),
        "the old network's facilities went with it"
    );
    s.save_network(&meta, &data, &fac, &ctx()).await.unwrap();
    let (m, d) = s.current_network(seed.sd).await.unwrap().unwrap();
    assert_eq!(d, data);
    assert_eq!(s.network_facilities(m.id).await.unwrap(), fac);
    let before = s.places_fingerprint(seed.sd).await.unwrap();
    s.create_place(Entity::Building, &vals(Entity::Building, json!({"estate_id": seed.estate, "number": "1号", "households": 30, "lat": 31.21, "lon": 121.55})), &ctx()).await.unwrap();
    assert_ne!(before, s.places_fingerprint(seed.sd).await.unwrap());
    let pts = s.building_points(seed.sd).await.unwrap();
    assert_eq!(pts.len(), 1);
    assert!(
        (pts[0].residents - 78.0).abs() < 1e-9,
        "2.6 people per household by default"
    );
}

async fn requests_move_under_version_checks_and_keep_their_timeline(s: Store) {
    use doorstep_domain::requests::{
        Channel, Handler, Kind, Move, Relation, Satisfaction, State, Workflow,
    };
    let seed = seed(&s).await;
    let owner = s
        .create_account(
            seed.sd,
            &NewAccount {
                username: "owner1".into(),
                display_name: "首问".into(),
                role: Role::Worker,
                neighbourhood_id: Some(seed.nb1),
                partner_unit: None,
                phone: None,
                locale: "zh-CN".into(),
                password_hash: None,
            },
            &ctx(),
        )
        .await
        .unwrap();
    let new = doorstep_store::NewRequest {
        neighbourhood_id: seed.nb1,
        tracking_code: "HM2611280001".into(),
        channel: Channel::Desk,
        kind: Kind::Help,
        service_item_id: None,
        description: "楼道灯坏了".into(),
        building_id: None,
        lat: None,
        lon: None,
        resident_name: None,
        resident_phone: None,
        resident_email: None,
        address: None,
        owner_id: owner.id,
        deadline_at: ctx().at + chrono::Duration::days(7),
        attachments: Vec::new(),
    };
    let mut c = ctx();
    c.at += chrono::Duration::nanoseconds(123_456_789);
    let r = s.create_request(&new, &c).await.unwrap();
    assert_eq!(
        (r.workflow.state, r.version, r.subdistrict_id),
        (State::Received, 1, seed.sd)
    );
    assert_eq!(
        s.get_request(r.id).await.unwrap(),
        r,
        "what intake returns is what was stored"
    );
    assert!(
        matches!(
            s.create_request(&new, &ctx()).await,
            Err(StoreError::Duplicate(_))
        ),
        "tracking codes are unique"
    );
    let keep = |cur: &doorstep_store::RequestRecord, _: &Workflow| cur.deadline_at;
    let r = s
        .move_request(
            r.id,
            1,
            &Move::Assign {
                to: Handler::Worker(owner.id),
            },
            Relation::Owner,
            &ctx(),
            keep,
        )
        .await
        .unwrap();
    assert_eq!((r.workflow.state, r.version), (State::Assigned, 2));
    // An illegal move changes nothing.
    let err = s
        .move_request(r.id, 2, &Move::Close, Relation::Owner, &ctx(), keep)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::IllegalMove(_)), "{err:?}");
    assert_eq!(s.get_request(r.id).await.unwrap().version, 2);
    // Two handlers accept at once on the same version: one wins.
    let (c1, c2) = (ctx(), ctx());
    let (a, b) = tokio::join!(
        s.move_request(r.id, 2, &Move::Accept, Relation::Handler, &c1, keep),
        s.move_request(r.id, 2, &Move::Accept, Relation::Handler, &c2, keep),
    );
    assert!(a.is_ok() != b.is_ok(), "exactly one wins: {a:?} / {b:?}");
    let loser = if a.is_err() {
        a.unwrap_err()
    } else {
        b.unwrap_err()
    };
    assert!(
        matches!(loser, StoreError::VersionConflict { current: 3 }),
        "{loser:?}"
    );
    let r = s
        .move_request(
            r.id,
            3,
            &Move::Resolve {
                reply: "已更换灯泡".into(),
            },
            Relation::Handler,
            &ctx(),
            keep,
        )
        .await
        .unwrap();
    assert!(r.resolved_at.is_some());
    let sat = Satisfaction::Satisfied;
    let r = s
        .move_request(
            r.id,
            4,
            &Move::FollowUp {
                efficiency: sat,
                attitude: sat,
                result: sat,
            },
            Relation::Owner,
            &ctx(),
            keep,
        )
        .await
        .unwrap();
    assert_eq!(r.workflow.state, State::Closed);
    assert!(r.closed_at.is_some());
    // The timeline replays to the stored state.
    let tl = s.request_timeline(r.id).await.unwrap();
    assert_eq!(tl.len(), 5);
    assert_eq!(tl[0].mv, None);
    let moves: Vec<(Move, Relation)> = tl
        .iter()
        .filter_map(|e| e.mv.clone().map(|m| (m, e.relation)))
        .collect();
    assert_eq!(Workflow::replay(&moves).unwrap(), r.workflow);
    assert_eq!(tl.last().unwrap().state_after, State::Closed);
}

async fn worker(s: &Store, sd: i64, nb: i64, name: &str, role: Role) -> i64 {
    s.create_account(
        sd,
        &NewAccount {
            username: name.into(),
            display_name: name.into(),
            role,
            neighbourhood_id: Some(nb),
            partner_unit: None,
            phone: None,
            locale: "zh-CN".into(),
            password_hash: None,
        },
        &ctx(),
    )
    .await
    .unwrap()
    .id
}

fn new_request(nb: i64, owner: i64, code: &str, text: &str) -> doorstep_store::NewRequest {
    use doorstep_domain::requests::{Channel, Kind};
    doorstep_store::NewRequest {
        neighbourhood_id: nb,
        tracking_code: code.into(),
        channel: Channel::Web,
        kind: Kind::Complaint,
        service_item_id: None,
        description: text.into(),
        building_id: None,
        lat: Some(31.21),
        lon: Some(121.55),
        resident_name: None,
        resident_phone: Some("13812345678".into()),
        resident_email: None,
        address: Some("3号楼".into()),
        owner_id: owner,
        deadline_at: ctx().at + chrono::Duration::days(7),
        attachments: Vec::new(),
    }
}

/// The property at store level: random move sequences, each move sent with the version
/// last read, are accepted exactly when the pure state machine accepts them; the stored
/// state, its columns and the replayed timeline always agree.
async fn random_moves_keep_state_columns_and_timeline_in_step(s: Store) {
    use doorstep_domain::requests::{
        Handler, Move, Relation, ReturnReason, Satisfaction, State, Workflow,
    };
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};
    let seed = seed(&s).await;
    let owner = worker(&s, seed.sd, seed.nb1, "prop-owner", Role::Worker).await;
    let sat = prop_oneof![
        Just(Satisfaction::Unsatisfied),
        Just(Satisfaction::Basic),
        Just(Satisfaction::Satisfied)
    ];
    let who = prop_oneof![
        Just(Relation::Owner),
        Just(Relation::Handler),
        Just(Relation::Supervisor),
        Just(Relation::System)
    ];
    let mv = prop_oneof![
        Just(Move::ResolveOnSpot {
            reply: "答复".into()
        }),
        Just(Move::Assign {
            to: Handler::Worker(owner)
        }),
        Just(Move::Assign {
            to: Handler::Partner("物业".into())
        }),
        Just(Move::Accept),
        Just(Move::Return {
            reason: ReturnReason::WrongPlace,
            note: "不在本辖区".into()
        }),
        Just(Move::Start),
        Just(Move::Resolve {
            reply: "已办".into()
        }),
        (sat.clone(), sat.clone(), sat).prop_map(|(efficiency, attitude, result)| Move::FollowUp {
            efficiency,
            attitude,
            result
        }),
        Just(Move::Close),
        (0u32..12).prop_map(|days| Move::RequestExtension {
            days,
            reason: "施工".into()
        }),
        any::<bool>().prop_map(|approve| Move::DecideExtension { approve }),
        Just(Move::Escalate),
    ];
    let strategy = prop::collection::vec((mv, who), 1..25);
    let mut runner = TestRunner::new(Config {
        cases: 24,
        failure_persistence: None,
        ..Config::default()
    });
    let keep = |cur: &doorstep_store::RequestRecord, _: &Workflow| cur.deadline_at;
    let handle = tokio::runtime::Handle::current();
    let counter = std::sync::atomic::AtomicUsize::new(0);
    let result = runner.run(&strategy, |moves| {
        let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        tokio::task::block_in_place(|| {
            handle.block_on(async {
                let r = s
                    .create_request(
                        &new_request(seed.nb1, owner, &format!("PROP{n:06}"), "路灯坏了"),
                        &ctx(),
                    )
                    .await
                    .unwrap();
                let mut model = Workflow::default();
                let mut version = r.version;
                for (i, (m, who)) in moves.iter().enumerate() {
                    let mut c = ctx();
                    c.at += chrono::Duration::minutes(i as i64 + 1);
                    let stored = s.move_request(r.id, version, m, *who, &c, keep).await;
                    match (model.apply(m, *who), stored) {
                        (Ok(next), Ok(rec)) => {
                            model = next;
                            version = rec.version;
                        }
                        (Err(_), Err(StoreError::IllegalMove(_))) => {}
                        (a, b) => {
                            panic!("model and store disagree on {m:?} by {who:?}: {a:?} / {b:?}")
                        }
                    }
                }
                let rec = s.get_request(r.id).await.unwrap();
                assert_eq!(rec.workflow, model);
                let tl = s.request_timeline(r.id).await.unwrap();
                assert_eq!(tl.len() as i64, rec.version, "one event per version");
                let replayed: Vec<(Move, Relation)> = tl
                    .iter()
                    .filter_map(|e| e.mv.clone().map(|m| (m, e.relation)))
                    .collect();
                assert_eq!(Workflow::replay(&replayed).unwrap(), rec.workflow);
                assert_eq!(tl.last().unwrap().state_after, rec.workflow.state);
                assert_eq!(
                    rec.resolved_at.is_some(),
                    matches!(rec.workflow.state, State::Resolved | State::Closed)
                        && rec.resolve_secs.is_some()
                );
                assert_eq!(rec.closed_at.is_some(), rec.workflow.state == State::Closed);
            })
        });
        Ok(())
    });
    result.unwrap();
}

async fn merges_duplicates_figures_and_attachments(s: Store) {
    use doorstep_domain::requests::{Move, Relation, Satisfaction, State, Workflow};
    use doorstep_store::FigureQuery;
    let seed = seed(&s).await;
    let sec = worker(&s, seed.sd, seed.nb1, "sec1", Role::Secretary).await;
    let w = worker(&s, seed.sd, seed.nb1, "w1", Role::Worker).await;
    assert_eq!(
        s.receiver_for(seed.sd, seed.nb1).await.unwrap(),
        sec,
        "the secretary receives"
    );
    assert!(
        matches!(
            s.receiver_for(seed.sd, seed.nb2).await,
            Err(StoreError::NotFound)
        ),
        "no staff, no admin"
    );
    let a = s
        .create_request(
            &new_request(seed.nb1, w, "DUPA000001", "3号楼楼道堆放杂物"),
            &ctx(),
        )
        .await
        .unwrap();
    let b = s
        .create_request(
            &new_request(seed.nb1, sec, "DUPB000001", "3号楼楼道里堆了很多杂物"),
            &ctx(),
        )
        .await
        .unwrap();
    let since = ctx().at - chrono::Duration::days(14);
    let cands = s
        .duplicate_candidates(seed.nb1, since, Some(b.id), 50)
        .await
        .unwrap();
    assert_eq!(cands.iter().map(|c| c.id).collect::<Vec<_>>(), vec![a.id]);
    assert_eq!((cands[0].lat, cands[0].lon), (Some(31.21), Some(121.55)));
    assert!(
        s.duplicate_candidates(seed.nb2, since, None, 50)
            .await
            .unwrap()
            .is_empty()
    );
    // Merging b into a: b closes as merged, a's timeline notes it, both versions move.
    let c = ctx();
    assert!(matches!(
        s.merge_requests(b.id, 9, a.id, Relation::Owner, &c).await,
        Err(StoreError::VersionConflict { current: 1 })
    ));
    assert!(matches!(
        s.merge_requests(b.id, 1, b.id, Relation::Owner, &c).await,
        Err(StoreError::IllegalMove(_))
    ));
    let merged = s
        .merge_requests(b.id, 1, a.id, Relation::Owner, &c)
        .await
        .unwrap();
    assert_eq!(
        (merged.workflow.state, merged.workflow.merged_into),
        (State::Closed, Some(a.id))
    );
    let tl = s.request_timeline(a.id).await.unwrap();
    assert_eq!(tl.last().unwrap().mv, Some(Move::Absorb { from: b.id }));
    assert_eq!(s.get_request(a.id).await.unwrap().version, 2);
    // A merged request is no candidate, and nothing merges into a closed one.
    assert!(
        s.duplicate_candidates(seed.nb1, since, Some(a.id), 50)
            .await
            .unwrap()
            .is_empty()
    );
    let d = s
        .create_request(&new_request(seed.nb1, w, "DUPD000001", "楼道堆物"), &ctx())
        .await
        .unwrap();
    assert!(matches!(
        s.merge_requests(d.id, 1, b.id, Relation::Owner, &c).await,
        Err(StoreError::IllegalMove(_))
    ));
    assert_eq!(
        s.get_request(d.id).await.unwrap().version,
        1,
        "a refused merge changes nothing"
    );
    // Figures: a resolved on the spot an hour after intake and rated basic; d still open past its deadline.
    let keep = |cur: &doorstep_store::RequestRecord, _: &Workflow| cur.deadline_at;
    let mut later = ctx();
    later.at += chrono::Duration::hours(1);
    let a2 = s
        .move_request(
            a.id,
            2,
            &Move::ResolveOnSpot {
                reply: "已清理".into(),
            },
            Relation::Owner,
            &later,
            keep,
        )
        .await
        .unwrap();
    assert_eq!(a2.resolve_secs, Some(3600));
    let basic = Satisfaction::Basic;
    s.move_request(
        a.id,
        3,
        &Move::FollowUp {
            efficiency: basic,
            attitude: basic,
            result: basic,
        },
        Relation::Owner,
        &later,
        keep,
    )
    .await
    .unwrap();
    let q = FigureQuery {
        subdistrict_id: seed.sd,
        neighbourhood_id: None,
        from: ctx().at - chrono::Duration::days(1),
        to: ctx().at + chrono::Duration::days(1),
        now: ctx().at + chrono::Duration::days(30),
    };
    let f = s.request_figures(&q).await.unwrap();
    let o = &f.overall;
    assert_eq!(
        (
            o.total,
            o.merged,
            o.open,
            o.overdue_open,
            o.on_spot,
            o.resolved
        ),
        (2, 1, 1, 1, 1, 1)
    );
    assert_eq!(
        (
            o.due,
            o.on_time,
            o.rated,
            o.satisfied,
            o.median_resolve_secs
        ),
        (2, 1, 1, 1, Some(3600))
    );
    assert_eq!(o.on_time_rate(), Some(0.5));
    assert_eq!(f.by_kind.get("complaint"), Some(&2));
    assert_eq!(f.by_category.get(""), Some(&2));
    assert_eq!(f.neighbourhoods.len(), 1);
    let none = s
        .request_figures(&FigureQuery {
            neighbourhood_id: Some(seed.nb2),
            ..q.clone()
        })
        .await
        .unwrap();
    assert_eq!(none.overall.total, 0);
    assert_eq!(none.overall.on_time_rate(), None);
    // Attachments: three at most, bytes come back whole.
    let png = b"\x89PNG\r\n\x1a\n-test".to_vec();
    for _ in 0..3 {
        s.add_attachment(d.id, "image/png", "abc", &png, &ctx())
            .await
            .unwrap();
    }
    assert!(matches!(
        s.add_attachment(d.id, "image/png", "abc", &png, &ctx())
            .await,
        Err(StoreError::Validation(_))
    ));
    let list = s.list_attachments(d.id).await.unwrap();
    assert_eq!(list.len(), 3);
    assert_eq!(
        s.attachment_data(d.id, list[0].id).await.unwrap(),
        ("image/png".to_string(), png)
    );
    assert!(matches!(
        s.attachment_data(a.id, list[0].id).await,
        Err(StoreError::NotFound)
    ));
}

async fn loaded_histories_match_live_moves_or_load_nothing(s: Store) {
    use doorstep_domain::requests::{Handler, Move, Relation, Satisfaction, State, Workflow};
    use doorstep_store::{PastMove, PastRequest};
    let seed = seed(&s).await;
    let w = worker(&s, seed.sd, seed.nb1, "loader", Role::Worker).await;
    let t0 = ctx().at - chrono::Duration::days(3);
    let step = |mv: Move, relation: Relation, hours: i64| PastMove {
        mv,
        relation,
        at: t0 + chrono::Duration::hours(hours),
        actor_id: Some(w),
        actor_name: "loader".into(),
    };
    let sat = Satisfaction::Satisfied;
    let good = PastRequest {
        new: new_request(seed.nb1, w, "LOAD000001", "楼道灯坏了"),
        subdistrict_id: seed.sd,
        received_at: t0,
        receiver: "loader".into(),
        moves: vec![
            step(
                Move::Assign {
                    to: Handler::Worker(w),
                },
                Relation::Owner,
                1,
            ),
            step(Move::Accept, Relation::Handler, 2),
            step(Move::Start, Relation::Handler, 3),
            step(
                Move::Resolve {
                    reply: "已修好".into(),
                },
                Relation::Handler,
                5,
            ),
            step(
                Move::FollowUp {
                    efficiency: sat,
                    attitude: sat,
                    result: sat,
                },
                Relation::Owner,
                30,
            ),
        ],
    };
    let mut bad = good.clone();
    bad.new.tracking_code = "LOAD000002".into();
    bad.moves.insert(0, step(Move::Close, Relation::Owner, 0));
    let c = ctx();
    assert!(matches!(
        s.load_requests(&[good.clone(), bad], &c).await,
        Err(StoreError::IllegalMove(_))
    ));
    assert!(
        s.find_request_by_code("LOAD000001")
            .await
            .unwrap()
            .is_none(),
        "nothing loaded"
    );
    assert_eq!(
        s.load_requests(std::slice::from_ref(&good), &c)
            .await
            .unwrap(),
        1
    );
    let r = s.find_request_by_code("LOAD000001").await.unwrap().unwrap();
    assert_eq!((r.workflow.state, r.version), (State::Closed, 6));
    assert_eq!(r.resolve_secs, Some(5 * 3600));
    assert_eq!(
        (r.created_at, r.updated_at),
        (t0, t0 + chrono::Duration::hours(30))
    );
    let tl = s.request_timeline(r.id).await.unwrap();
    assert_eq!(tl.len(), 6);
    let moves: Vec<(Move, Relation)> = tl
        .iter()
        .filter_map(|e| e.mv.clone().map(|m| (m, e.relation)))
        .collect();
    assert_eq!(Workflow::replay(&moves).unwrap(), r.workflow);
    // A loaded request moves on like any other.
    let keep = |cur: &doorstep_store::RequestRecord, _: &Workflow| cur.deadline_at;
    assert!(matches!(
        s.move_request(r.id, 6, &Move::Close, Relation::Owner, &c, keep)
            .await,
        Err(StoreError::IllegalMove(_))
    ));
    let f = s
        .request_figures(&doorstep_store::FigureQuery {
            subdistrict_id: seed.sd,
            neighbourhood_id: Some(seed.nb1),
            from: t0 - chrono::Duration::days(1),
            to: ctx().at,
            now: ctx().at,
        })
        .await
        .unwrap();
    assert_eq!(
        (f.overall.total, f.overall.resolved, f.overall.satisfied),
        (1, 1, 1)
    );
}

async fn batched_intake_is_all_or_nothing(s: Store) {
    let seed = seed(&s).await;
    let w = worker(&s, seed.sd, seed.nb1, "batcher", Role::Worker).await;
    let c = ctx();
    let a = new_request(seed.nb1, w, "BATCH00001", "一");
    let b = new_request(seed.nb1, w, "BATCH00002", "二");
    let mut lost = new_request(seed.nb1, w, "BATCH00003", "三");
    lost.neighbourhood_id = 999_999;
    assert!(matches!(
        s.create_requests(&[(&a, &c), (&lost, &c)]).await,
        Err(StoreError::NotFound)
    ));
    let dup = new_request(seed.nb1, w, "BATCH00001", "重复");
    assert!(matches!(
        s.create_requests(&[(&a, &c), (&dup, &c)]).await,
        Err(StoreError::Duplicate(_))
    ));
    assert!(
        s.find_request_by_code("BATCH00001")
            .await
            .unwrap()
            .is_none(),
        "nothing half-written"
    );
    let made = s.create_requests(&[(&a, &c), (&b, &c)]).await.unwrap();
    assert_eq!(made.len(), 2);
    for r in &made {
        assert_eq!(&s.get_request(r.id).await.unwrap(), r);
        assert_eq!(s.request_timeline(r.id).await.unwrap().len(), 1);
    }
    let audit = s
        .list_audit(&AuditFilter {
            entity: Some("request".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        audit.items.iter().filter(|e| e.action == "create").count(),
        2
    );
}

macro_rules! contract_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = doorstep_store::testing::TestDb::sqlite().await;
                    super::$name(db.store.clone()).await;
                    db.drop_db().await;
                }
            )*
        }
        #[cfg(feature = "pg-tests")]
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = doorstep_store::testing::TestDb::postgres().await;
                    super::$name(db.store.clone()).await;
                    db.drop_db().await;
                }
            )*
        }
    };
}

contract_tests!(
    places_nest_and_carry_their_scope,
    lists_page_filter_and_search,
    duplicates_within_a_parent_conflict,
    updates_check_versions_and_never_lose_a_write,
    failed_writes_leave_nothing_behind,
    archiving_respects_children,
    station_areas_split_office_from_service,
    the_audit_log_is_append_only,
    accounts_sessions_and_sign_in_attempts,
    setup_happens_once,
    networks_are_stored_whole_and_replaced,
    requests_move_under_version_checks_and_keep_their_timeline,
    random_moves_keep_state_columns_and_timeline_in_step,
    merges_duplicates_figures_and_attachments,
    loaded_histories_match_live_moves_or_load_nothing,
    batched_intake_is_all_or_nothing,
);

/// Both backends' migrations create the same tables and columns, with the same
/// nullability.
#[cfg(feature = "pg-tests")]
#[tokio::test]
async fn both_backends_have_the_same_schema() {
    let lite = TestDb::sqlite().await;
    let pg = TestDb::postgres().await;
    let a = lite.store.schema_columns().await.unwrap();
    let b = pg.store.schema_columns().await.unwrap();
    assert!(
        a.len() > 50,
        "introspection found too few columns: {}",
        a.len()
    );
    let only_lite: Vec<_> = a.iter().filter(|c| !b.contains(c)).collect();
    let only_pg: Vec<_> = b.iter().filter(|c| !a.contains(c)).collect();
    assert!(
        only_lite.is_empty() && only_pg.is_empty(),
        "only in SQLite: {only_lite:?}\nonly in PostgreSQL: {only_pg:?}"
    );
    lite.drop_db().await;
    pg.drop_db().await;
}

#[tokio::test]
async fn migrations_are_idempotent_and_sqlite_runs_in_wal() {
    let db = TestDb::sqlite().await;
    db.store.migrate().await.unwrap();
    assert_eq!(
        db.store.journal_mode().await.unwrap().as_deref(),
        Some("wal")
    );
    db.drop_db().await;
}

#[tokio::test]
async fn a_missing_database_server_is_unavailable_not_a_panic() {
    let err = Store::connect("postgres://postgres@127.0.0.1:1/nowhere")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
}
