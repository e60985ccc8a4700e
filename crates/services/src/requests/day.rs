//! The worker's day: what the home page puts first. Counts of the boxes that need doing
//! now and the newest requests for station staff; each neighbourhood's queue for the
//! subdistrict.

use super::{InboxQuery, inbox};
use crate::{Caller, Error, Result, Services};
use doorstep_domain::requests::Inbox;
use doorstep_domain::{Entity, NeighbourhoodId, Role, Scope};
use doorstep_store::{Queue, RequestRecord};

/// The boxes the home page counts, in the order it shows them.
pub const DAY_BOXES: &[Inbox] = &[
    Inbox::NewReports,
    Inbox::Assigned,
    Inbox::DueSoon,
    Inbox::Overdue,
    Inbox::FollowUp,
];

/// How many requests are in a box.
#[derive(Debug, Clone)]
pub struct BoxCount {
    pub inbox: Inbox,
    pub count: i64,
}

/// A neighbourhood's queue with its name.
#[derive(Debug, Clone)]
pub struct NamedQueue {
    pub name: String,
    pub queue: Queue,
}

/// What the day holds for the caller.
#[derive(Debug, Clone, Default)]
pub struct Day {
    pub boxes: Vec<BoxCount>,
    /// The newest open requests in the caller's reach.
    pub newest: Vec<RequestRecord>,
    /// For the subdistrict: every neighbourhood with requests waiting, busiest first.
    pub queues: Vec<NamedQueue>,
}

/// The caller's day; for accounts that take no requests, an empty one.
pub async fn day(sv: &Services, who: &Caller) -> Result<Day> {
    if !who.actor.may_take_requests() {
        return Ok(Day::default());
    }
    let mut boxes = Vec::new();
    // Residents' new reports wait for the secretary to assign them: a worker's day counts
    // what she can act on.
    let boxes_of_role = DAY_BOXES
        .iter()
        .filter(|b| who.actor.role != doorstep_domain::Role::Worker || **b != Inbox::NewReports);
    for b in boxes_of_role {
        let q = InboxQuery {
            limit: 1,
            ..InboxQuery::new(*b)
        };
        boxes.push(BoxCount {
            inbox: *b,
            count: inbox(sv, who, &q).await?.total,
        });
    }
    let newest = inbox(
        sv,
        who,
        &InboxQuery {
            limit: 5,
            ..InboxQuery::new(Inbox::Open)
        },
    )
    .await?
    .items;
    let queues = if who.actor.role == Role::Admin {
        queues(sv, who).await?
    } else {
        Vec::new()
    };
    Ok(Day {
        boxes,
        newest,
        queues,
    })
}

async fn queues(sv: &Services, who: &Caller) -> Result<Vec<NamedQueue>> {
    let sd = who.actor.subdistrict_id;
    let names = crate::places::all_in(sv, Entity::Neighbourhood, Scope::Subdistrict(sd)).await?;
    let name_of = |id: NeighbourhoodId| {
        names
            .iter()
            .find(|n| n.id == id.get())
            .map(|n| n.title())
            .ok_or(Error::NotFound)
    };
    let mut out = Vec::new();
    for q in sv.store.requests().queues(sd, sv.now()).await? {
        out.push(NamedQueue {
            name: name_of(q.neighbourhood_id)?,
            queue: q,
        });
    }
    out.sort_by(|a, b| {
        (b.queue.overdue, b.queue.new_reports, b.queue.open)
            .cmp(&(a.queue.overdue, a.queue.new_reports, a.queue.open))
            .then(a.name.cmp(&b.name))
    });
    Ok(out)
}
