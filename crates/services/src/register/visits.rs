//! Door-to-door visits (穿街走户): logged in under a minute on a phone, sent again safely
//! when the stairwell had no signal (the phone makes the key), and a finding turned into
//! a request in the same step, owned by the visiting worker and linked to the visit.

use crate::{Caller, Error, Result, Services, allowed};
use chrono::{DateTime, Utc};
use doorstep_domain::people::VisitKind;
use doorstep_domain::{FieldErrors, HouseholdId};
use doorstep_store::{Household, NewVisit, RequestRecord, Visit};

/// What the visit form sends.
#[derive(Debug, Clone, Default)]
pub struct VisitInput {
    pub household_id: Option<HouseholdId>,
    pub kind: Option<String>,
    pub met: Option<String>,
    pub notes: Option<String>,
    /// What residents said that needs doing: it becomes a request.
    pub finding: Option<String>,
    /// When, if the phone kept it while offline (else now).
    pub visited_at: Option<DateTime<Utc>>,
    /// Made on the phone, so that a resend is recognised.
    pub client_key: Option<String>,
}

fn text(v: &Option<String>, max: usize, field: &str, e: &mut FieldErrors) -> Option<String> {
    let t = v.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
    // Notes and findings may span lines; nothing takes control characters.
    doorstep_domain::fields::check_text(e, field, t, max, true);
    Some(t.to_string())
}

/// How far back a visit may be logged (one kept on a phone offline for days included).
pub const MAX_DAYS_BACK: i64 = 30;

/// A visit's input, checked.
struct Checked {
    /// Logged too far back (refused, unless it is the resend of a visit stored in time).
    too_old: bool,
    kind: VisitKind,
    key: String,
    met: Option<String>,
    notes: Option<String>,
    finding: Option<String>,
    at: DateTime<Utc>,
}

fn checked(input: &VisitInput, now: DateTime<Utc>) -> Result<Checked> {
    let mut e = FieldErrors::new();
    let household = input.household_id;
    if household.is_none() {
        e.add("household_id", "required");
    }
    let kind = match input.kind.as_deref() {
        None | Some("") => {
            e.add("kind", "required");
            VisitKind::Routine
        }
        Some(k) => VisitKind::parse(k).unwrap_or_else(|| {
            e.add("kind", "invalid_choice");
            VisitKind::Routine
        }),
    };
    let key = input.client_key.as_deref().map(str::trim).filter(|k| {
        (8..=64).contains(&k.len()) && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    });
    if key.is_none() {
        e.add("client_key", "required");
    }
    let met = text(&input.met, 100, "met", &mut e);
    let notes = text(&input.notes, 2000, "notes", &mut e);
    let finding = text(&input.finding, 2000, "finding", &mut e);
    // A visit kept on the phone keeps its time, but not a time to come; nor one so far
    // back that it would rewrite the block's record (coverage, the due list).
    let too_old = input
        .visited_at
        .is_some_and(|t| t < now - chrono::Duration::days(MAX_DAYS_BACK));
    let at = input.visited_at.filter(|t| *t <= now).unwrap_or(now);
    let (Some(_), Some(key)) = (household, key) else {
        return Err(e.into());
    };
    e.into_result(())?;
    Ok(Checked {
        too_old,
        kind,
        key: key.to_string(),
        met,
        notes,
        finding,
        at,
    })
}

/// A visit as logged: `new` is false for a resend of a visit already logged under the
/// same client key (the first answer stands, with its request).
#[derive(Debug, Clone)]
pub struct Logged {
    pub visit: Visit,
    pub request: Option<RequestRecord>,
    pub new: bool,
}

/// The household `id`, if the caller may visit it (its block's worker or the secretary).
async fn in_reach(sv: &Services, who: &Caller, id: HouseholdId) -> Result<Household> {
    let h = sv
        .store
        .register()
        .find_household(id)
        .await?
        .ok_or_else(|| Error::validation("household_id", "invalid_reference"))?;
    allowed(
        who.actor
            .may_know_block(&super::household_place(sv, &h).await?.1),
    )?;
    Ok(h)
}

/// Logs a visit (once per client key) and turns its finding into a request.
pub async fn log(sv: &Services, who: &Caller, input: &VisitInput) -> Result<Logged> {
    // Who may visit the household is settled before the input is judged, so that the
    // answers tell an outsider nothing.
    super::keeper(who)?;
    let h = match input.household_id {
        Some(id) => Some(in_reach(sv, who, id).await?),
        None => None,
    };
    let c = checked(input, sv.now())?;
    if c.too_old && sv.store.register().visit_by_key(&c.key).await?.is_none() {
        return Err(Error::validation("visited_at", "too_old"));
    }
    let (key, finding) = (c.key, c.finding);
    let h = h.ok_or_else(|| Error::validation("household_id", "required"))?;
    // The finding is checked as a request before the visit is stored, so that a visit is
    // not kept without the request its finding should have made.
    if let Some(f) = &finding {
        check_finding(who, &finding_body(&h, f))?;
    }
    let ctx = sv.ctx(who);
    let v = NewVisit {
        household_id: h.id,
        worker_id: who.actor.account_id,
        kind: c.kind,
        met: c.met,
        notes: c.notes,
        said: finding,
        visited_at: c.at,
        client_key: key,
    };
    let (visit, new) = sv.store.register().record_visit(&v, &ctx).await?;
    if !new && (visit.worker_id != who.actor.account_id || visit.household_id != h.id) {
        // Someone else's key (or another visit's): not a resend of this one.
        return Err(Error::Conflict {
            code: "duplicate",
            fields: vec!["client_key".into()],
            current_version: None,
        });
    }
    // A resend: the first answer stands, with its request; and if that request could not
    // be made the first time, the resend makes it from what was stored.
    let request = match (visit.request_id, visit.said.clone()) {
        (Some(r), _) => sv.store.requests().find(r).await?,
        (None, Some(said)) => {
            let r = crate::requests::intake(sv, who, &finding_body(&h, &said)).await?;
            sv.store
                .register()
                .link_visit_request(visit.id, r.id)
                .await?;
            Some(r)
        }
        (None, None) => None,
    };
    let visit = Visit {
        request_id: request.as_ref().map(|r| r.id),
        ..visit
    };
    Ok(Logged {
        visit,
        request,
        new,
    })
}

/// The checks intake makes of what a worker sends, made before anything is stored.
fn check_finding(who: &Caller, body: &serde_json::Map<String, serde_json::Value>) -> Result<()> {
    if !who.actor.may_take_requests() {
        return Err(Error::Forbidden);
    }
    who.actor
        .request_neighbourhood(None)
        .map_err(|_| Error::Forbidden)?
        .ok_or_else(|| Error::validation("neighbourhood_id", "required"))?;
    doorstep_domain::validate(crate::requests::REQUEST_FIELDS, body, None, &[])?;
    Ok(())
}

/// What residents said at the door, as the intake of a request owned by the visiting
/// worker (channel `visit`, never published).
fn finding_body(
    h: &doorstep_store::Household,
    finding: &str,
) -> serde_json::Map<String, serde_json::Value> {
    let mut body = serde_json::Map::new();
    body.insert("channel".into(), "visit".into());
    body.insert("kind".into(), "help".into());
    body.insert("description".into(), finding.into());
    body.insert("building_id".into(), h.building_id.get().into());
    body.insert("address".into(), h.room_label().into());
    body
}
