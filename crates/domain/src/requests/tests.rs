use super::*;
use proptest::prelude::*;

fn ok(w: &Workflow, m: Move, who: Relation) -> Workflow {
    w.apply(&m, who).unwrap()
}

#[test]
fn the_usual_path_and_reopening() {
    let w = Workflow::default();
    let w = ok(
        &w,
        Move::Assign {
            to: Handler::Worker(AccountId(7)),
        },
        Relation::Owner,
    );
    assert_eq!(
        w.apply(&Move::Accept, Relation::Owner),
        Err(MoveError::NotYours("handler"))
    );
    let w = ok(&w, Move::Accept, Relation::Handler);
    let w = ok(&w, Move::Start, Relation::Handler);
    let w = ok(
        &w,
        Move::Resolve {
            reply: "已修复".into(),
        },
        Relation::Handler,
    );
    let sat = Satisfaction::Satisfied;
    let w2 = ok(
        &w,
        Move::FollowUp {
            efficiency: sat,
            attitude: sat,
            result: Satisfaction::Unsatisfied,
            channel: FollowUpChannel::Phone,
        },
        Relation::Owner,
    );
    assert_eq!(
        (w2.state, w2.reopened, w2.handler.clone()),
        (State::Reopened, 1, None)
    );
    let w3 = ok(
        &w,
        Move::FollowUp {
            efficiency: sat,
            attitude: Satisfaction::Basic,
            result: sat,
            channel: FollowUpChannel::Phone,
        },
        Relation::Owner,
    );
    assert_eq!(
        (w3.state, w3.rating),
        (State::Closed, Some(Satisfaction::Basic))
    );
    assert_eq!(
        w3.apply(&Move::Close, Relation::Owner),
        Err(MoveError::IllegalInState(State::Closed))
    );
}

#[test]
fn rating_an_open_request_is_illegal() {
    let sat = Satisfaction::Satisfied;
    let e = Workflow::default().apply(
        &Move::FollowUp {
            efficiency: sat,
            attitude: sat,
            result: sat,
            channel: FollowUpChannel::Phone,
        },
        Relation::Owner,
    );
    assert_eq!(e, Err(MoveError::IllegalInState(State::Received)));
}

#[test]
fn returns_and_extensions() {
    let w = ok(
        &Workflow::default(),
        Move::Assign {
            to: Handler::Partner("物业".into()),
        },
        Relation::Owner,
    );
    let w = ok(
        &w,
        Move::RequestExtension {
            days: 10,
            reason: "需要施工".into(),
        },
        Relation::Handler,
    );
    assert!(
        w.apply(&Move::DecideExtension { approve: true }, Relation::Owner)
            .is_err()
    );
    let w = ok(
        &w,
        Move::DecideExtension { approve: true },
        Relation::Supervisor,
    );
    assert_eq!(w.extra_days, 10);
    assert_eq!(
        w.apply(
            &Move::RequestExtension {
                days: 1,
                reason: "x".into()
            },
            Relation::Handler
        ),
        Err(MoveError::Invalid("days"))
    );
    let w = ok(
        &w,
        Move::Return {
            reason: ReturnReason::NotOurDuty,
            note: "应由房管办理".into(),
        },
        Relation::Handler,
    );
    assert_eq!((w.state, w.handler.clone()), (State::Returned, None));
    let w = ok(&w, Move::Start, Relation::Owner);
    assert_eq!(w.state, State::InProgress);
}

fn arb_move() -> impl Strategy<Value = (Move, Relation)> {
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
        (1i64..4).prop_map(|w| Move::Assign {
            to: Handler::Worker(AccountId(w))
        }),
        Just(Move::Accept),
        Just(Move::Return {
            reason: ReturnReason::Unclear,
            note: "说明".into()
        }),
        Just(Move::Start),
        Just(Move::Resolve {
            reply: "已办".into()
        }),
        (sat.clone(), sat.clone(), sat).prop_map(|(efficiency, attitude, result)| {
            Move::FollowUp {
                efficiency,
                attitude,
                result,
                channel: FollowUpChannel::Phone,
            }
        }),
        Just(Move::Close),
        (0u32..12).prop_map(|days| Move::RequestExtension {
            days,
            reason: "原因".into()
        }),
        any::<bool>().prop_map(|approve| Move::DecideExtension { approve }),
        Just(Move::Escalate),
        (1i64..4).prop_map(|into| Move::Merge {
            into: RequestId(into)
        }),
        (1i64..4).prop_map(|from| Move::Absorb {
            from: RequestId(from)
        }),
    ];
    (mv, who)
}

proptest! {
    /// Random sequences of moves: refused moves change nothing, the accepted ones
    /// (the timeline) replay to the same state, and the invariants hold throughout.
    #[test]
    fn timelines_replay_to_the_state(moves in prop::collection::vec(arb_move(), 0..60)) {
        let mut w = Workflow::default();
        let mut timeline = Vec::new();
        for (m, who) in moves {
            if let Ok(next) = w.apply(&m, who) {
                timeline.push((m, who));
                w = next;
            }
            prop_assert!(w.extra_days <= MAX_EXTRA_DAYS);
            match w.state {
                State::Assigned | State::Accepted => prop_assert!(w.handler.is_some()),
                State::Received | State::Returned | State::Reopened => prop_assert!(w.handler.is_none()),
                _ => {}
            }
            if w.state == State::Closed {
                prop_assert!(w.extension_pending.is_none());
            }
            if w.merged_into.is_some() {
                prop_assert_eq!(w.state, State::Closed);
            }
            if w.on_spot {
                prop_assert!(matches!(w.state, State::Resolved | State::Closed));
            }
        }
        prop_assert_eq!(Workflow::replay(&timeline).unwrap(), w.clone());
        // Nothing moves a closed request.
        if w.state == State::Closed {
            for (m, who) in [(Move::Close, Relation::Owner), (Move::Escalate, Relation::System), (Move::Start, Relation::Owner)] {
                prop_assert!(w.apply(&m, who).is_err());
            }
        }
    }
}
