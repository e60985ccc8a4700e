//! What the request page shows a worker: the request, its timeline, who owns it, the
//! moves the viewer may make now, whom it can be assigned to, its images, likely
//! duplicates, and what it was merged into.

use super::duplicates::{Matter, candidates};
use crate::{Caller, Result, Services};
use doorstep_domain::catalogue::ServiceItem;
use doorstep_domain::requests::{FollowUpChannel, Handler, Move, ReturnReason, Satisfaction};
use doorstep_domain::{AccountId, Actor, Entity, RequestId};
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
    /// Who handles it now: a worker's name, a post, or a partner unit.
    pub handler_name: Option<String>,
    /// Where it is: the building, its block and the block's worker.
    pub building: Option<BuildingInfo>,
    /// The catalogue item, as a guide.
    pub item: Option<(i64, ServiceItem)>,
    /// The request's point and the buildings around it, for a small map.
    pub map: Option<MapPoints>,
    /// Whether the viewer may see the resident's phone (one tap, a reason, audited).
    pub may_reveal: bool,
    /// The household whose visit found it, if the viewer may open it.
    pub household: Option<doorstep_domain::HouseholdId>,
}

/// The building a request is about, with who looks after it.
#[derive(Debug, Clone)]
pub struct BuildingInfo {
    pub id: i64,
    pub label: String,
    pub block: Option<(i64, String)>,
    pub block_worker: Option<String>,
}

/// A small map's points: the request's, and the estate's buildings around it.
#[derive(Debug, Clone)]
pub struct MapPoints {
    pub at: (f64, f64),
    pub around: Vec<(f64, f64)>,
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
            channel: FollowUpChannel::Phone,
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

/// The building, its estate and block, and the block's worker; with the estate's other
/// buildings as the map's surroundings.
async fn whereabouts(
    sv: &Services,
    r: &RequestRecord,
) -> Result<(Option<BuildingInfo>, Option<MapPoints>)> {
    let places = sv.store.places();
    let point = |p: &doorstep_store::PlaceRecord| p.get("lat").as_f64().zip(p.get("lon").as_f64());
    let Some(b) = r.building_id else {
        let map = r.lat.zip(r.lon).map(|at| MapPoints {
            at,
            around: Vec::new(),
        });
        return Ok((None, map));
    };
    let Some(b) = places.find(Entity::Building, b.get()).await? else {
        return Ok((None, None));
    };
    let estate_id = b.get("estate_id").as_i64().unwrap_or_default();
    let estate = places.find(Entity::Estate, estate_id).await?;
    let block = match b.get("block_id").as_i64() {
        Some(id) => places.find(Entity::Block, id).await?,
        None => None,
    };
    let block_worker = match block.as_ref().and_then(|k| k.get("worker_id").as_i64()) {
        Some(w) => sv
            .store
            .accounts()
            .names(&[AccountId(w)])
            .await?
            .remove(&AccountId(w)),
        None => None,
    };
    let label = format!(
        "{} {}",
        estate.as_ref().map(|e| e.title()).unwrap_or_default(),
        b.title()
    );
    let around = if estate.is_some() {
        let q = doorstep_store::ListQuery {
            filters: vec![("estate_id", doorstep_domain::Value::Int(estate_id))],
            ..doorstep_store::ListQuery::new(doorstep_domain::Scope::Subdistrict(r.subdistrict_id))
                .all()
        };
        places
            .list(Entity::Building, &q)
            .await?
            .items
            .iter()
            .filter(|o| o.id != b.id)
            .filter_map(point)
            .collect()
    } else {
        Vec::new()
    };
    let map = r
        .lat
        .zip(r.lon)
        .or_else(|| point(&b))
        .map(|at| MapPoints { at, around });
    let info = BuildingInfo {
        id: b.id,
        label,
        block: block.map(|k| (k.id, k.title())),
        block_worker,
    };
    Ok((Some(info), map))
}

/// How a handler is named on the page; resolved on the spot, a request has none, and who
/// resolved it answers for it.
async fn handler_name(
    sv: &Services,
    h: Option<&Handler>,
    timeline: &[RequestEvent],
) -> Result<Option<String>> {
    Ok(match h {
        Some(Handler::Worker(a)) => sv.store.accounts().names(&[*a]).await?.remove(a),
        Some(Handler::Post(p) | Handler::Partner(p)) => Some(p.clone()),
        None => timeline
            .iter()
            .rev()
            .find(|e| {
                matches!(
                    e.mv,
                    Some(Move::Resolve { .. } | Move::ResolveOnSpot { .. })
                )
            })
            .map(|e| e.actor_name.clone()),
    })
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
    let (building, map) = whereabouts(sv, &r).await?;
    let item = match r.service_item_id {
        Some(i) => sv
            .store
            .places()
            .find(Entity::ServiceItem, i.get())
            .await?
            .map(|rec| (rec.id, crate::catalogue::item(&rec))),
        None => None,
    };
    // The one who resolved it does not take its follow-up rating.
    let resolved_by = super::resolver(&timeline);
    let mut moves = possible_moves(&who.actor, &r);
    if resolved_by == Some(who.actor.account_id) {
        moves.retain(|m| !matches!(*m, "follow_up" | "close"));
    }
    let handler = handler_name(sv, r.workflow.handler.as_ref(), &timeline).await?;
    Ok(RequestPage {
        handler_name: handler,
        building,
        item,
        map,
        may_reveal: r.resident_phone.is_some()
            && who.actor.may_reveal_request_contact(&r.place())
                == doorstep_domain::policy::Decision::Allow,
        moves,
        household: crate::register::people::household_of_request(sv, who, id).await?,
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
