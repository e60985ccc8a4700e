//! Requests from residents without an account: the resident's own report (web page) and
//! Open311 clients, received by the neighbourhood's receiver (its secretary); tracking by
//! code, showing the steps but never a name, a phone, the staff or internal notes; and
//! the public listing.

use super::{REQUEST_FIELDS, create_checked};
use crate::{Error, Result, Services};
use chrono::{DateTime, Utc};
use doorstep_domain::requests::{
    Channel, FollowUpChannel, Kind, MAX_ATTACHMENTS, Move, Relation, Satisfaction, Workflow,
};
use doorstep_domain::{
    BuildingId, Entity, FieldErrors, FieldKind, FieldSpec, NeighbourhoodId, RequestId, Scope,
    ServiceItemId, SubdistrictId, Values,
};
use doorstep_store::{
    BuildingPoint, NewAttachment, PlaceRecord, PublicFilter, PublicRequest, RequestRecord,
};
use std::net::IpAddr;

/// The kinds a resident chooses from, the likeliest first.
const RESIDENT_KINDS: &[&str] = &[
    Kind::Help.code(),
    Kind::Complaint.code(),
    Kind::Report.code(),
    Kind::Suggestion.code(),
    Kind::Consultation.code(),
    Kind::Praise.code(),
];

/// What a resident fills in.
pub const RESIDENT_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("neighbourhood_id", FieldKind::Ref("neighbourhoods")).required(),
    FieldSpec::new("kind", FieldKind::Choice(RESIDENT_KINDS)).required(),
    // Optional: one of the matters of the shared place (those the public listing may
    // show), chosen by residents who see theirs among them.
    FieldSpec::new("service_item_id", FieldKind::Ref("service_items")),
    FieldSpec::long_text("description", 2000).required(),
    FieldSpec::new("public_description", FieldKind::Bool),
    FieldSpec::new("building_id", FieldKind::Ref("buildings")),
    FieldSpec::text("address", 200),
    FieldSpec::text("resident_name", 30),
    FieldSpec::new("resident_phone", FieldKind::Phone),
];

/// A neighbourhood a resident may report to.
#[derive(Debug, Clone)]
pub struct Place {
    pub neighbourhood: PlaceRecord,
    pub subdistrict: String,
}

/// Every neighbourhood in use, with its subdistrict's name (one subdistrict per
/// deployment is the usual case).
pub async fn neighbourhoods(sv: &Services) -> Result<Vec<Place>> {
    let mut out = Vec::new();
    for sd in sv.store.places().subdistrict_ids().await? {
        let Some(s) = sv
            .store
            .places()
            .find(Entity::Subdistrict, sd.get())
            .await?
        else {
            continue;
        };
        let nbs = crate::places::all_in(sv, Entity::Neighbourhood, Scope::Subdistrict(sd)).await?;
        out.extend(
            nbs.into_iter()
                .filter(PlaceRecord::is_active)
                .map(|n| Place {
                    neighbourhood: n,
                    subdistrict: s.title(),
                }),
        );
    }
    Ok(out)
}

/// What a resident's report form offers: the neighbourhood, its buildings, and the
/// matters of the shared place a report may name.
pub struct ReportForm {
    pub neighbourhood: PlaceRecord,
    pub buildings: Vec<crate::places::Choice>,
    pub matters: Vec<crate::places::Choice>,
}

/// The neighbourhood a report is for, with its buildings and matters to choose from;
/// not found when it is unknown or archived.
pub async fn report_form(sv: &Services, nb: NeighbourhoodId) -> Result<ReportForm> {
    let n = active_neighbourhood(sv, nb).await?.ok_or(Error::NotFound)?;
    let scope = Scope::Neighbourhood {
        subdistrict_id: n.subdistrict_id,
        neighbourhood_id: nb,
    };
    let buildings = crate::places::buildings_of(sv, scope).await?;
    let matters = public_matters(sv, n.subdistrict_id).await?;
    Ok(ReportForm {
        neighbourhood: n,
        buildings,
        matters,
    })
}

/// The catalogue items an admin marked publishable: the matters of the shared place a
/// resident's own report may name (and the public listing may then show).
async fn public_matters(sv: &Services, sd: SubdistrictId) -> Result<Vec<crate::places::Choice>> {
    Ok(services(sv, sd)
        .await?
        .into_iter()
        .filter(|i| i.get("publishable").as_bool())
        .map(|i| crate::places::Choice {
            id: i.id,
            label: i.get("name").as_str().unwrap_or("").to_string(),
        })
        .collect())
}

async fn active_neighbourhood(sv: &Services, nb: NeighbourhoodId) -> Result<Option<PlaceRecord>> {
    Ok(sv
        .store
        .places()
        .find(Entity::Neighbourhood, nb.get())
        .await?
        .filter(PlaceRecord::is_active))
}

/// A resident's report from the web page: the fields and up to three photos, checked
/// together so every error is shown at once.
pub async fn report(
    sv: &Services,
    nb: NeighbourhoodId,
    input: &serde_json::Map<String, serde_json::Value>,
    photos: &[Vec<u8>],
    ip: Option<IpAddr>,
) -> Result<RequestRecord> {
    let checked = doorstep_domain::validate(RESIDENT_FIELDS, input, None, &[]);
    let mut errors = checked.as_ref().err().cloned().unwrap_or_default();
    if photos.len() > MAX_ATTACHMENTS {
        errors.add("photo", "too_many");
    }
    let mut files = Vec::new();
    for p in photos {
        match super::attachments::prepare("photo", p).await {
            Ok(a) => files.push(a),
            Err(Error::Validation(e)) => {
                errors.0.extend(e.0);
                break;
            }
            Err(e) => return Err(e),
        }
    }
    let values = match checked {
        Ok(v) if errors.is_empty() => v,
        _ => return Err(Error::Validation(errors)),
    };
    // Only a matter the form offered: a resident's report names no one's affairs.
    if let Some(item) = values
        .get("service_item_id")
        .and_then(doorstep_domain::Value::as_i64)
    {
        let n = active_neighbourhood(sv, nb).await?.ok_or(Error::NotFound)?;
        let offered = public_matters(sv, n.subdistrict_id).await?;
        if !offered.iter().any(|m| m.id == item) {
            return Err(Error::validation("service_item_id", "invalid_reference"));
        }
    }
    intake(sv, nb, &values, Channel::Web, &files, ip, "resident-web").await
}

/// Whether the staff account behind an Open311 key may file a resident's report in
/// neighbourhood `nb`: the rules of the desk, for every channel (a worker or secretary
/// in her own neighbourhood, an admin anywhere in the subdistrict).
pub fn may_file_for(account: &doorstep_store::Account, nb: NeighbourhoodId) -> Result<()> {
    let actor = account.actor();
    if actor.staff_of(nb) {
        Ok(())
    } else {
        Err(Error::Forbidden)
    }
}

/// Intake with no staff account behind it (the resident's page, Open311): the
/// neighbourhood's receiver (its secretary) owns the request from the start. `values`
/// are already validated; `actor` names the channel in the audit log.
pub async fn intake(
    sv: &Services,
    nb: NeighbourhoodId,
    values: &Values,
    channel: Channel,
    files: &[NewAttachment],
    ip: Option<IpAddr>,
    actor: &str,
) -> Result<RequestRecord> {
    let Some(n) = active_neighbourhood(sv, nb).await? else {
        return Err(Error::validation("neighbourhood_id", "invalid_reference"));
    };
    // No one to receive it is a deployment without staff there: unavailable, not a bug.
    let owner = sv
        .store
        .accounts()
        .receiver_for(n.subdistrict_id, nb)
        .await
        .map_err(|_| Error::Unavailable)?;
    let ctx = sv.system_ctx(actor, Some(n.subdistrict_id), ip);
    create_checked(
        sv,
        n.subdistrict_id,
        nb,
        values,
        channel,
        owner,
        files,
        &ctx,
    )
    .await
}

/// Validates a public intake (Open311) with the desk's fields.
pub fn validate(body: &serde_json::Map<String, serde_json::Value>) -> Result<Values, FieldErrors> {
    doorstep_domain::validate(REQUEST_FIELDS, body, None, &[])
}

/// One step of a request as the resident sees it.
#[derive(Debug, Clone)]
pub struct Step {
    pub at: DateTime<Utc>,
    /// The move's code (`receive` for the intake).
    pub what: &'static str,
    /// The reply to the resident, or the state of the request merged into; nothing else.
    pub detail: String,
}

/// A request as its tracking page shows it.
#[derive(Debug, Clone)]
pub struct Tracked {
    pub record: RequestRecord,
    pub steps: Vec<Step>,
}

/// The request with this tracking code, as the resident may see it.
pub async fn track(sv: &Services, code: &str) -> Result<Option<Tracked>> {
    let Some(r) = sv.store.requests().find_by_code(code).await? else {
        return Ok(None);
    };
    let timeline = sv.store.requests().timeline(r.id).await?;
    let mut steps = Vec::with_capacity(timeline.len());
    for e in &timeline {
        let (what, detail) = match &e.mv {
            None => ("receive", String::new()),
            Some(m @ (Move::Resolve { reply } | Move::ResolveOnSpot { reply })) => {
                (m.code(), reply.clone())
            }
            // Where the request it joined stands, never that request's tracking code
            // (another resident's key to rate it).
            Some(Move::Merge { into }) => {
                let other = sv.store.requests().find(*into).await?;
                let state = other.map(|o| o.workflow.state.code().to_string());
                ("merge", state.unwrap_or_default())
            }
            // Internal notes (return reasons, extension reasons) stay inside.
            Some(m) => (m.code(), String::new()),
        };
        steps.push(Step {
            at: e.at,
            what,
            detail,
        });
    }
    Ok(Some(Tracked { record: r, steps }))
}

/// The resident's own rating of a resolved request (回访), from its tracking page: three
/// ratings, each required, none preset. "Unsatisfied" on any reopens the request.
pub async fn rate(
    sv: &Services,
    code: &str,
    ratings: [Option<Satisfaction>; 3],
    ip: Option<std::net::IpAddr>,
) -> Result<RequestRecord> {
    let r = sv
        .store
        .requests()
        .find_by_code(code)
        .await?
        .ok_or(Error::NotFound)?;
    let mut errors = FieldErrors::new();
    for (field, given) in ["efficiency", "attitude", "result"].iter().zip(&ratings) {
        if given.is_none() {
            errors.add(field, "required");
        }
    }
    let [Some(efficiency), Some(attitude), Some(result)] = ratings else {
        return Err(errors.into());
    };
    let mv = Move::FollowUp {
        efficiency,
        attitude,
        result,
        channel: FollowUpChannel::Web,
    };
    let ctx = sv.system_ctx("resident", Some(r.subdistrict_id), ip);
    let keep = |cur: &RequestRecord, _: &Workflow| cur.deadline_at;
    Ok(sv
        .store
        .requests()
        .apply_move(r.id, r.version, &mv, Relation::Resident, &ctx, keep)
        .await?)
}

/// The subdistrict named by `code_or_id` (its code, or its id), or the only one when
/// none is named. `Ok(None)`: none matches; an error when several could.
pub async fn jurisdiction(
    sv: &Services,
    code_or_id: Option<&str>,
) -> Result<Option<SubdistrictId>> {
    let ids = sv.store.places().subdistrict_ids().await?;
    match code_or_id.map(str::trim).filter(|j| !j.is_empty()) {
        None => match ids.as_slice() {
            [one] => Ok(Some(*one)),
            [] => Ok(None),
            _ => Err(Error::validation("jurisdiction_id", "required")),
        },
        Some(j) => {
            for id in ids {
                if let Some(sd) = sv
                    .store
                    .places()
                    .find(Entity::Subdistrict, id.get())
                    .await?
                    && (sd.get("code").as_str() == Some(j) || id.to_string() == j)
                {
                    return Ok(Some(id));
                }
            }
            Ok(None)
        }
    }
}

/// The subdistrict's catalogue items in use (the services of Open311).
pub async fn services(sv: &Services, sd: SubdistrictId) -> Result<Vec<PlaceRecord>> {
    let items = crate::places::all_in(sv, Entity::ServiceItem, Scope::Subdistrict(sd)).await?;
    Ok(items.into_iter().filter(PlaceRecord::is_active).collect())
}

/// A catalogue item of the subdistrict, in use.
pub async fn service(
    sv: &Services,
    sd: SubdistrictId,
    id: ServiceItemId,
) -> Result<Option<PlaceRecord>> {
    Ok(sv
        .store
        .places()
        .find(Entity::ServiceItem, id.get())
        .await?
        .filter(|i| i.subdistrict_id == sd && i.is_active()))
}

/// A building of the subdistrict, in use.
pub async fn building(
    sv: &Services,
    sd: SubdistrictId,
    id: BuildingId,
) -> Result<Option<PlaceRecord>> {
    Ok(sv
        .store
        .places()
        .find(Entity::Building, id.get())
        .await?
        .filter(|b| b.subdistrict_id == sd && b.is_active()))
}

/// The subdistrict's building nearest to a point, if one is within `within_m` metres.
pub async fn nearest_building(
    sv: &Services,
    sd: SubdistrictId,
    (lat, lon): (f64, f64),
    within_m: f64,
) -> Result<Option<BuildingPoint>> {
    let best = sv
        .store
        .geo()
        .building_points(sd)
        .await?
        .into_iter()
        .map(|b| {
            (
                doorstep_domain::earth::haversine_m(lat, lon, b.lat, b.lon),
                b,
            )
        })
        .min_by(|a, b| a.0.total_cmp(&b.0));
    Ok(best.filter(|(d, _)| *d <= within_m).map(|(_, b)| b))
}

/// Requests as the public interface lists them.
pub async fn public(sv: &Services, f: &PublicFilter) -> Result<Vec<PublicRequest>> {
    let rows = sv.store.requests().public(f).await?;
    Ok(rows.into_iter().map(for_the_public).collect())
}

/// The places of the public listing are coarsened to about 100 m (three decimals) when
/// a request has no building.
const PUBLIC_DECIMALS: f64 = 1000.0;

/// A listed request with only what may be public: no contacts, no address in the
/// resident's words, no tracking code (the resident's key), the description only when
/// the resident allowed it, and the place as the building's point (or coarsened).
fn for_the_public(mut p: PublicRequest) -> PublicRequest {
    let r = &mut p.record;
    if !r.public_description {
        r.description.clear();
    }
    let coarse = |x: f64| (x * PUBLIC_DECIMALS).round() / PUBLIC_DECIMALS;
    (r.lat, r.lon) = match (p.building_point, r.lat.zip(r.lon)) {
        (Some((lat, lon)), _) => (Some(lat), Some(lon)),
        (None, Some((lat, lon))) => (Some(coarse(lat)), Some(coarse(lon))),
        (None, None) => (None, None),
    };
    r.tracking_code.clear();
    r.resident_name = None;
    r.resident_phone = None;
    r.resident_phone_sealed = None;
    r.resident_email = None;
    r.address = None;
    p
}

/// One request, as the public interface shows it.
pub async fn public_one(
    sv: &Services,
    sd: SubdistrictId,
    id: RequestId,
) -> Result<Option<PublicRequest>> {
    let f = PublicFilter {
        subdistrict_id: sd,
        ids: Some(vec![id]),
        items: None,
        from: None,
        to: None,
        open: None,
        limit: 1,
    };
    Ok(public(sv, &f).await?.into_iter().next())
}

/// The request a tracking code names (Open311's token lookup).
pub async fn by_code(sv: &Services, code: &str) -> Result<Option<RequestRecord>> {
    Ok(sv.store.requests().find_by_code(code).await?)
}
