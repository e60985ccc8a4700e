//! The register read by buildings: a block or a neighbourhood has tens of buildings but
//! thousands of households and residents, so these join through the households instead of
//! binding one parameter per household or resident (sqlx-sqlite's binding cost grows with
//! the square of a statement's parameters; PostgreSQL caps them at 65,535).

use super::{
    CareTagRecord, Household, RegisterStore, Resident, read_household, read_resident, read_tag,
};
use crate::Result;
use crate::db::{DbRow, Sql};
use chrono::{DateTime, Utc};
use doorstep_domain::{BuildingId, HouseholdId};

/// A building's households and people, for a block page's list of buildings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuildingCount {
    pub building_id: BuildingId,
    pub households: i64,
    pub people: i64,
}

/// A tag holding now, with where its holder lives and when that home was last visited
/// (what counts and the due list are made of).
#[derive(Debug, Clone, PartialEq)]
pub struct TagAtHome {
    pub tag: CareTagRecord,
    pub household_id: HouseholdId,
    pub building_id: BuildingId,
    /// "1单元502室".
    pub room_label: String,
    pub last_visit: Option<DateTime<Utc>>,
}

/// A household as a building's page lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct HouseholdSummary {
    pub household: Household,
    /// People living there.
    pub people: i64,
    pub last_visit: Option<DateTime<Utc>>,
}

impl RegisterStore<'_> {
    /// The rows of `head … building_id IN (buildings) tail`; none for no buildings.
    async fn in_buildings(
        self,
        head: &str,
        buildings: &[BuildingId],
        tail: &str,
    ) -> Result<Vec<DbRow>> {
        if buildings.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = Sql::new(head);
        q.push_binds(buildings.iter().copied()).push(tail);
        q.fetch_all(&mut self.0.db()).await
    }

    /// The residents (still living there) of the households in `buildings`.
    pub async fn residents_in(self, buildings: &[BuildingId]) -> Result<Vec<Resident>> {
        self.in_buildings(
            "SELECT r.* FROM residents r JOIN households h ON h.id = r.household_id \
             WHERE r.archived_at IS NULL AND h.building_id IN (",
            buildings,
            ") ORDER BY r.household_id, r.id",
        )
        .await?
        .iter()
        .map(read_resident)
        .collect()
    }

    /// Households and people per building of `buildings` (buildings without households
    /// are left out).
    pub async fn building_counts(self, buildings: &[BuildingId]) -> Result<Vec<BuildingCount>> {
        self.in_buildings(
            "SELECT h.building_id, COUNT(DISTINCT h.id) AS households, COUNT(r.id) AS people \
             FROM households h LEFT JOIN residents r ON r.household_id = h.id \
             AND r.archived_at IS NULL WHERE h.archived_at IS NULL AND h.building_id IN (",
            buildings,
            ") GROUP BY h.building_id",
        )
        .await?
        .iter()
        .map(|r| {
            Ok(BuildingCount {
                building_id: r.id("building_id")?,
                households: r.get("households")?,
                people: r.get("people")?,
            })
        })
        .collect()
    }

    /// The tags holding now of the residents (still living there) in `buildings`, each
    /// with its holder's home and that home's last visit.
    pub async fn tags_at_home_in(self, buildings: &[BuildingId]) -> Result<Vec<TagAtHome>> {
        self.in_buildings(
            "SELECT t.*, h.id AS home, h.building_id, h.unit, h.room, \
             (SELECT MAX(v.visited_at) FROM visits v WHERE v.household_id = h.id) AS last_visit \
             FROM care_tags t JOIN residents r ON r.id = t.resident_id \
             JOIN households h ON h.id = r.household_id \
             WHERE t.ended_on IS NULL AND r.archived_at IS NULL AND h.building_id IN (",
            buildings,
            ") ORDER BY t.resident_id, t.started_on, t.id",
        )
        .await?
        .iter()
        .map(|r| {
            Ok(TagAtHome {
                tag: read_tag(r)?,
                household_id: r.id("home")?,
                building_id: r.id("building_id")?,
                room_label: super::room_label(&r.get::<String>("unit")?, &r.get::<String>("room")?),
                last_visit: r.get("last_visit")?,
            })
        })
        .collect()
    }

    /// The households (still in use) in `buildings` with how many people live in each and
    /// when it was last visited, by building, unit and room: one row per household, for a
    /// block page of thousands.
    pub async fn household_summaries_in(
        self,
        buildings: &[BuildingId],
    ) -> Result<Vec<HouseholdSummary>> {
        self.in_buildings(
            "SELECT h.*, (SELECT COUNT(*) FROM residents r WHERE r.household_id = h.id \
             AND r.archived_at IS NULL) AS people, (SELECT MAX(v.visited_at) FROM visits v \
             WHERE v.household_id = h.id) AS last_visit FROM households h \
             WHERE h.archived_at IS NULL AND h.building_id IN (",
            buildings,
            ") ORDER BY h.building_id, h.unit, h.room",
        )
        .await?
        .iter()
        .map(|r| {
            Ok(HouseholdSummary {
                household: read_household(r)?,
                people: r.get("people")?,
                last_visit: r.get("last_visit")?,
            })
        })
        .collect()
    }
}
