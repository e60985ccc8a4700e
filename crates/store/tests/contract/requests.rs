//! Requests: moves under version checks, the timeline, random moves.

use super::*;

pub(crate) async fn requests_move_under_version_checks_and_keep_their_timeline(s: Store) {
    use doorstep_domain::requests::{
        Channel, Handler, Kind, Move, Relation, Satisfaction, State, Workflow,
    };
    let seed = seed(&s).await;
    let owner = s
        .accounts()
        .create(
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
        public_description: false,
        building_id: None,
        lat: None,
        lon: None,
        resident_name: None,
        resident_phone: None,
        resident_phone_sealed: None,
        resident_email: None,
        address: None,
        owner_id: owner.id,
        deadline_at: ctx().at + chrono::Duration::days(7),
        attachments: Vec::new(),
    };
    let mut c = ctx();
    c.at += chrono::Duration::nanoseconds(123_456_789);
    let r = s.requests().create(&new, &c).await.unwrap();
    assert_eq!(
        (r.workflow.state, r.version, r.subdistrict_id),
        (State::Received, 1, seed.sd)
    );
    assert_eq!(
        s.requests().get(r.id).await.unwrap(),
        r,
        "what intake returns is what was stored"
    );
    assert!(
        matches!(
            s.requests().create(&new, &ctx()).await,
            Err(StoreError::Duplicate(_))
        ),
        "tracking codes are unique"
    );
    let keep = |cur: &doorstep_store::RequestRecord, _: &Workflow| cur.deadline_at;
    let r = s
        .requests()
        .apply_move(
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
        .requests()
        .apply_move(r.id, 2, &Move::Close, Relation::Owner, &ctx(), keep)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::IllegalMove(_)), "{err:?}");
    assert_eq!(s.requests().get(r.id).await.unwrap().version, 2);
    // Two handlers accept at once on the same version: one wins.
    let (c1, c2) = (ctx(), ctx());
    let (a, b) = tokio::join!(
        s.requests()
            .apply_move(r.id, 2, &Move::Accept, Relation::Handler, &c1, keep),
        s.requests()
            .apply_move(r.id, 2, &Move::Accept, Relation::Handler, &c2, keep),
    );
    assert!(a.is_ok() != b.is_ok(), "exactly one wins: {a:?} / {b:?}");
    let loser = a.err().or(b.err()).unwrap();
    assert!(
        matches!(loser, StoreError::VersionConflict { current: 3 }),
        "{loser:?}"
    );
    let r = s
        .requests()
        .apply_move(
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
        .requests()
        .apply_move(
            r.id,
            4,
            &Move::FollowUp {
                efficiency: sat,
                attitude: sat,
                result: sat,
                channel: doorstep_domain::requests::FollowUpChannel::Phone,
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
    let tl = s.requests().timeline(r.id).await.unwrap();
    assert_eq!(tl.len(), 5);
    assert_eq!(tl[0].mv, None);
    let moves: Vec<(Move, Relation)> = tl
        .iter()
        .filter_map(|e| e.mv.clone().map(|m| (m, e.relation)))
        .collect();
    assert_eq!(Workflow::replay(&moves).unwrap(), r.workflow);
    assert_eq!(tl.last().unwrap().state_after, State::Closed);
}

pub(crate) async fn worker(
    s: &Store,
    sd: SubdistrictId,
    nb: NeighbourhoodId,
    name: &str,
    role: Role,
) -> AccountId {
    s.accounts()
        .create(
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

pub(crate) fn new_request(
    nb: NeighbourhoodId,
    owner: AccountId,
    code: &str,
    text: &str,
) -> doorstep_store::NewRequest {
    use doorstep_domain::requests::{Channel, Kind};
    doorstep_store::NewRequest {
        neighbourhood_id: nb,
        tracking_code: code.into(),
        channel: Channel::Web,
        kind: Kind::Complaint,
        service_item_id: None,
        description: text.into(),
        public_description: false,
        building_id: None,
        lat: Some(31.21),
        lon: Some(121.55),
        resident_name: None,
        resident_phone: Some("13812345678".into()),
        resident_phone_sealed: None,
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
pub(crate) async fn random_moves_keep_state_columns_and_timeline_in_step(s: Store) {
    use doorstep_domain::requests::{
        Handler, Move, MoveError, Relation, ReturnReason, Satisfaction, State, Workflow,
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
            result,
            channel: doorstep_domain::requests::FollowUpChannel::Phone
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
                    .requests()
                    .create(
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
                    let stored = s
                        .requests()
                        .apply_move(r.id, version, m, *who, &c, keep)
                        .await;
                    match (model.apply(m, *who), stored) {
                        (Ok(next), Ok(rec)) => {
                            model = next;
                            version = rec.version;
                        }
                        (Err(MoveError::Invalid(f)), Err(StoreError::Validation(e)))
                            if e.get(f).is_some() => {}
                        (Err(_), Err(StoreError::IllegalMove(_))) => {}
                        (a, b) => {
                            panic!("model and store disagree on {m:?} by {who:?}: {a:?} / {b:?}")
                        }
                    }
                }
                let rec = s.requests().get(r.id).await.unwrap();
                assert_eq!(rec.workflow, model);
                let tl = s.requests().timeline(r.id).await.unwrap();
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
