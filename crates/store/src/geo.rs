//! Stored walking networks, their facilities, and the building points the circle
//! analysis weighs.

use crate::audit::{self, AuditEntry};
use crate::db::Sql;
use crate::{Result, Store, WriteCtx};
use chrono::{DateTime, Utc};
use doorstep_domain::audit::{AuditAction, AuditEntity};
use doorstep_domain::{BuildingId, NeighbourhoodId, SubdistrictId};
use serde::Serialize;

/// A stored network's description (without its data).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct NetworkMeta {
    pub id: i64,
    pub subdistrict_id: SubdistrictId,
    pub name: String,
    /// The file it was imported from, or `synthetic`.
    pub source: String,
    pub synthetic: bool,
    pub nodes: i64,
    pub edges: i64,
    /// (south, west, north, east)
    pub bbox: (f64, f64, f64, f64),
    pub created_at: DateTime<Utc>,
}

/// A facility stored with a network.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FacilityRow {
    pub category: String,
    pub name: String,
    pub lat: f64,
    pub lon: f64,
    pub source: String,
}

/// A building with its position and weight, for the circle analysis.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BuildingPoint {
    pub id: BuildingId,
    pub neighbourhood_id: NeighbourhoodId,
    pub estate: String,
    pub number: String,
    pub lat: f64,
    pub lon: f64,
    pub households: i64,
    pub residents: f64,
}

/// Walking networks and building points.
#[derive(Debug, Clone, Copy)]
pub struct GeoStore<'a>(pub(crate) &'a Store);

impl GeoStore<'_> {
    /// Stores a network and its facilities as the subdistrict's current one, replacing any
    /// earlier network (in one transaction).
    pub async fn save_network(
        self,
        meta: &NetworkMeta,
        data: &[u8],
        facilities: &[FacilityRow],
        ctx: &WriteCtx,
    ) -> Result<i64> {
        let mut tx = self.0.begin().await?;
        let old: Vec<i64> = Sql::new("SELECT id FROM geo_networks WHERE subdistrict_id = $1")
            .bind(meta.subdistrict_id)
            .scalars(&mut tx)
            .await?;
        for o in &old {
            Sql::new("DELETE FROM geo_facilities WHERE network_id = $1")
                .bind(*o)
                .execute(&mut tx)
                .await?;
            Sql::new("DELETE FROM geo_networks WHERE id = $1")
                .bind(*o)
                .execute(&mut tx)
                .await?;
        }
        let id: i64 = Sql::new(
            "INSERT INTO geo_networks (subdistrict_id, name, source, synthetic, nodes, edges, \
             south, west, north, east, data, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
        )
        .bind(meta.subdistrict_id)
        .bind(&meta.name)
        .bind(&meta.source)
        .bind(meta.synthetic)
        .bind(meta.nodes)
        .bind(meta.edges)
        .bind(meta.bbox.0)
        .bind(meta.bbox.1)
        .bind(meta.bbox.2)
        .bind(meta.bbox.3)
        .bind(data)
        .bind(ctx.at)
        .scalar(&mut tx)
        .await?;
        for chunk in facilities.chunks(500) {
            let mut q = Sql::new(
                "INSERT INTO geo_facilities (network_id, category, name, lat, lon, source) VALUES ",
            );
            q.push_tuples(chunk, |t, f| {
                t.bind(id)
                    .bind(&f.category)
                    .bind(&f.name)
                    .bind(f.lat)
                    .bind(f.lon)
                    .bind(&f.source);
            });
            q.execute(&mut tx).await?;
        }
        let what = serde_json::json!({
            "name": meta.name, "source": meta.source, "nodes": meta.nodes, "edges": meta.edges,
            "facilities": facilities.len(), "replaced": old,
        });
        let entry = AuditEntry::write(AuditAction::Import, AuditEntity::GeoNetwork, id, what);
        audit::insert(&mut tx, ctx, entry).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The subdistrict's current network: its description and data.
    pub async fn current_network(
        self,
        sd: SubdistrictId,
    ) -> Result<Option<(NetworkMeta, Vec<u8>)>> {
        let Some(r) = Sql::new(
            "SELECT * FROM geo_networks WHERE subdistrict_id = $1 ORDER BY id DESC LIMIT 1",
        )
        .bind(sd)
        .fetch_optional(&mut self.0.db())
        .await?
        else {
            return Ok(None);
        };
        let meta = NetworkMeta {
            id: r.get("id")?,
            subdistrict_id: r.id("subdistrict_id")?,
            name: r.get("name")?,
            source: r.get("source")?,
            synthetic: r.get("synthetic")?,
            nodes: r.get("nodes")?,
            edges: r.get("edges")?,
            bbox: (
                r.get("south")?,
                r.get("west")?,
                r.get("north")?,
                r.get("east")?,
            ),
            created_at: r.get("created_at")?,
        };
        Ok(Some((meta, r.get("data")?)))
    }

    pub async fn facilities(self, network_id: i64) -> Result<Vec<FacilityRow>> {
        Sql::new("SELECT * FROM geo_facilities WHERE network_id = $1 ORDER BY id")
            .bind(network_id)
            .fetch_all(&mut self.0.db())
            .await?
            .iter()
            .map(|r| {
                Ok(FacilityRow {
                    category: r.get("category")?,
                    name: r.get("name")?,
                    lat: r.get("lat")?,
                    lon: r.get("lon")?,
                    source: r.get("source")?,
                })
            })
            .collect()
    }

    /// Active buildings with a location in the subdistrict, with estimated residents
    /// (households × the neighbourhood's people per household, or 2.6 where unknown).
    pub async fn building_points(self, sd: SubdistrictId) -> Result<Vec<BuildingPoint>> {
        Sql::new(
            "SELECT b.id, b.neighbourhood_id, e.name AS estate, b.number, b.lat, b.lon, \
             COALESCE(b.households, 0) AS households, n.households AS nb_households, \
             n.population AS nb_population \
             FROM buildings b JOIN estates e ON e.id = b.estate_id \
             JOIN neighbourhoods n ON n.id = b.neighbourhood_id \
             WHERE b.subdistrict_id = $1 AND b.archived_at IS NULL AND b.lat IS NOT NULL \
             AND b.lon IS NOT NULL ORDER BY b.id",
        )
        .bind(sd)
        .fetch_all(&mut self.0.db())
        .await?
        .iter()
        .map(|r| {
            let households: i64 = r.get("households")?;
            let nh: Option<i64> = r.get("nb_households")?;
            let np: Option<i64> = r.get("nb_population")?;
            let per = match (nh, np) {
                (Some(h), Some(p)) if h > 0 && p > 0 => p as f64 / h as f64,
                _ => 2.6,
            };
            Ok(BuildingPoint {
                id: r.id("id")?,
                neighbourhood_id: r.id("neighbourhood_id")?,
                estate: r.get("estate")?,
                number: r.get("number")?,
                lat: r.get("lat")?,
                lon: r.get("lon")?,
                households,
                residents: households as f64 * per,
            })
        })
        .collect()
    }
}
