//! What the request page shows a worker: the request, its timeline, who owns it, the
//! moves the viewer may make now, whom it can be assigned to, its images, likely
//! duplicates, and what it was merged into.

use super::duplicates::{Matter, candidates};
use crate::{Caller, Result, Services};
use doorstep_domain::requests::{Handler, Move, ReturnReason, Satisfaction};
use doorstep_domain::{Actor, RequestId};
use doorstep_store::{Account, Attachment, DuplicateCandidate, RequestEvent, RequestRecord};

/// The request page's data.
#[derive(Debug, Clone)]
pub struct RequestPage {
    pub record: RequestRecord,
    pub timeline: Vec<RequestEvent>,
    pub owner_name: String,
    /// Codes of the moves the viewer may make now (the server checks again on submit).
    pub moves: Vec<&'static str>,
    /// Workers of the neighbourhood it can be assigned to.
    pub handlers: Vec<Account>,
    pub attachments: Vec<Attachment>,
    /// Open requests that may be the same matter (only while this one is open).
    pub duplicates: Vec<(DuplicateCandidate, f64)>,
    /// Whether the viewer may merge this request into another.
    pub may_merge: bool,
    /// The request this one was merged into: its id and tracking code.
    pub merged_into: Option<(RequestId, String)>,
}

/// One example of each move, to ask the rules which the viewer may make.
fn move_examples(me: &Actor) -> [Move; 11] {
    let x = || "x".to_string();
    let sat = Satisfaction::Satisfied;
    [
        Move::ResolveOnSpot { reply: x() },
        Move::Assign {
            to: Handler::Worker(me.account_id),
        },
        Move::Accept,
        Move::Return {
            reason: ReturnReason::Unclear,
            note: x(),
        },
        Move::Start,
        Move::Resolve { reply: x() },
        Move::FollowUp {
            efficiency: sat,
            attitude: sat,
            result: sat,
        },
        Move::Close,
        Move::RequestExtension {
            days: 1,
            reason: x(),
        },
        Move::DecideExtension { approve: true },
        Move::Escalate,
    ]
}

/// The moves `who` may make on `r` in its present state.
pub fn possible_moves(who: &Actor, r: &RequestRecord) -> Vec<&'static str> {
    let place = r.place();
    move_examples(who)
        .iter()
        .filter(|m| {
            who.relation_for(&place, m)
                .is_some_and(|rel| r.workflow.apply(m, rel).is_ok())
        })
        .map(Move::code)
        .collect()
}

/// Everything the request page shows `who` about request `id`.
pub async fn page(sv: &Services, who: &Caller, id: RequestId) -> Result<RequestPage> {
    let r = super::get(sv, who, id).await?;
    let timeline = sv.store.requests().timeline(id).await?;
    let owner_name = sv
        .store
        .accounts()
        .names(&[r.owner_id])
        .await?
        .remove(&r.owner_id)
        .unwrap_or_default();
    let open = r.workflow.state.is_open();
    let merge_probe = Move::Merge { into: RequestId(1) };
    let may_merge = open && who.actor.relation_for(&r.place(), &merge_probe).is_some();
    let duplicates = if open {
        let m = Matter {
            neighbourhood_id: Some(r.neighbourhood_id),
            building_id: r.building_id,
            point: r.lat.zip(r.lon),
            description: r.description.clone(),
            service_item_id: r.service_item_id,
            exclude: Some(r.id),
        };
        candidates(sv, r.neighbourhood_id, &m).await?
    } else {
        Vec::new()
    };
    let merged_into = match r.workflow.merged_into {
        Some(m) => sv
            .store
            .requests()
            .find(m)
            .await?
            .map(|m| (m.id, m.tracking_code)),
        None => None,
    };
    Ok(RequestPage {
        moves: possible_moves(&who.actor, &r),
        handlers: crate::accounts::handlers(sv, who, r.neighbourhood_id).await?,
        attachments: sv.store.attachments().list(id).await?,
        timeline,
        owner_name,
        duplicates,
        may_merge,
        merged_into,
        record: r,
    })
}
