//! Requests (诉求/工单): kinds, states and the moves between them (12345 style), as a pure
//! state machine. Whoever first receives a request owns it until it is closed (首问负责制);
//! the store keeps each accepted move as an event, and the state is what replaying the
//! events gives.

use crate::ids::{AccountId, RequestId};
use serde::{Deserialize, Serialize};

/// The most images one request carries.
pub const MAX_ATTACHMENTS: usize = 3;
/// The largest image accepted, in bytes.
pub const MAX_ATTACHMENT_BYTES: usize = 5 * 1024 * 1024;

/// The characters of tracking codes: digits and capitals a resident can read out on the
/// phone without confusion (no 0/O, no 1/I).
pub const TRACKING_CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

crate::coded_enum! {
    /// What the resident wants.
    pub enum Kind {
        Consultation = "consultation",
        Help = "help",
        Complaint = "complaint",
        Report = "report",
        Suggestion = "suggestion",
        Praise = "praise",
    }
}

impl Kind {
    /// Working days allowed: consultations and suggestions 1, help, complaints and reports
    /// 5 (complex matters get up to 15 through an approved extension).
    pub fn time_limit_days(self) -> u32 {
        match self {
            Kind::Consultation | Kind::Suggestion | Kind::Praise => 1,
            Kind::Help | Kind::Complaint | Kind::Report => 5,
        }
    }
}

crate::coded_enum! {
    /// Where a request entered the one window.
    pub enum Channel {
        Desk = "desk",
        Phone = "phone",
        Visit = "visit",
        Web = "web",
        Open311 = "open311",
    }
}

impl Channel {
    /// The channels a worker records at the desk (the others are the residents' own).
    pub const AT_THE_DESK: &'static [Channel] = &[Channel::Desk, Channel::Phone, Channel::Visit];
}

crate::coded_enum! {
    /// Where a request stands.
    pub enum State {
        Received = "received",
        Assigned = "assigned",
        Accepted = "accepted",
        InProgress = "in_progress",
        Returned = "returned",
        Resolved = "resolved",
        Closed = "closed",
        Reopened = "reopened",
    }
}

impl State {
    pub fn is_open(self) -> bool {
        !matches!(self, State::Resolved | State::Closed)
    }

    /// The states of requests still being worked on.
    pub fn open() -> impl Iterator<Item = State> {
        State::ALL.iter().copied().filter(|s| s.is_open())
    }
}

/// Who handles an assigned request: a worker, a post, or a partner unit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Handler {
    Worker(AccountId),
    Post(String),
    Partner(String),
}

crate::coded_enum! {
    /// Why a handler sends a request back to its owner (退单).
    pub enum ReturnReason {
        NotOurDuty = "not_our_duty",
        WrongPlace = "wrong_place",
        Unclear = "unclear",
    }
}

crate::coded_enum! {
    /// The resident's verdict at follow-up (回访), worst first.
    pub enum Satisfaction {
        Unsatisfied = "unsatisfied",
        Basic = "basic",
        Satisfied = "satisfied",
    }
}

/// A move on a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "move", rename_all = "snake_case")]
pub enum Move {
    /// 当场办结: the owner answers at once.
    ResolveOnSpot { reply: String },
    /// 派单.
    Assign { to: Handler },
    /// 签收.
    Accept,
    /// 退单, back to the owner.
    Return { reason: ReturnReason, note: String },
    /// 办理 begins (by the handler, or by the owner handling it personally).
    Start,
    /// 办结, with the reply to the resident.
    Resolve { reply: String },
    /// 回访: efficiency, attitude, result. Any "unsatisfied" reopens the request.
    FollowUp {
        efficiency: Satisfaction,
        attitude: Satisfaction,
        result: Satisfaction,
    },
    /// Closed without a rating (e.g. the resident could not be reached).
    Close,
    /// 延期 requested: extra working days, with the reason.
    RequestExtension { days: u32, reason: String },
    /// 延期 decided by the secretary or the subdistrict.
    DecideExtension { approve: bool },
    /// 督办: overdue, escalated to the secretary.
    Escalate,
    /// 合并: closed as a duplicate of another open request, which carries on.
    Merge { into: RequestId },
    /// The other side of a merge: the surviving request records what joined it.
    Absorb { from: RequestId },
}

impl Move {
    /// The move's code (its `move` tag), as translation keys end in.
    pub fn code(&self) -> &'static str {
        match self {
            Move::ResolveOnSpot { .. } => "resolve_on_spot",
            Move::Assign { .. } => "assign",
            Move::Accept => "accept",
            Move::Return { .. } => "return",
            Move::Start => "start",
            Move::Resolve { .. } => "resolve",
            Move::FollowUp { .. } => "follow_up",
            Move::Close => "close",
            Move::RequestExtension { .. } => "request_extension",
            Move::DecideExtension { .. } => "decide_extension",
            Move::Escalate => "escalate",
            Move::Merge { .. } => "merge",
            Move::Absorb { .. } => "absorb",
        }
    }
}

crate::coded_enum! {
    /// How the one acting relates to the request.
    pub enum Relation {
        Owner = "owner",
        Handler = "handler",
        /// The neighbourhood's secretary or the subdistrict.
        Supervisor = "supervisor",
        /// The deadline job.
        System = "system",
    }
}

crate::coded_enum! {
    /// The boxes of the inbox: which requests a list shows its viewer.
    pub enum Inbox {
        /// Every open request in the viewer's reach.
        Open = "open",
        /// Open requests the viewer owns (first received).
        Owned = "owned",
        /// Open requests assigned to the viewer to handle.
        Assigned = "assigned",
        /// Open requests due within a day.
        DueSoon = "due_soon",
        /// Open requests past their deadline.
        Overdue = "overdue",
        /// Every request, open or not.
        All = "all",
    }
}

/// A request's workflow state: what replaying its events gives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Workflow {
    pub state: State,
    pub handler: Option<Handler>,
    pub on_spot: bool,
    pub extension_pending: Option<u32>,
    /// Working days added by approved extensions.
    pub extra_days: u32,
    pub escalated: bool,
    pub reopened: u32,
    pub rating: Option<Satisfaction>,
    /// Closed as a duplicate of this request (合并).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<RequestId>,
}

impl Default for Workflow {
    fn default() -> Self {
        Self {
            state: State::Received,
            handler: None,
            on_spot: false,
            extension_pending: None,
            extra_days: 0,
            escalated: false,
            reopened: 0,
            rating: None,
            merged_into: None,
        }
    }
}

/// Why a move was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoveError {
    #[error("this move is not possible in state {0:?}")]
    IllegalInState(State),
    #[error("only the {0:?} may make this move")]
    NotYours(&'static str),
    #[error("invalid: {0}")]
    Invalid(&'static str),
}

/// The most extra working days an extension may bring (5 + 10 = 15 for complex matters).
pub const MAX_EXTRA_DAYS: u32 = 10;

impl Workflow {
    /// The state after `mv` by someone in relation `who`, or why not.
    pub fn apply(&self, mv: &Move, who: Relation) -> Result<Workflow, MoveError> {
        use State::*;
        let mut next = self.clone();
        let handling = |w: &Workflow| match w.handler {
            Some(_) => who == Relation::Handler,
            None => who == Relation::Owner,
        };
        let need = |ok: bool, whom: &'static str| {
            if ok {
                Ok(())
            } else {
                Err(MoveError::NotYours(whom))
            }
        };
        let illegal = Err(MoveError::IllegalInState(self.state));
        match mv {
            Move::ResolveOnSpot { reply } => {
                if self.state != Received {
                    return illegal;
                }
                need(who == Relation::Owner, "owner")?;
                if reply.trim().is_empty() {
                    return Err(MoveError::Invalid("reply"));
                }
                next.state = Resolved;
                next.on_spot = true;
            }
            Move::Assign { to } => {
                if !matches!(self.state, Received | Returned | Reopened | Assigned) {
                    return illegal;
                }
                need(who == Relation::Owner, "owner")?;
                if let Handler::Post(s) | Handler::Partner(s) = to
                    && s.trim().is_empty()
                {
                    return Err(MoveError::Invalid("handler"));
                }
                next.state = Assigned;
                next.handler = Some(to.clone());
            }
            Move::Accept => {
                if self.state != Assigned {
                    return illegal;
                }
                need(who == Relation::Handler, "handler")?;
                next.state = Accepted;
            }
            Move::Return { note, .. } => {
                if !matches!(self.state, Assigned | Accepted) {
                    return illegal;
                }
                need(who == Relation::Handler, "handler")?;
                if note.trim().is_empty() {
                    return Err(MoveError::Invalid("note"));
                }
                next.state = Returned;
                next.handler = None;
                next.extension_pending = None;
            }
            Move::Start => {
                let ok_state = match self.handler {
                    Some(_) => self.state == Accepted,
                    None => matches!(self.state, Received | Returned | Reopened),
                };
                if !ok_state {
                    return illegal;
                }
                need(handling(self), "handler")?;
                next.state = InProgress;
            }
            Move::Resolve { reply } => {
                if !matches!(self.state, Accepted | InProgress) {
                    return illegal;
                }
                need(handling(self), "handler")?;
                if reply.trim().is_empty() {
                    return Err(MoveError::Invalid("reply"));
                }
                next.state = Resolved;
                next.extension_pending = None;
            }
            Move::FollowUp {
                efficiency,
                attitude,
                result,
            } => {
                if self.state != Resolved {
                    return illegal;
                }
                need(
                    matches!(who, Relation::Owner | Relation::Supervisor),
                    "owner",
                )?;
                let worst = (*efficiency).min(*attitude).min(*result);
                next.rating = Some(worst);
                if worst == Satisfaction::Unsatisfied {
                    next.state = Reopened;
                    next.reopened += 1;
                    next.handler = None;
                    next.on_spot = false;
                } else {
                    next.state = Closed;
                }
            }
            Move::Close => {
                if self.state != Resolved {
                    return illegal;
                }
                need(
                    matches!(who, Relation::Owner | Relation::Supervisor),
                    "owner",
                )?;
                next.state = Closed;
            }
            Move::RequestExtension { days, reason } => {
                if !matches!(self.state, Assigned | Accepted | InProgress)
                    || self.extension_pending.is_some()
                {
                    return illegal;
                }
                need(handling(self) || who == Relation::Owner, "handler")?;
                if *days == 0 || self.extra_days + days > MAX_EXTRA_DAYS {
                    return Err(MoveError::Invalid("days"));
                }
                if reason.trim().is_empty() {
                    return Err(MoveError::Invalid("reason"));
                }
                next.extension_pending = Some(*days);
            }
            Move::DecideExtension { approve } => {
                let Some(days) = self.extension_pending else {
                    return illegal;
                };
                need(who == Relation::Supervisor, "supervisor")?;
                next.extension_pending = None;
                if *approve {
                    next.extra_days += days;
                }
            }
            Move::Escalate => {
                if !self.state.is_open() || self.escalated {
                    return illegal;
                }
                need(
                    matches!(who, Relation::System | Relation::Supervisor),
                    "supervisor",
                )?;
                next.escalated = true;
            }
            Move::Merge { into } => {
                if !self.state.is_open() {
                    return illegal;
                }
                need(
                    matches!(who, Relation::Owner | Relation::Supervisor),
                    "owner",
                )?;
                if into.get() <= 0 {
                    return Err(MoveError::Invalid("into"));
                }
                next.state = Closed;
                next.merged_into = Some(*into);
                next.handler = None;
                next.extension_pending = None;
            }
            Move::Absorb { from } => {
                // Whoever may merge the duplicate may note it on the survivor.
                if !self.state.is_open() {
                    return illegal;
                }
                if from.get() <= 0 {
                    return Err(MoveError::Invalid("from"));
                }
            }
        }
        Ok(next)
    }

    /// Replays a timeline from a new request.
    pub fn replay<'a>(
        events: impl IntoIterator<Item = &'a (Move, Relation)>,
    ) -> Result<Workflow, MoveError> {
        events
            .into_iter()
            .try_fold(Workflow::default(), |w, (m, who)| w.apply(m, *who))
    }
}

#[cfg(test)]
mod tests {
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
                match w.apply(&m, who) {
                    Ok(next) => { timeline.push((m, who)); w = next; }
                    Err(_) => {}
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
}
