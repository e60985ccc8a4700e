//! Candidates for duplicate scoring: the open requests of a neighbourhood received lately.

use super::{RequestStore, open_states};
use crate::Result;
use crate::db::Sql;
use chrono::{DateTime, Utc};
use doorstep_domain::requests::State;
use doorstep_domain::{BuildingId, NeighbourhoodId, RequestId, ServiceItemId};
use serde::Serialize;

/// An open request that may be the same matter as a new one.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DuplicateCandidate {
    pub id: RequestId,
    pub tracking_code: String,
    pub description: String,
    pub service_item_id: Option<ServiceItemId>,
    pub building_id: Option<BuildingId>,
    /// The request's own point, or its building's.
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub state: State,
    pub version: i64,
    pub created_at: DateTime<Utc>,
}

impl RequestStore<'_> {
    /// Open, unmerged requests of a neighbourhood received since `since`, newest first
    /// (at most `limit`), for duplicate scoring.
    pub async fn duplicate_candidates(
        self,
        nb: NeighbourhoodId,
        since: DateTime<Utc>,
        exclude: Option<RequestId>,
        limit: i64,
    ) -> Result<Vec<DuplicateCandidate>> {
        let mut q = Sql::new(
            "SELECT r.id, r.tracking_code, r.description, r.service_item_id, r.building_id, \
             r.state, r.version, r.created_at, COALESCE(r.lat, b.lat) AS lat, \
             COALESCE(r.lon, b.lon) AS lon \
             FROM requests r LEFT JOIN buildings b ON b.id = r.building_id \
             WHERE r.neighbourhood_id = $1 AND r.created_at >= $2 AND r.merged_into IS NULL \
             AND r.state",
        )
        .bind(nb)
        .bind(since);
        q.push(&open_states());
        if let Some(x) = exclude {
            q.push(" AND r.id <> ").push_bind(x);
        }
        q.push(" ORDER BY r.created_at DESC LIMIT ")
            .push_bind(limit);
        q.fetch_all(&mut self.0.db())
            .await?
            .iter()
            .map(|r| {
                Ok(DuplicateCandidate {
                    id: r.id("id")?,
                    tracking_code: r.get("tracking_code")?,
                    description: r.get("description")?,
                    service_item_id: r.opt_id("service_item_id")?,
                    building_id: r.opt_id("building_id")?,
                    lat: r.get("lat")?,
                    lon: r.get("lon")?,
                    state: r.code("state")?,
                    version: r.get("version")?,
                    created_at: r.get("created_at")?,
                })
            })
            .collect()
    }
}
