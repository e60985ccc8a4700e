//! The register read by buildings: a block or a neighbourhood has tens of buildings but
//! thousands of households and residents, so these join through the households instead of
//! binding one parameter per household or resident (sqlx-sqlite's binding cost grows with
//! the square of a statement's parameters; PostgreSQL caps them at 65,535).

use super::{
    CareTagRecord, Household, RegisterStore, Resident, read_household, read_resident, read_tag,
};
use crate::Result;
use crate::db::Sql;
use chrono::{DateTime, Utc};
use doorstep_domain::{BuildingId, HouseholdId};

impl RegisterStore<'_> {
    /// The residents (still living there) of the households in `buildings`.
    pub async fn residents_in(self, buildings: &[BuildingId]) -> Result<Vec<Resident>> {
        if buildings.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = Sql::new(
            "SELECT r.* FROM residents r JOIN households h ON h.id = r.household_id \
             WHERE r.archived_at IS NULL AND h.building_id IN (",
        );
        q.push_binds(buildings.iter().copied())
            .push(") ORDER BY r.household_id, r.id");
        q.fetch_all(&mut self.0.db())
            .await?
            .iter()
            .map(read_resident)
            .collect()
    }

    /// The tags holding now of the residents (still living there) in `buildings`, each
    /// with the resident's household.
    pub async fn tags_in(
        self,
        buildings: &[BuildingId],
    ) -> Result<Vec<(HouseholdId, CareTagRecord)>> {
        if buildings.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = Sql::new(
            "SELECT t.*, r.household_id AS home FROM care_tags t \
             JOIN residents r ON r.id = t.resident_id JOIN households h ON h.id = r.household_id \
             WHERE t.ended_on IS NULL AND r.archived_at IS NULL AND h.building_id IN (",
        );
        q.push_binds(buildings.iter().copied())
            .push(") ORDER BY t.resident_id, t.started_on, t.id");
        q.fetch_all(&mut self.0.db())
            .await?
            .iter()
            .map(|r| Ok((r.id("home")?, read_tag(r)?)))
            .collect()
    }

    /// The households (still in use) in `buildings`, each with how many people live there,
    /// by building, unit and room.
    pub async fn households_sized_in(
        self,
        buildings: &[BuildingId],
    ) -> Result<Vec<(Household, i64)>> {
        if buildings.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = Sql::new(
            "SELECT h.*, (SELECT COUNT(*) FROM residents r WHERE r.household_id = h.id \
             AND r.archived_at IS NULL) AS people FROM households h \
             WHERE h.archived_at IS NULL AND h.building_id IN (",
        );
        q.push_binds(buildings.iter().copied())
            .push(") ORDER BY h.building_id, h.unit, h.room");
        q.fetch_all(&mut self.0.db())
            .await?
            .iter()
            .map(|r| Ok((read_household(r)?, r.get("people")?)))
            .collect()
    }

    /// The last visit to each household in `buildings` that was ever visited.
    pub async fn last_visits_in(
        self,
        buildings: &[BuildingId],
    ) -> Result<Vec<(HouseholdId, DateTime<Utc>)>> {
        if buildings.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = Sql::new(
            "SELECT v.household_id, MAX(v.visited_at) AS last FROM visits v \
             JOIN households h ON h.id = v.household_id WHERE h.building_id IN (",
        );
        q.push_binds(buildings.iter().copied())
            .push(") GROUP BY v.household_id");
        q.fetch_all(&mut self.0.db())
            .await?
            .iter()
            .map(|r| Ok((r.id("household_id")?, r.get("last")?)))
            .collect()
    }
}
