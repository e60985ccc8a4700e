//! Likely duplicates of a matter: open requests of the last 14 days at the same building
//! or within 50 m, in similar words (`doorstep_domain::duplicates`), best first.

use crate::{Caller, Error, Result, Services};
use doorstep_domain::duplicates::{Spot, WINDOW_DAYS, score};
use doorstep_domain::{BuildingId, Entity, NeighbourhoodId, RequestId, ServiceItemId};
use doorstep_store::DuplicateCandidate;

/// A matter to find duplicates of.
#[derive(Debug, Clone, Default)]
pub struct Matter {
    /// Admins name it; staff always ask about their own.
    pub neighbourhood_id: Option<NeighbourhoodId>,
    pub building_id: Option<BuildingId>,
    /// (lat, lon)
    pub point: Option<(f64, f64)>,
    pub description: String,
    pub service_item_id: Option<ServiceItemId>,
    /// A request not to offer (the one being looked at).
    pub exclude: Option<RequestId>,
}

/// At most five likely duplicates, best first.
pub async fn find(
    sv: &Services,
    who: &Caller,
    m: &Matter,
) -> Result<Vec<(DuplicateCandidate, f64)>> {
    let nb = who
        .actor
        .request_neighbourhood(m.neighbourhood_id)
        .map_err(|_| Error::Forbidden)?
        .ok_or_else(|| Error::validation("neighbourhood_id", "required"))?;
    match sv
        .store
        .places()
        .find(Entity::Neighbourhood, nb.get())
        .await?
    {
        Some(n) if n.subdistrict_id == who.actor.subdistrict_id => {}
        _ => return Err(Error::NotFound),
    }
    candidates(sv, nb, m).await
}

/// The scoring, for a neighbourhood already allowed.
pub(crate) async fn candidates(
    sv: &Services,
    nb: NeighbourhoodId,
    m: &Matter,
) -> Result<Vec<(DuplicateCandidate, f64)>> {
    let point = match (m.point, m.building_id) {
        (Some(p), _) => Some(p),
        (None, Some(b)) => sv.store.places().building_point(b).await?,
        (None, None) => None,
    };
    let spot = Spot {
        building_id: m.building_id.map(|b| b.get()),
        point,
    };
    if m.description.trim().is_empty() || (spot.building_id.is_none() && spot.point.is_none()) {
        return Ok(Vec::new());
    }
    let since = sv.now() - chrono::Duration::days(WINDOW_DAYS);
    let cands = sv
        .store
        .requests()
        .duplicate_candidates(nb, since, m.exclude, 500)
        .await?;
    let item = m.service_item_id.map(|i| i.get());
    let mut hits: Vec<(DuplicateCandidate, f64)> = cands
        .into_iter()
        .filter_map(|c| {
            let other = Spot {
                building_id: c.building_id.map(|b| b.get()),
                point: c.lat.zip(c.lon),
            };
            let their_item = c.service_item_id.map(|i| i.get());
            score(
                &m.description,
                &spot,
                item,
                &c.description,
                &other,
                their_item,
            )
            .map(|s| (c, s))
        })
        .collect();
    hits.sort_by(|a, b| {
        b.1.total_cmp(&a.1)
            .then(b.0.created_at.cmp(&a.0.created_at))
    });
    hits.truncate(5);
    Ok(hits)
}
