//! Counts and areas over the places in a scope.

use super::{PlaceStore, push_scope};
use crate::Result;
use crate::db::Sql;
use doorstep_domain::{Entity, Scope};
use serde::Serialize;

/// Figures over the places in a scope.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PlaceTotals {
    pub communities: i64,
    pub neighbourhoods: i64,
    pub estates: i64,
    pub buildings: i64,
    pub households: i64,
    pub blocks: i64,
    pub stations: i64,
    pub rooms: i64,
    pub partners: i64,
    pub office_m2: f64,
    pub service_m2: f64,
}

/// Office area against service area of one station (办公空间最小化、服务空间最大化).
#[derive(Debug, Clone, Default, Serialize)]
pub struct RoomAreas {
    pub station_id: i64,
    pub rooms: i64,
    pub office_m2: f64,
    pub service_m2: f64,
}

const AREAS: &str = "COALESCE(SUM(CASE WHEN is_office THEN area_m2 ELSE 0.0 END), 0.0) AS office, \
     COALESCE(SUM(CASE WHEN is_office THEN 0.0 ELSE area_m2 END), 0.0) AS service";

impl PlaceStore<'_> {
    /// Counts and areas over the active places in a scope.
    pub async fn totals(self, scope: Scope) -> Result<PlaceTotals> {
        let mut t = PlaceTotals::default();
        let subdistrict_wide = matches!(scope, Scope::Subdistrict(_));
        for entity in [
            Entity::Community,
            Entity::Neighbourhood,
            Entity::Estate,
            Entity::Building,
            Entity::Block,
            Entity::Station,
            Entity::Room,
            Entity::Partner,
        ] {
            let extra = match entity {
                Entity::Building => ", CAST(COALESCE(SUM(households), 0) AS BIGINT) AS households",
                Entity::Room => AREAS,
                _ => "",
            };
            let sep = if extra.is_empty() || extra.starts_with(',') {
                ""
            } else {
                ", "
            };
            let mut q = Sql::new(format!(
                "SELECT COUNT(*) AS n{sep}{extra} FROM {} WHERE ",
                entity.table()
            ));
            push_scope(&mut q, entity, scope);
            q.push(" AND archived_at IS NULL");
            let row = q.fetch_one(&mut self.0.db()).await?;
            let n: i64 = row.get("n")?;
            match entity {
                // Communities sit above neighbourhoods: counted for a whole subdistrict only.
                Entity::Community if subdistrict_wide => t.communities = n,
                Entity::Neighbourhood => t.neighbourhoods = n,
                Entity::Estate => t.estates = n,
                Entity::Building => {
                    t.buildings = n;
                    t.households = row.get("households")?;
                }
                Entity::Block => t.blocks = n,
                Entity::Station => t.stations = n,
                Entity::Room => {
                    t.rooms = n;
                    t.office_m2 = row.get("office")?;
                    t.service_m2 = row.get("service")?;
                }
                Entity::Partner if subdistrict_wide => t.partners = n,
                _ => {}
            }
        }
        Ok(t)
    }

    /// Office and service area of every active station in a scope.
    pub async fn room_areas(self, scope: Scope) -> Result<Vec<RoomAreas>> {
        let mut q = Sql::new(format!(
            "SELECT station_id, COUNT(*) AS n, {AREAS} FROM rooms WHERE "
        ));
        push_scope(&mut q, Entity::Room, scope);
        q.push(" AND archived_at IS NULL GROUP BY station_id ORDER BY station_id");
        q.fetch_all(&mut self.0.db())
            .await?
            .iter()
            .map(|r| {
                Ok(RoomAreas {
                    station_id: r.get("station_id")?,
                    rooms: r.get("n")?,
                    office_m2: r.get("office")?,
                    service_m2: r.get("service")?,
                })
            })
            .collect()
    }
}
