//! A history's walk through the workflow, step by step, refusing nothing the state
//! machine would refuse and stopping at "now": the usual routes, the follow-up, and the
//! steered walks that go straight to one state.

use super::{PARTNERS, Staff, minutes};
use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use doorstep_domain::calendar::WorkCalendar;
use doorstep_domain::requests::{
    FollowUpChannel, Handler, Kind, Move, Relation, ReturnReason, Satisfaction, State, Workflow,
};
use doorstep_store::PastMove;
use rand::Rng;
use rand::rngs::StdRng;

/// Staff act between 08:30 and 20:00 Shanghai time: a later moment moves to 08:30 the
/// next morning (plus the minutes it overshot, up to an hour), an earlier one to 08:30.
pub(super) fn working_hours(t: DateTime<Utc>) -> DateTime<Utc> {
    let local = t.with_timezone(&Shanghai);
    let open = NaiveTime::from_hms_opt(8, 30, 0).unwrap_or(NaiveTime::MIN);
    let close = NaiveTime::from_hms_opt(20, 0, 0).unwrap_or(NaiveTime::MIN);
    let time = local.time();
    let day = local.date_naive();
    let (day, extra) = if time > close {
        (day + Duration::days(1), (time - close).num_minutes() % 60)
    } else if time < open {
        (day, (time - NaiveTime::MIN).num_minutes() % 60)
    } else {
        return t;
    };
    Shanghai
        .from_local_datetime(&day.and_time(open))
        .earliest()
        .map(|x| x.with_timezone(&Utc) + Duration::minutes(extra))
        .unwrap_or(t)
}

/// Builds one history step by step.
pub(super) struct Walk {
    pub wf: Workflow,
    pub at: DateTime<Utc>,
    pub now: DateTime<Utc>,
    pub moves: Vec<PastMove>,
    pub done: bool,
}

impl Walk {
    pub fn new(received: DateTime<Utc>, now: DateTime<Utc>) -> Walk {
        Walk {
            wf: Workflow::default(),
            at: received,
            now,
            moves: Vec::new(),
            done: false,
        }
    }

    /// Who made the last resolution.
    fn resolver(&self) -> Option<doorstep_domain::AccountId> {
        self.moves
            .iter()
            .rev()
            .find(|m| matches!(m.mv, Move::Resolve { .. } | Move::ResolveOnSpot { .. }))
            .and_then(|m| m.actor_id)
    }

    /// Makes `mv` `gap` after the last step (in working hours); false, and the walk ends,
    /// when that would be after now or the state machine refuses.
    pub fn step(&mut self, gap: Duration, mv: Move, rel: Relation, who: &Staff) -> bool {
        if self.done {
            return false;
        }
        let at = working_hours(self.at + gap);
        if at >= self.now {
            self.done = true;
            return false;
        }
        match self.wf.apply(&mv, rel) {
            Ok(next) => {
                self.wf = next;
                self.at = at;
                self.moves.push(PastMove {
                    mv,
                    relation: rel,
                    at,
                    actor_id: (who.0.get() != 0).then_some(who.0),
                    actor_name: who.1.clone(),
                });
                true
            }
            Err(_) => {
                self.done = true;
                false
            }
        }
    }
}

/// Who works a request: its owner, the neighbourhood's secretary and other workers.
pub(super) struct Crew<'a> {
    pub owner: &'a Staff,
    pub secretary: &'a Staff,
    pub workers: Vec<&'a Staff>,
    pub system: &'a Staff,
}

/// Sometimes to a partner unit first, which sends it back.
fn via_partner(walk: &mut Walk, rng: &mut StdRng, owner: &Staff) {
    if !rng.random_bool(0.12) {
        return;
    }
    let p = PARTNERS[rng.random_range(0..PARTNERS.len())].to_string();
    let to = Handler::Partner(p);
    walk.step(
        minutes(rng, 10, 120),
        Move::Assign { to },
        Relation::Owner,
        owner,
    );
    let reasons = [
        ReturnReason::NotOurDuty,
        ReturnReason::WrongPlace,
        ReturnReason::Unclear,
    ];
    let reason = reasons[rng.random_range(0..3)];
    let note = "经核实不属本单位职责，请重新派单".into();
    walk.step(
        minutes(rng, 60, 1440),
        Move::Return { reason, note },
        Relation::Handler,
        owner,
    );
    if rng.random_bool(0.3) {
        // The owner is still looking for the right handler (escalated once due).
        walk.done = true;
    }
}

/// To a worker (or the owner handles it): who handles it and in which relation.
fn handle(walk: &mut Walk, rng: &mut StdRng, crew: &Crew<'_>) -> (Staff, Relation) {
    let owner = crew.owner;
    if crew.workers.is_empty() || !rng.random_bool(0.7) {
        walk.step(minutes(rng, 10, 600), Move::Start, Relation::Owner, owner);
        return (owner.clone(), Relation::Owner);
    }
    let w = crew.workers[rng.random_range(0..crew.workers.len())].clone();
    let to = Handler::Worker(w.0);
    walk.step(
        minutes(rng, 5, 180),
        Move::Assign { to },
        Relation::Owner,
        owner,
    );
    // A small backlog: some wait for the handler, some are signed for but not begun.
    if rng.random_bool(0.03) {
        walk.done = true;
    }
    walk.step(minutes(rng, 10, 600), Move::Accept, Relation::Handler, &w);
    if rng.random_bool(0.04) {
        walk.done = true;
    }
    walk.step(minutes(rng, 10, 1440), Move::Start, Relation::Handler, &w);
    (w, Relation::Handler)
}

/// A complex matter's extension, requested and decided; the extra days approved.
fn extension(
    walk: &mut Walk,
    rng: &mut StdRng,
    kind: Kind,
    (hw, hrel): (&Staff, Relation),
    secretary: &Staff,
) -> u32 {
    if kind.time_limit_days() <= 1 || !rng.random_bool(0.12) {
        return 0;
    }
    let days = rng.random_range(2..=10);
    let reason = "需要协调施工单位，时间较长".into();
    walk.step(
        minutes(rng, 60, 2880),
        Move::RequestExtension { days, reason },
        hrel,
        hw,
    );
    let approve = rng.random_bool(0.8);
    let decided = walk.step(
        minutes(rng, 30, 1440),
        Move::DecideExtension { approve },
        Relation::Supervisor,
        secretary,
    );
    if decided && approve { days } else { 0 }
}

/// The usual route: maybe a partner that returns it, a handler, maybe an extension, then
/// work that takes from an hour to past the deadline now and then (the deadline job
/// escalating first). Returns the extra days of an approved extension.
pub(super) fn route(
    walk: &mut Walk,
    rng: &mut StdRng,
    crew: &Crew<'_>,
    (kind, received): (Kind, DateTime<Utc>),
    calendar: &WorkCalendar,
    reply: String,
) -> u32 {
    via_partner(walk, rng, crew.owner);
    let (hw, hrel) = handle(walk, rng, crew);
    let extra_days = extension(walk, rng, kind, (&hw, hrel), crew.secretary);
    let limit = calendar.deadline(received, kind.time_limit_days() + extra_days);
    let work = if rng.random_bool(0.1) {
        (limit - walk.at) + minutes(rng, 60, 4320)
    } else {
        minutes(rng, 60, ((limit - walk.at).num_minutes() - 60).max(61))
    };
    let target = walk.at + work;
    if target > limit && limit > walk.at && limit < walk.now && !walk.done {
        // The deadline job escalates first.
        let gap = limit - walk.at + Duration::minutes(1);
        walk.step(gap, Move::Escalate, Relation::System, crew.system);
    }
    let gap = (target - walk.at).max(Duration::minutes(30));
    walk.step(gap, Move::Resolve { reply }, hrel, &hw);
    extra_days
}

/// Who takes a follow-up rating, and how: half the residents rate on the tracking page;
/// otherwise the owner calls or visits, or the secretary when the owner resolved it (the
/// one who resolved a request never takes its rating).
fn rater<'a>(
    walk: &Walk,
    rng: &mut StdRng,
    crew: &Crew<'a>,
) -> (Relation, &'a Staff, FollowUpChannel) {
    let channel = if rng.random_bool(0.8) {
        FollowUpChannel::Phone
    } else {
        FollowUpChannel::Visit
    };
    let resolver = walk.resolver();
    if rng.random_bool(0.5) {
        (Relation::Resident, &RESIDENT, FollowUpChannel::Web)
    } else if resolver != Some(crew.owner.0) {
        (Relation::Owner, crew.owner, channel)
    } else if resolver != Some(crew.secretary.0) {
        (Relation::Supervisor, crew.secretary, channel)
    } else {
        // The secretary took it and resolved it herself: the resident is asked online.
        (Relation::Resident, &RESIDENT, FollowUpChannel::Web)
    }
}

/// The resident, rating on the tracking page (no account).
static RESIDENT: std::sync::LazyLock<Staff> =
    std::sync::LazyLock::new(|| (doorstep_domain::AccountId(0), "resident".to_string()));

/// Follow-up: most resolved requests are rated, a few unhappy ones reopen and are done
/// again; some are closed unrated.
pub(super) fn follow_up(walk: &mut Walk, rng: &mut StdRng, crew: &Crew<'_>) {
    let owner = crew.owner;
    if walk.wf.state != State::Resolved {
        return;
    }
    if !rng.random_bool(0.85) {
        // Some residents cannot be reached: closed unrated, never by who resolved it.
        let resolver = walk.resolver();
        let closer = if resolver != Some(owner.0) {
            Some((Relation::Owner, owner))
        } else if resolver != Some(crew.secretary.0) {
            Some((Relation::Supervisor, crew.secretary))
        } else {
            None
        };
        if let Some((rel, who)) = closer.filter(|_| rng.random_bool(0.5)) {
            walk.step(minutes(rng, 1440, 4320), Move::Close, rel, who);
        }
        return;
    }
    let unhappy = rng.random_bool(0.06);
    let grade = |rng: &mut StdRng| {
        if rng.random_bool(0.8) {
            Satisfaction::Satisfied
        } else {
            Satisfaction::Basic
        }
    };
    let (efficiency, attitude) = (grade(rng), grade(rng));
    let result = if unhappy {
        Satisfaction::Unsatisfied
    } else {
        grade(rng)
    };
    let (rel, who, channel) = rater(walk, rng, crew);
    let rating = Move::FollowUp {
        efficiency,
        attitude,
        result,
        channel,
    };
    walk.step(minutes(rng, 120, 4320), rating, rel, who);
    if walk.wf.state == State::Reopened && rng.random_bool(0.6) {
        walk.step(minutes(rng, 30, 1440), Move::Start, Relation::Owner, owner);
        let reply = "再次上门处理，问题彻底解决".into();
        walk.step(
            minutes(rng, 60, 2880),
            Move::Resolve { reply },
            Relation::Owner,
            owner,
        );
        let (rel, who, channel) = rater(walk, rng, crew);
        let rating = Move::FollowUp {
            efficiency: Satisfaction::Basic,
            attitude: Satisfaction::Satisfied,
            result: Satisfaction::Satisfied,
            channel,
        };
        walk.step(minutes(rng, 120, 2880), rating, rel, who);
    }
}

/// The states the steered histories stop in, in turn.
pub(super) const STEERED: [State; 8] = [
    State::Received,
    State::Assigned,
    State::Accepted,
    State::InProgress,
    State::Returned,
    State::Resolved,
    State::Closed,
    State::Reopened,
];

/// A history that walks to `goal` and stops there, with moves an hour or two apart (so a
/// history received days before `now` always gets there).
pub(super) fn steered(
    goal: State,
    rng: &mut StdRng,
    walk: &mut Walk,
    crew: &Crew<'_>,
    reply: String,
) {
    let (owner, worker) = (
        crew.owner,
        crew.workers.first().copied().unwrap_or(crew.owner),
    );
    let gap = |rng: &mut StdRng| minutes(rng, 30, 120);
    if goal == State::Received {
        return;
    }
    if goal == State::Returned {
        let to = Handler::Partner(PARTNERS[rng.random_range(0..PARTNERS.len())].to_string());
        walk.step(gap(rng), Move::Assign { to }, Relation::Owner, owner);
        let note = "经核实不属本单位职责，请重新派单".to_string();
        let reason = ReturnReason::NotOurDuty;
        walk.step(
            gap(rng),
            Move::Return { reason, note },
            Relation::Handler,
            owner,
        );
        return;
    }
    let to = Handler::Worker(worker.0);
    walk.step(gap(rng), Move::Assign { to }, Relation::Owner, owner);
    let path = [
        (State::Accepted, Move::Accept),
        (State::InProgress, Move::Start),
        (State::Resolved, Move::Resolve { reply }),
    ];
    for (reached, mv) in path {
        if walk.wf.state == goal {
            return;
        }
        walk.step(gap(rng), mv, Relation::Handler, worker);
        if reached == goal {
            return;
        }
    }
    let result = if goal == State::Reopened {
        Satisfaction::Unsatisfied
    } else {
        Satisfaction::Satisfied
    };
    let rating = Move::FollowUp {
        efficiency: Satisfaction::Satisfied,
        attitude: Satisfaction::Satisfied,
        result,
        channel: FollowUpChannel::Phone,
    };
    walk.step(gap(rng), rating, Relation::Owner, owner);
}
