//! Merges, duplicates, figures, attachments, loaded histories, batched intake.

use super::*;

use crate::requests::{new_request, worker};

pub(crate) async fn merges_duplicates_figures_and_attachments(s: Store) {
    use doorstep_domain::requests::{Move, Relation, Satisfaction, State, Workflow};
    use doorstep_store::FigureQuery;
    let seed = seed(&s).await;
    let sec = worker(&s, seed.sd, seed.nb1, "sec1", Role::Secretary).await;
    let w = worker(&s, seed.sd, seed.nb1, "w1", Role::Worker).await;
    assert_eq!(
        s.accounts().receiver_for(seed.sd, seed.nb1).await.unwrap(),
        sec,
        "the secretary receives"
    );
    assert!(
        matches!(
            s.accounts().receiver_for(seed.sd, seed.nb2).await,
            Err(StoreError::NotFound)
        ),
        "no staff, no admin"
    );
    let a = s
        .requests()
        .create(
            &new_request(seed.nb1, w, "DUPA000001", "3号楼楼道堆放杂物"),
            &ctx(),
        )
        .await
        .unwrap();
    let b = s
        .requests()
        .create(
            &new_request(seed.nb1, sec, "DUPB000001", "3号楼楼道里堆了很多杂物"),
            &ctx(),
        )
        .await
        .unwrap();
    let since = ctx().at - chrono::Duration::days(14);
    let cands = s
        .requests()
        .duplicate_candidates(seed.nb1, since, Some(b.id), 50)
        .await
        .unwrap();
    assert_eq!(cands.iter().map(|c| c.id).collect::<Vec<_>>(), vec![a.id]);
    assert_eq!((cands[0].lat, cands[0].lon), (Some(31.21), Some(121.55)));
    assert!(
        s.requests()
            .duplicate_candidates(seed.nb2, since, None, 50)
            .await
            .unwrap()
            .is_empty()
    );
    // Merging b into a: b closes as merged, a's timeline notes it, both versions move.
    let c = ctx();
    assert!(matches!(
        s.requests().merge(b.id, 9, a.id, Relation::Owner, &c).await,
        Err(StoreError::VersionConflict { current: 1 })
    ));
    assert!(matches!(
        s.requests().merge(b.id, 1, b.id, Relation::Owner, &c).await,
        Err(StoreError::IllegalMove(_))
    ));
    let merged = s
        .requests()
        .merge(b.id, 1, a.id, Relation::Owner, &c)
        .await
        .unwrap();
    assert_eq!(
        (merged.workflow.state, merged.workflow.merged_into),
        (State::Closed, Some(a.id))
    );
    let tl = s.requests().timeline(a.id).await.unwrap();
    assert_eq!(tl.last().unwrap().mv, Some(Move::Absorb { from: b.id }));
    assert_eq!(s.requests().get(a.id).await.unwrap().version, 2);
    // A merged request is no candidate, and nothing merges into a closed one.
    assert!(
        s.requests()
            .duplicate_candidates(seed.nb1, since, Some(a.id), 50)
            .await
            .unwrap()
            .is_empty()
    );
    let d = s
        .requests()
        .create(&new_request(seed.nb1, w, "DUPD000001", "楼道堆物"), &ctx())
        .await
        .unwrap();
    assert!(matches!(
        s.requests().merge(d.id, 1, b.id, Relation::Owner, &c).await,
        Err(StoreError::IllegalMove(_))
    ));
    assert_eq!(
        s.requests().get(d.id).await.unwrap().version,
        1,
        "a refused merge changes nothing"
    );
    // Figures: a resolved on the spot an hour after intake and rated basic; d still open past its deadline.
    let keep = |cur: &doorstep_store::RequestRecord, _: &Workflow| cur.deadline_at;
    let mut later = ctx();
    later.at += chrono::Duration::hours(1);
    let a2 = s
        .requests()
        .apply_move(
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
    s.requests()
        .apply_move(
            a.id,
            3,
            &Move::FollowUp {
                efficiency: basic,
                attitude: basic,
                result: basic,
                channel: doorstep_domain::requests::FollowUpChannel::Phone,
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
    let f = s.figures().requests(&q).await.unwrap();
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
        .figures()
        .requests(&FigureQuery {
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
        s.attachments()
            .add(d.id, &attachment(&png), &ctx())
            .await
            .unwrap();
    }
    assert!(matches!(
        s.attachments().add(d.id, &attachment(&png), &ctx()).await,
        Err(StoreError::Validation(_))
    ));
    let list = s.attachments().list(d.id).await.unwrap();
    assert_eq!(list.len(), 3);
    assert_eq!(
        s.attachments().data(d.id, list[0].id).await.unwrap(),
        ("image/png".to_string(), png)
    );
    assert!(matches!(
        s.attachments().data(a.id, list[0].id).await,
        Err(StoreError::NotFound)
    ));
}

pub(crate) async fn loaded_histories_match_live_moves_or_load_nothing(s: Store) {
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
                    channel: doorstep_domain::requests::FollowUpChannel::Phone,
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
        s.requests().load(&[good.clone(), bad], &c).await,
        Err(StoreError::IllegalMove(_))
    ));
    assert!(
        s.requests()
            .find_by_code("LOAD000001")
            .await
            .unwrap()
            .is_none(),
        "nothing loaded"
    );
    assert_eq!(
        s.requests()
            .load(std::slice::from_ref(&good), &c)
            .await
            .unwrap(),
        1
    );
    let r = s
        .requests()
        .find_by_code("LOAD000001")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((r.workflow.state, r.version), (State::Closed, 6));
    assert_eq!(r.resolve_secs, Some(5 * 3600));
    assert_eq!(
        (r.created_at, r.updated_at),
        (t0, t0 + chrono::Duration::hours(30))
    );
    let tl = s.requests().timeline(r.id).await.unwrap();
    assert_eq!(tl.len(), 6);
    let moves: Vec<(Move, Relation)> = tl
        .iter()
        .filter_map(|e| e.mv.clone().map(|m| (m, e.relation)))
        .collect();
    assert_eq!(Workflow::replay(&moves).unwrap(), r.workflow);
    // A loaded request moves on like any other.
    let keep = |cur: &doorstep_store::RequestRecord, _: &Workflow| cur.deadline_at;
    assert!(matches!(
        s.requests()
            .apply_move(r.id, 6, &Move::Close, Relation::Owner, &c, keep)
            .await,
        Err(StoreError::IllegalMove(_))
    ));
    let f = s
        .figures()
        .requests(&doorstep_store::FigureQuery {
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

pub(crate) async fn batched_intake_is_all_or_nothing(s: Store) {
    let seed = seed(&s).await;
    let w = worker(&s, seed.sd, seed.nb1, "batcher", Role::Worker).await;
    let c = ctx();
    let a = new_request(seed.nb1, w, "BATCH00001", "一");
    let b = new_request(seed.nb1, w, "BATCH00002", "二");
    let mut lost = new_request(seed.nb1, w, "BATCH00003", "三");
    lost.neighbourhood_id = NeighbourhoodId(999_999);
    assert!(matches!(
        s.requests().create_batch(&[(&a, &c), (&lost, &c)]).await,
        Err(StoreError::NotFound)
    ));
    let dup = new_request(seed.nb1, w, "BATCH00001", "重复");
    assert!(matches!(
        s.requests().create_batch(&[(&a, &c), (&dup, &c)]).await,
        Err(StoreError::Duplicate(_))
    ));
    assert!(
        s.requests()
            .find_by_code("BATCH00001")
            .await
            .unwrap()
            .is_none(),
        "nothing half-written"
    );
    let made = s
        .requests()
        .create_batch(&[(&a, &c), (&b, &c)])
        .await
        .unwrap();
    assert_eq!(made.len(), 2);
    for r in &made {
        assert_eq!(&s.requests().get(r.id).await.unwrap(), r);
        assert_eq!(s.requests().timeline(r.id).await.unwrap().len(), 1);
    }
    let audit = s
        .audit()
        .list(&AuditFilter {
            entity: Some(doorstep_domain::audit::AuditEntity::Request),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        audit
            .items
            .iter()
            .filter(|e| e.action == doorstep_domain::audit::AuditAction::Create)
            .count(),
        2
    );
}

fn attachment(data: &[u8]) -> doorstep_store::NewAttachment {
    doorstep_store::NewAttachment {
        content_type: "image/png".into(),
        sha256: "abc".into(),
        data: data.to_vec(),
    }
}

pub(crate) async fn queues_count_each_neighbourhoods_waiting_requests(s: Store) {
    use crate::requests::{new_request, worker};
    use doorstep_domain::requests::{Channel, Move, Relation};
    let seed = seed(&s).await;
    let w = worker(&s, seed.sd, seed.nb1, "queue-w", Role::Worker).await;
    let w2 = worker(&s, seed.sd, seed.nb2, "queue-w2", Role::Worker).await;
    let keep = |r: &doorstep_store::RequestRecord, _: &_| r.deadline_at;
    // nb1: a resident's new report, a desk request past its deadline, one resolved.
    let web = s
        .requests()
        .create(&new_request(seed.nb1, w, "QUEUE00001", "路灯坏了"), &ctx())
        .await
        .unwrap();
    assert_eq!(web.channel, Channel::Web);
    let mut late = new_request(seed.nb1, w, "QUEUE00002", "楼道堆物");
    late.channel = Channel::Desk;
    late.deadline_at = ctx().at - chrono::Duration::hours(1);
    s.requests().create(&late, &ctx()).await.unwrap();
    let mut done = new_request(seed.nb1, w, "QUEUE00003", "咨询低保");
    done.channel = Channel::Phone;
    let done = s.requests().create(&done, &ctx()).await.unwrap();
    let mv = Move::ResolveOnSpot {
        reply: "已解答".into(),
    };
    s.requests()
        .apply_move(done.id, done.version, &mv, Relation::Owner, &ctx(), keep)
        .await
        .unwrap();
    // nb2: one closed request, which no queue counts.
    let closed = s
        .requests()
        .create(&new_request(seed.nb2, w2, "QUEUE00004", "建议"), &ctx())
        .await
        .unwrap();
    let r = s
        .requests()
        .apply_move(
            closed.id,
            closed.version,
            &mv,
            Relation::Owner,
            &ctx(),
            keep,
        )
        .await
        .unwrap();
    s.requests()
        .apply_move(r.id, r.version, &Move::Close, Relation::Owner, &ctx(), keep)
        .await
        .unwrap();
    let queues = s.requests().queues(seed.sd, ctx().at).await.unwrap();
    assert_eq!(
        queues,
        vec![doorstep_store::Queue {
            neighbourhood_id: seed.nb1,
            open: 2,
            overdue: 1,
            new_reports: 1,
            follow_up: 1,
        }]
    );
}
