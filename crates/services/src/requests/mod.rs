//! Requests (诉求/工单): one-window intake from every channel, the inbox, and moves on a
//! request, each allowed by `Actor::relation_for` and decided by the domain's state
//! machine; deadlines count working days on the calendar.
//!
//! The worked example of the layering: the API (`api/requests.rs`), the pages
//! (`pages/requests/`), Open311 and the deadline job all call the functions here.

pub mod attachments;
pub mod day;
pub mod duplicates;
pub mod finder;
pub mod phones;
mod queue;
pub mod resident;
pub mod view;

pub(crate) use queue::IntakeQueue;
pub use queue::{BATCH_BUCKETS, IntakeStats};

use crate::{Caller, Error, Result, Services, allowed};
use chrono::{DateTime, Duration, Utc};
use doorstep_domain::catalogue::Category;
use doorstep_domain::requests::{
    Channel, FollowUpChannel, Handler, Inbox, Kind, Move, State, Workflow,
};
use doorstep_domain::{
    AccountId, BuildingId, Entity, FieldErrors, FieldKind, FieldSpec, NeighbourhoodId, RequestId,
    Role, ServiceItemId, SubdistrictId, Value, Values,
};
use doorstep_store::{
    NewAttachment, NewRequest, Page, RequestEvent, RequestFilter, RequestOrder, RequestRecord,
    StoreError, WriteCtx,
};

/// The fields of an intake.
pub const REQUEST_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("neighbourhood_id", FieldKind::Ref("neighbourhoods")),
    FieldSpec::new("channel", FieldKind::Choice(Channel::CODES)).required(),
    FieldSpec::new("kind", FieldKind::Choice(Kind::CODES)).required(),
    FieldSpec::new("service_item_id", FieldKind::Ref("service_items")),
    FieldSpec::long_text("description", 2000).required(),
    FieldSpec::new("public_description", FieldKind::Bool),
    FieldSpec::new("building_id", FieldKind::Ref("buildings")),
    FieldSpec::float("lat", 18.0, 54.0),
    FieldSpec::float("lon", 73.0, 136.0),
    FieldSpec::text("address", 200),
    FieldSpec::text("resident_name", 30),
    FieldSpec::new("resident_phone", FieldKind::Phone),
];

/// A tracking code residents can read out on the phone: no 0/O, 1/I.
fn tracking_code() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = doorstep_domain::requests::TRACKING_CODE_ALPHABET;
    let mut rng = rand::rng();
    (0..10)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

fn text(v: &Values, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(str::to_string)
}

fn id<T: From<i64>>(v: &Values, k: &str) -> Option<T> {
    v.get(k).and_then(Value::as_i64).map(T::from)
}

/// One-window intake at the desk or through the API: the caller becomes the owner.
pub async fn intake(
    sv: &Services,
    who: &Caller,
    body: &serde_json::Map<String, serde_json::Value>,
) -> Result<RequestRecord> {
    if !who.actor.may_take_requests() {
        return Err(Error::Forbidden);
    }
    let v = doorstep_domain::validate(REQUEST_FIELDS, body, None, &[])?;
    let asked = id::<NeighbourhoodId>(&v, "neighbourhood_id");
    let nb = who
        .actor
        .request_neighbourhood(asked)
        .map_err(|_| Error::Forbidden)?
        .ok_or_else(|| Error::validation("neighbourhood_id", "required"))?;
    // Staff record what they took at the desk, on the phone or on a visit; the web and
    // Open311 channels are the residents' own.
    let channel = text(&v, "channel")
        .as_deref()
        .and_then(Channel::parse)
        .filter(|c| Channel::AT_THE_DESK.contains(c))
        .ok_or_else(|| Error::validation("channel", "invalid_choice"))?;
    let ctx = sv.ctx(who);
    let owner = who.actor.account_id;
    create_checked(
        sv,
        who.actor.subdistrict_id,
        nb,
        &v,
        channel,
        owner,
        &[],
        &ctx,
    )
    .await
}

/// Checks an intake's references (the neighbourhood, catalogue item and building belong
/// to the subdistrict and are in use) and stores it with its working-day deadline, owned
/// by `owner`. Shared by every channel.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn create_checked(
    sv: &Services,
    sd: SubdistrictId,
    nb: NeighbourhoodId,
    v: &Values,
    channel: Channel,
    owner: AccountId,
    attachments: &[NewAttachment],
    ctx: &WriteCtx,
) -> Result<RequestRecord> {
    check_references(sv, sd, nb, v).await?;
    let kind = text(v, "kind")
        .as_deref()
        .and_then(Kind::parse)
        .ok_or_else(|| Error::validation("kind", "invalid_choice"))?;
    let (phone, phone_sealed) = phones::for_storage(sv.vault.as_deref(), text(v, "resident_phone"));
    let mut attempt = 0;
    loop {
        let new = NewRequest {
            neighbourhood_id: nb,
            tracking_code: tracking_code(),
            channel,
            kind,
            service_item_id: id(v, "service_item_id"),
            description: text(v, "description").unwrap_or_default(),
            // Only a resident's own words, by the resident's own choice, are ever public.
            public_description: Channel::FROM_RESIDENTS.contains(&channel)
                && v.get("public_description").is_some_and(Value::as_bool),
            building_id: id(v, "building_id"),
            lat: v.get("lat").and_then(Value::as_f64),
            lon: v.get("lon").and_then(Value::as_f64),
            resident_name: text(v, "resident_name"),
            resident_phone: phone.clone(),
            resident_phone_sealed: phone_sealed.clone(),
            resident_email: text(v, "resident_email"),
            address: text(v, "address"),
            owner_id: owner,
            deadline_at: sv.calendar().deadline(ctx.at, kind.time_limit_days()),
            attachments: attachments.to_vec(),
        };
        match sv.intake.submit(&sv.store, new, ctx.clone()).await {
            Ok(r) => return Ok(r),
            // A tracking code collided: draw another.
            Err(StoreError::Duplicate(_)) if attempt < 3 => attempt += 1,
            Err(e) => return Err(e.into()),
        }
    }
}

async fn check_references(
    sv: &Services,
    sd: SubdistrictId,
    nb: NeighbourhoodId,
    v: &Values,
) -> Result<()> {
    let places = sv.store.places();
    let mut errors = FieldErrors::new();
    match places.find(Entity::Neighbourhood, nb.get()).await? {
        Some(n) if n.subdistrict_id == sd && n.is_active() => {}
        _ => errors.add("neighbourhood_id", "invalid_reference"),
    }
    if let Some(item) = id::<ServiceItemId>(v, "service_item_id") {
        match places.find(Entity::ServiceItem, item.get()).await? {
            Some(s) if s.subdistrict_id == sd && s.is_active() => {}
            _ => errors.add("service_item_id", "invalid_reference"),
        }
    }
    if let Some(b) = id::<BuildingId>(v, "building_id") {
        match places.find(Entity::Building, b.get()).await? {
            Some(b) if b.neighbourhood_id == Some(nb) && b.is_active() => {}
            _ => errors.add("building_id", "invalid_reference"),
        }
    }
    Ok(errors.into_result(())?)
}

/// A request the caller may read.
pub async fn get(sv: &Services, who: &Caller, id: RequestId) -> Result<RequestRecord> {
    let r = sv.store.requests().get(id).await?;
    allowed(who.actor.may_read_request(&r.place()))?;
    Ok(r)
}

/// A request the caller may read, with its timeline.
pub async fn with_timeline(
    sv: &Services,
    who: &Caller,
    id: RequestId,
) -> Result<(RequestRecord, Vec<RequestEvent>)> {
    let r = get(sv, who, id).await?;
    let timeline = sv.store.requests().timeline(id).await?;
    Ok((r, timeline))
}

/// What an inbox asks for.
#[derive(Debug, Clone)]
pub struct InboxQuery {
    pub inbox: Inbox,
    /// Admins only: one neighbourhood.
    pub neighbourhood_id: Option<NeighbourhoodId>,
    pub state: Option<State>,
    pub kind: Option<Kind>,
    pub category: Option<Category>,
    /// A tracking code, or words of the description.
    pub text: Option<String>,
    pub order: RequestOrder,
    pub limit: i64,
    pub offset: i64,
}

impl InboxQuery {
    pub fn new(inbox: Inbox) -> Self {
        InboxQuery {
            inbox,
            neighbourhood_id: None,
            state: None,
            kind: None,
            category: None,
            text: None,
            order: RequestOrder::Newest,
            limit: 50,
            offset: 0,
        }
    }
}

/// The requests a box shows the caller: admins all (or one neighbourhood), secretaries
/// their neighbourhood, workers what they own or handle.
pub fn inbox_filter(who: &Caller, q: &InboxQuery, now: DateTime<Utc>) -> Result<RequestFilter> {
    let a = &who.actor;
    let me = a.account_id;
    let mut f = RequestFilter::of(a.subdistrict_id);
    match a.role {
        Role::Admin => f.neighbourhood_id = q.neighbourhood_id,
        Role::Secretary => f.neighbourhood_id = a.neighbourhood_id,
        Role::Worker => {
            f.neighbourhood_id = a.neighbourhood_id;
            f.involving = Some(me);
        }
        _ => return Err(Error::Forbidden),
    }
    // Resolved requests are done but for the follow-up call: that box shows them.
    f.open_only = !matches!(q.inbox, Inbox::All | Inbox::FollowUp);
    f.state = q.state;
    match q.inbox {
        Inbox::Owned => f.owner = Some(me),
        Inbox::Assigned => f.handler = Some(me),
        Inbox::DueSoon => {
            f.deadline_after = Some(now);
            f.deadline_before = Some(now + Duration::days(1));
        }
        Inbox::Overdue => f.deadline_before = Some(now),
        Inbox::NewReports => {
            // Everyone at the station sees what residents sent in, so it is never missed.
            f.involving = None;
            f.channels = Some(Channel::FROM_RESIDENTS.to_vec());
            f.state = Some(State::Received);
        }
        Inbox::FollowUp => {
            // The follow-up call is the owner's (or a supervisor's).
            if a.role == Role::Worker {
                f.involving = None;
                f.owner = Some(me);
            }
            f.state = Some(State::Resolved);
        }
        Inbox::Open | Inbox::All => {}
    }
    f.kind = q.kind;
    f.category = q.category;
    f.text = q.text.clone();
    // A tracking code read out at the counter finds its request whatever the box: any
    // request of the neighbourhood (or the subdistrict) the caller may read.
    if q.text.as_deref().is_some_and(is_tracking_code) {
        f.open_only = false;
        f.involving = None;
        f.owner = None;
        f.handler = None;
        f.state = None;
        f.channels = None;
        f.deadline_before = None;
        f.deadline_after = None;
    }
    f.order = q.order;
    f.limit = q.limit;
    f.offset = q.offset;
    Ok(f)
}

/// Whether `text` is a tracking code as residents read it out (spaces and case aside).
pub fn is_tracking_code(text: &str) -> bool {
    let t: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    t.len() == 10
        && t.to_uppercase()
            .bytes()
            .all(|b| doorstep_domain::requests::TRACKING_CODE_ALPHABET.contains(&b))
}

/// A page of the caller's inbox.
pub async fn inbox(sv: &Services, who: &Caller, q: &InboxQuery) -> Result<Page<RequestRecord>> {
    let f = inbox_filter(who, q, sv.now())?;
    Ok(sv.store.requests().list(&f).await?)
}

/// Who resolved the request last (the one who may not take its follow-up rating).
pub fn resolver(timeline: &[RequestEvent]) -> Option<AccountId> {
    timeline
        .iter()
        .rev()
        .find(|e| {
            matches!(
                e.mv,
                Some(Move::Resolve { .. } | Move::ResolveOnSpot { .. })
            )
        })
        .and_then(|e| e.actor_id)
}

/// Checks what a move says before it is tried: texts that must be written, days that
/// must be counted, a worker to assign who works in the request's neighbourhood, a
/// follow-up taken on the phone or a visit by someone other than who resolved it.
async fn check_move(sv: &Services, who: &Caller, r: &RequestRecord, mv: &Move) -> Result<()> {
    let blank = |s: &str| s.trim().is_empty();
    let mut errors = FieldErrors::new();
    // Every text a move carries has a maximum and no control characters (NUL included:
    // PostgreSQL refuses it); line breaks only where the text may span lines.
    for (field, text, max, lines) in mv.texts() {
        doorstep_domain::fields::check_text(&mut errors, field, text, max, lines);
    }
    if !errors.is_empty() {
        return Ok(errors.into_result(())?);
    }
    match mv {
        Move::ResolveOnSpot { reply } | Move::Resolve { reply } if blank(reply) => {
            errors.add("reply", "required")
        }
        Move::Return { note, .. } if blank(note) => errors.add("note", "required"),
        Move::RequestExtension { reason, .. } if blank(reason) => errors.add("reason", "required"),
        Move::RequestExtension { days, .. }
            if *days == 0 || *days > doorstep_domain::requests::MAX_EXTRA_DAYS =>
        {
            errors.add_with(
                "days",
                "out_of_range",
                vec![
                    "1".into(),
                    doorstep_domain::requests::MAX_EXTRA_DAYS.to_string(),
                ],
            )
        }
        Move::Assign {
            to: Handler::Worker(w),
        } => match sv.store.accounts().find(*w).await? {
            Some(a)
                if a.neighbourhood_id == Some(r.neighbourhood_id)
                    && matches!(a.role, Role::Worker | Role::Secretary)
                    && !a.disabled => {}
            _ => errors.add("to", "invalid_reference"),
        },
        Move::Assign {
            to: Handler::Post(s) | Handler::Partner(s),
        } if blank(s) => errors.add("to", "required"),
        // The resident rates on the tracking page; staff note how they asked.
        Move::FollowUp {
            channel: FollowUpChannel::Web,
            ..
        } => errors.add("channel", "invalid_choice"),
        // Rating it, or closing it unrated, is for someone other than who resolved it:
        // otherwise a request could skip its follow-up.
        Move::FollowUp { .. } | Move::Close => {
            let timeline = sv.store.requests().timeline(r.id).await?;
            if resolver(&timeline) == Some(who.actor.account_id) {
                errors.add("move", "not_by_resolver");
            }
        }
        _ => {}
    }
    Ok(errors.into_result(())?)
}

/// Makes a move on a request, if the caller may make it (in the relation the rules give)
/// and the request is still at `version`.
pub async fn apply_move(
    sv: &Services,
    who: &Caller,
    id: RequestId,
    version: i64,
    mv: &Move,
) -> Result<RequestRecord> {
    if matches!(mv, Move::Absorb { .. }) {
        // Only a merge writes the other side.
        return Err(Error::validation("move", "invalid"));
    }
    let r = get(sv, who, id).await?;
    let rel = who
        .actor
        .relation_for(&r.place(), mv)
        .ok_or(Error::Forbidden)?;
    check_move(sv, who, &r, mv).await?;
    let ctx = sv.ctx(who);
    if let Move::Merge { into } = mv {
        let target = sv
            .store
            .requests()
            .find(*into)
            .await?
            .filter(|t| {
                t.subdistrict_id == r.subdistrict_id && t.neighbourhood_id == r.neighbourhood_id
            })
            .ok_or_else(|| Error::validation("into", "invalid_reference"))?;
        return Ok(sv
            .store
            .requests()
            .merge(id, version, target.id, rel, &ctx)
            .await?);
    }
    let calendar = sv.calendar.clone();
    let deadline = move |cur: &RequestRecord, next: &Workflow| {
        if next.extra_days != cur.workflow.extra_days {
            calendar.deadline(cur.created_at, cur.kind.time_limit_days() + next.extra_days)
        } else {
            cur.deadline_at
        }
    };
    Ok(sv
        .store
        .requests()
        .apply_move(id, version, mv, rel, &ctx, deadline)
        .await?)
}
