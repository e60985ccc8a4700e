//! The register seen from above: per neighbourhood, residents holding each tag now and
//! how many households were visited in the last 30 and 90 days (coverage).

use super::RegisterStore;
use crate::Result;
use crate::db::Sql;
use chrono::{DateTime, Duration, Utc};
use doorstep_domain::{NeighbourhoodId, SubdistrictId};
use std::collections::BTreeMap;

/// One neighbourhood's care figures.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CareOverview {
    pub neighbourhood_id: NeighbourhoodId,
    pub households: i64,
    pub visited_30: i64,
    pub visited_90: i64,
    /// Residents holding each tag now.
    pub counts: BTreeMap<String, i64>,
}

impl RegisterStore<'_> {
    /// Care figures for the subdistrict's neighbourhoods (or one), as of `now`.
    pub async fn overview(
        self,
        sd: SubdistrictId,
        nb: Option<NeighbourhoodId>,
        now: DateTime<Utc>,
    ) -> Result<Vec<CareOverview>> {
        let mut cover = Sql::new(
            "SELECT h.neighbourhood_id, COUNT(*) AS households, \
             SUM(CASE WHEN v.last >= $2 THEN 1 ELSE 0 END) AS v30, \
             SUM(CASE WHEN v.last >= $3 THEN 1 ELSE 0 END) AS v90 \
             FROM households h LEFT JOIN (SELECT household_id, MAX(visited_at) AS last \
             FROM visits WHERE subdistrict_id = $1 GROUP BY household_id) v \
             ON v.household_id = h.id WHERE h.subdistrict_id = $1 AND h.archived_at IS NULL",
        )
        .bind(sd)
        .bind(now - Duration::days(30))
        .bind(now - Duration::days(90));
        let mut counts = Sql::new(
            "SELECT r.neighbourhood_id, t.tag, COUNT(DISTINCT t.resident_id) AS n \
             FROM care_tags t JOIN residents r ON r.id = t.resident_id \
             WHERE r.subdistrict_id = $1 AND t.ended_on IS NULL AND r.archived_at IS NULL",
        )
        .bind(sd);
        if let Some(nb) = nb {
            cover.push(" AND h.neighbourhood_id = ").push_bind(nb);
            counts.push(" AND r.neighbourhood_id = ").push_bind(nb);
        }
        cover.push(" GROUP BY h.neighbourhood_id ORDER BY h.neighbourhood_id");
        counts.push(" GROUP BY r.neighbourhood_id, t.tag");
        let mut out: BTreeMap<NeighbourhoodId, CareOverview> = BTreeMap::new();
        for r in cover.fetch_all(&mut self.0.db()).await? {
            let id: NeighbourhoodId = r.id("neighbourhood_id")?;
            out.insert(
                id,
                CareOverview {
                    neighbourhood_id: id,
                    households: r.get("households")?,
                    visited_30: r.get::<Option<i64>>("v30")?.unwrap_or(0),
                    visited_90: r.get::<Option<i64>>("v90")?.unwrap_or(0),
                    counts: BTreeMap::new(),
                },
            );
        }
        for r in counts.fetch_all(&mut self.0.db()).await? {
            let id: NeighbourhoodId = r.id("neighbourhood_id")?;
            let o = out.entry(id).or_insert_with(|| CareOverview {
                neighbourhood_id: id,
                households: 0,
                visited_30: 0,
                visited_90: 0,
                counts: BTreeMap::new(),
            });
            o.counts.insert(r.get("tag")?, r.get("n")?);
        }
        Ok(out.into_values().collect())
    }
}
