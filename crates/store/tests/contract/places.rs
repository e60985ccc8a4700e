//! Places: nesting, scope, lists, duplicates, versions, archiving, areas.

use super::*;

pub(crate) async fn places_nest_and_carry_their_scope(s: Store) {
    let seed = seed(&s).await;
    let b = s
        .places().create(Entity::Building, &vals(Entity::Building, json!({"estate_id": seed.estate, "number": "1号", "floors": 6, "households": 24, "lat": 31.21, "lon": 121.55})), &ctx())
        .await
        .unwrap();
    assert_eq!(b.subdistrict_id, seed.sd);
    assert_eq!(b.neighbourhood_id, Some(seed.nb1));
    assert_eq!(b.version, 1);
    assert_eq!(b.get("households"), &Value::Int(24));
    let nb = s
        .places()
        .get(Entity::Neighbourhood, seed.nb1.get())
        .await
        .unwrap();
    assert_eq!(
        nb.place(),
        Place {
            subdistrict_id: seed.sd,
            neighbourhood_id: Some(seed.nb1)
        }
    );

    // Scope: the other neighbourhood sees none of these buildings.
    let mine = s
        .places()
        .list(
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
        .places()
        .list(
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
        .places()
        .list(
            Entity::Building,
            &ListQuery::new(Scope::Subdistrict(SubdistrictId(seed.sd.get() + 1000))),
        )
        .await
        .unwrap();
    assert_eq!(elsewhere.total, 0);
}

pub(crate) async fn lists_page_filter_and_search(s: Store) {
    let seed = seed(&s).await;
    for i in 1..=25 {
        s.places()
            .create(
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
    let page = s.places().list(Entity::Building, &q).await.unwrap();
    assert_eq!(page.total, 25);
    assert_eq!(page.items.len(), 5);
    assert_eq!(page.items[0].title(), "21号");
    let mut q = ListQuery::new(Scope::Subdistrict(seed.sd));
    q.q = Some("2".into());
    let page = s.places().list(Entity::Building, &q).await.unwrap();
    assert_eq!(page.total, 8); // 2, 12, 20..25
    // LIKE wildcards in the search are literal.
    q.q = Some("%".into());
    assert_eq!(
        s.places().list(Entity::Building, &q).await.unwrap().total,
        0
    );
    let err = s
        .places()
        .list(
            Entity::Building,
            &ListQuery::new(Scope::Subdistrict(seed.sd)).filter("nope", Value::Int(1)),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Validation(_)));
}

pub(crate) async fn duplicates_within_a_parent_conflict(s: Store) {
    let seed = seed(&s).await;
    let v = vals(
        Entity::Estate,
        json!({"neighbourhood_id": seed.nb1, "name": "牡丹路100弄"}),
    );
    match s.places().create(Entity::Estate, &v, &ctx()).await {
        Err(StoreError::Duplicate(fields)) => assert_eq!(fields, vec!["neighbourhood_id", "name"]),
        other => panic!("expected a duplicate, got {other:?}"),
    }
    // The same name under another neighbourhood is fine.
    let v = vals(
        Entity::Estate,
        json!({"neighbourhood_id": seed.nb2, "name": "牡丹路100弄"}),
    );
    s.places().create(Entity::Estate, &v, &ctx()).await.unwrap();
    // One station per neighbourhood.
    let v = vals(
        Entity::Station,
        json!({"neighbourhood_id": seed.nb1, "name": "第二个站"}),
    );
    assert!(matches!(
        s.places().create(Entity::Station, &v, &ctx()).await,
        Err(StoreError::Duplicate(_))
    ));
}

pub(crate) async fn updates_check_versions_and_never_lose_a_write(s: Store) {
    let seed = seed(&s).await;
    let b = s
        .places()
        .create(
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
        .places()
        .update(Entity::Building, b.id, Some(1), &ctx(), change(5))
        .await
        .unwrap();
    assert_eq!(after.version, 2);
    match s
        .places()
        .update(Entity::Building, b.id, Some(1), &ctx(), change(6))
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
            s.places()
                .update(Entity::Building, b.id, None, &ctx(), |cur| {
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
    let end = s.places().get(Entity::Building, b.id).await.unwrap();
    assert_eq!(end.get("households"), &Value::Int(25));
    assert_eq!(end.version, 22);
    let audit = s
        .audit()
        .list(&AuditFilter {
            entity: Some(Entity::Building.into()),
            entity_id: Some(b.id),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(audit.total, 22, "one audit entry per write");
}

pub(crate) async fn failed_writes_leave_nothing_behind(s: Store) {
    let seed = seed(&s).await;
    let before = s
        .audit()
        .list(&AuditFilter {
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .total;
    // A block of another neighbourhood cannot be referenced.
    let other_block = s
        .places()
        .create(
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
        .places()
        .create(Entity::Building, &v, &ctx())
        .await
        .unwrap_err();
    match err {
        StoreError::Validation(FieldErrors(e)) => assert_eq!(e[0].code, "invalid_reference"),
        other => panic!("{other:?}"),
    }
    // A change whose validation fails inside the transaction writes nothing.
    let est = s.places().get(Entity::Estate, seed.estate).await.unwrap();
    let err = s
        .places()
        .update(Entity::Estate, seed.estate, None, &ctx(), |_| {
            Err(FieldErrors::single("name", "required").into())
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Validation(_)));
    assert_eq!(
        s.places()
            .get(Entity::Estate, seed.estate)
            .await
            .unwrap()
            .version,
        est.version
    );
    let q = ListQuery::new(Scope::Subdistrict(seed.sd));
    assert_eq!(
        s.places().list(Entity::Building, &q).await.unwrap().total,
        0
    );
    let after = s
        .audit()
        .list(&AuditFilter {
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .total;
    assert_eq!(after, before + 1, "only the block's creation was audited");
}

pub(crate) async fn archiving_respects_children(s: Store) {
    let seed = seed(&s).await;
    s.places()
        .create(
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
        s.places()
            .archive(Entity::Estate, seed.estate, None, true, &ctx())
            .await,
        Err(StoreError::InUse)
    ));
    let empty = s
        .places()
        .create(
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
        .places()
        .archive(Entity::Estate, empty.id, Some(1), true, &ctx())
        .await
        .unwrap();
    assert!(archived.archived_at.is_some());
    let q = ListQuery::new(Scope::Subdistrict(seed.sd));
    assert_eq!(s.places().list(Entity::Estate, &q).await.unwrap().total, 1);
    let mut q2 = q.clone();
    q2.include_archived = true;
    assert_eq!(s.places().list(Entity::Estate, &q2).await.unwrap().total, 2);
    // Nothing new goes under an archived parent.
    let v = vals(
        Entity::Building,
        json!({"estate_id": empty.id, "number": "1号"}),
    );
    assert!(matches!(
        s.places().create(Entity::Building, &v, &ctx()).await,
        Err(StoreError::Validation(_))
    ));
    let restored = s
        .places()
        .archive(Entity::Estate, empty.id, None, false, &ctx())
        .await
        .unwrap();
    assert!(restored.archived_at.is_none());
}

pub(crate) async fn station_areas_split_office_from_service(s: Store) {
    let seed = seed(&s).await;
    for (name, kind, area, office) in [
        ("社工办公区", "office", 30.0, true),
        ("综合活动室", "activity", 120.0, false),
        ("健康小屋", "health_cabin", 25.5, false),
    ] {
        s.places().create(Entity::Room, &vals(Entity::Room, json!({"station_id": seed.station, "name": name, "kind": kind, "area_m2": area, "is_office": office})), &ctx()).await.unwrap();
    }
    let areas = s
        .places()
        .room_areas(Scope::Subdistrict(seed.sd))
        .await
        .unwrap();
    assert_eq!(areas.len(), 1);
    assert_eq!(areas[0].office_m2, 30.0);
    assert_eq!(areas[0].service_m2, 145.5);
    let t = s
        .places()
        .totals(Scope::Neighbourhood {
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
