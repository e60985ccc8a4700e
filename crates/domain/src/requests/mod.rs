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
    /// The kinds that ask for something to be done or said about a matter, which the
    /// public listing may show (with a publishable catalogue item); a consultation is a
    /// resident's question about their own affairs and never is.
    pub const PUBLISHABLE: &'static [Kind] = &[
        Kind::Help,
        Kind::Report,
        Kind::Complaint,
        Kind::Suggestion,
        Kind::Praise,
    ];

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
    /// The residents' own channels.
    pub const FROM_RESIDENTS: &'static [Channel] = &[Channel::Web, Channel::Open311];
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

crate::coded_enum! {
    /// How a follow-up rating was given: by the resident on the tracking page, or taken
    /// by a worker on the phone or on a visit.
    pub enum FollowUpChannel {
        Web = "web",
        Phone = "phone",
        Visit = "visit",
    }
}

impl Default for FollowUpChannel {
    /// Ratings recorded before the channel was noted were taken on the phone.
    fn default() -> Self {
        FollowUpChannel::Phone
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
    /// 回访: efficiency, attitude, result. Any "unsatisfied" reopens the request. Given
    /// by the resident (`web`), or taken by a worker on the phone or a visit.
    FollowUp {
        efficiency: Satisfaction,
        attitude: Satisfaction,
        result: Satisfaction,
        #[serde(default)]
        channel: FollowUpChannel,
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

/// The most characters of the texts a move carries: a reply (shown to the resident on
/// the tracking page), a return note, an extension's reason, a post or partner name.
pub const MAX_REPLY_CHARS: usize = 2000;
pub const MAX_NOTE_CHARS: usize = 1000;
pub const MAX_REASON_CHARS: usize = 500;
pub const MAX_HANDLER_NAME_CHARS: usize = 100;

impl Move {
    /// The texts the move carries: (field, text, most characters, may span lines).
    pub fn texts(&self) -> Vec<(&'static str, &str, usize, bool)> {
        match self {
            Move::ResolveOnSpot { reply } | Move::Resolve { reply } => {
                vec![("reply", reply, MAX_REPLY_CHARS, true)]
            }
            Move::Return { note, .. } => vec![("note", note, MAX_NOTE_CHARS, true)],
            Move::RequestExtension { reason, .. } => {
                vec![("reason", reason, MAX_REASON_CHARS, false)]
            }
            Move::Assign {
                to: Handler::Post(s) | Handler::Partner(s),
            } => vec![("to", s, MAX_HANDLER_NAME_CHARS, false)],
            _ => Vec::new(),
        }
    }

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
        /// The resident, rating the service on the tracking page.
        Resident = "resident",
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
        /// Residents' own reports (web, Open311) nobody has assigned yet.
        NewReports = "new_reports",
        /// Resolved requests waiting for the follow-up call (回访).
        FollowUp = "follow_up",
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
    /// How the rating was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rated_via: Option<FollowUpChannel>,
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
            rated_via: None,
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
    /// The state after `mv` by someone in relation `who`, or why not: first whether the
    /// move is possible in this state, then whether `who` may make it, then whether what
    /// it says is valid.
    pub fn apply(&self, mv: &Move, who: Relation) -> Result<Workflow, MoveError> {
        if !self.possible(mv) {
            return Err(MoveError::IllegalInState(self.state));
        }
        if let Some(whom) = self.needs(mv, who) {
            return Err(MoveError::NotYours(whom));
        }
        if let Some(field) = self.invalid(mv) {
            return Err(MoveError::Invalid(field));
        }
        Ok(self.after(mv))
    }

    /// Whether the move is possible in the present state.
    fn possible(&self, mv: &Move) -> bool {
        use State::*;
        let s = self.state;
        match mv {
            Move::ResolveOnSpot { .. } => s == Received,
            Move::Assign { .. } => matches!(s, Received | Returned | Reopened | Assigned),
            Move::Accept => s == Assigned,
            Move::Return { .. } => matches!(s, Assigned | Accepted),
            Move::Start => match self.handler {
                Some(_) => s == Accepted,
                None => matches!(s, Received | Returned | Reopened),
            },
            Move::Resolve { .. } => matches!(s, Accepted | InProgress),
            Move::FollowUp { .. } | Move::Close => s == Resolved,
            Move::RequestExtension { .. } => {
                matches!(s, Assigned | Accepted | InProgress) && self.extension_pending.is_none()
            }
            Move::DecideExtension { .. } => self.extension_pending.is_some(),
            Move::Escalate => s.is_open() && !self.escalated,
            Move::Merge { .. } | Move::Absorb { .. } => s.is_open(),
        }
    }

    /// Who must make the move, when `who` may not.
    fn needs(&self, mv: &Move, who: Relation) -> Option<&'static str> {
        let handling = match self.handler {
            Some(_) => who == Relation::Handler,
            None => who == Relation::Owner,
        };
        let owner_or_supervisor = matches!(who, Relation::Owner | Relation::Supervisor);
        let (ok, whom) = match mv {
            Move::ResolveOnSpot { .. } | Move::Assign { .. } => (who == Relation::Owner, "owner"),
            Move::Accept | Move::Return { .. } => (who == Relation::Handler, "handler"),
            Move::Start | Move::Resolve { .. } => (handling, "handler"),
            // The resident rates on the tracking page; staff take ratings for them.
            Move::FollowUp {
                channel: FollowUpChannel::Web,
                ..
            } => (who == Relation::Resident, "resident"),
            Move::FollowUp { .. } | Move::Close | Move::Merge { .. } => {
                (owner_or_supervisor, "owner")
            }
            Move::RequestExtension { .. } => (handling || who == Relation::Owner, "handler"),
            Move::DecideExtension { .. } => (who == Relation::Supervisor, "supervisor"),
            Move::Escalate => (
                matches!(who, Relation::System | Relation::Supervisor),
                "supervisor",
            ),
            // Whoever may merge the duplicate may note it on the survivor.
            Move::Absorb { .. } => (who != Relation::Resident, "owner"),
        };
        (!ok).then_some(whom)
    }

    /// The field of the move that is not valid, if one is not.
    fn invalid(&self, mv: &Move) -> Option<&'static str> {
        let blank = |s: &str| s.trim().is_empty();
        match mv {
            Move::ResolveOnSpot { reply } | Move::Resolve { reply } if blank(reply) => {
                Some("reply")
            }
            Move::Assign {
                to: Handler::Post(s) | Handler::Partner(s),
            } if blank(s) => Some("handler"),
            Move::Return { note, .. } if blank(note) => Some("note"),
            Move::RequestExtension { days, .. }
                if *days == 0 || self.extra_days + days > MAX_EXTRA_DAYS =>
            {
                Some("days")
            }
            Move::RequestExtension { reason, .. } if blank(reason) => Some("reason"),
            Move::Merge { into } if into.get() <= 0 => Some("into"),
            Move::Absorb { from } if from.get() <= 0 => Some("from"),
            _ => None,
        }
    }

    /// The workflow after a move already found possible, allowed and valid.
    fn after(&self, mv: &Move) -> Workflow {
        use State::*;
        let mut next = self.clone();
        match mv {
            Move::ResolveOnSpot { .. } => {
                next.state = Resolved;
                next.on_spot = true;
            }
            Move::Assign { to } => {
                next.state = Assigned;
                next.handler = Some(to.clone());
            }
            Move::Accept => next.state = Accepted,
            Move::Return { .. } => {
                next.state = Returned;
                next.handler = None;
                next.extension_pending = None;
            }
            Move::Start => next.state = InProgress,
            Move::Resolve { .. } => {
                next.state = Resolved;
                next.extension_pending = None;
            }
            Move::FollowUp {
                efficiency,
                attitude,
                result,
                channel,
            } => {
                let worst = (*efficiency).min(*attitude).min(*result);
                next.rating = Some(worst);
                next.rated_via = Some(*channel);
                if worst == Satisfaction::Unsatisfied {
                    next.state = Reopened;
                    next.reopened += 1;
                    next.handler = None;
                    next.on_spot = false;
                } else {
                    next.state = Closed;
                }
            }
            Move::Close => next.state = Closed,
            Move::RequestExtension { days, .. } => next.extension_pending = Some(*days),
            Move::DecideExtension { approve } => {
                next.extension_pending = None;
                if *approve {
                    next.extra_days += self.extension_pending.unwrap_or(0);
                }
            }
            Move::Escalate => next.escalated = true,
            Move::Merge { into } => {
                next.state = Closed;
                next.merged_into = Some(*into);
                next.handler = None;
                next.extension_pending = None;
            }
            Move::Absorb { .. } => {}
        }
        next
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
mod tests;
