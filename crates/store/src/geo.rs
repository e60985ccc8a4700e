//! Stored walking networks and their facilities.

use crate::audit::{AuditEntry, insert_audit};
use crate::{Result, Store, WriteCtx, with_pool, with_tx};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;

/// A stored network's description (without its data).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct NetworkMeta {
    pub id: i64,
    pub subdistrict_id: i64,
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

/// A point (building or station) with its position and weight, for the circle analysis.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BuildingPoint {
    pub id: i64,
    pub neighbourhood_id: i64,
    pub estate: String,
    pub number: String,
    pub lat: f64,
    pub lon: f64,
    pub households: i64,
    pub residents: f64,
}

impl Store {
    /// Stores a network and its facilities as the subdistrict's current one, replacing any
    /// earlier network (in one transaction).
    pub async fn save_network(
        &self,
        meta: &NetworkMeta,
        data: &[u8],
        facilities: &[FacilityRow],
        ctx: &WriteCtx,
    ) -> Result<i64> {
        let id = with_tx!(self, |tx| {
            let old: Vec<i64> =
                sqlx::query_scalar("SELECT id FROM geo_networks WHERE subdistrict_id = $1")
                    .bind(meta.subdistrict_id)
                    .fetch_all(&mut *tx)
                    .await?;
            for o in &old {
                sqlx::query("DELETE FROM geo_facilities WHERE network_id = $1")
                    .bind(o)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM geo_networks WHERE id = $1")
                    .bind(o)
                    .execute(&mut *tx)
                    .await?;
            }
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO geo_networks (subdistrict_id, name, source, synthetic, nodes, edges, south, west, north, east, data, created_at) \
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
            .fetch_one(&mut *tx)
            .await?;
            for f in facilities {
                sqlx::query("INSERT INTO geo_facilities (network_id, category, name, lat, lon, source) VALUES ($1, $2, $3, $4, $5, $6)")
                    .bind(id)
                    .bind(&f.category)
                    .bind(&f.name)
                    .bind(f.lat)
                    .bind(f.lon)
                    .bind(&f.source)
                    .execute(&mut *tx)
                    .await?;
            }
            insert_audit!(
                &mut *tx,
                ctx,
                AuditEntry::write(
                    "import",
                    "geo_network",
                    id,
                    serde_json::json!({
                        "name": meta.name, "source": meta.source, "nodes": meta.nodes, "edges": meta.edges,
                        "facilities": facilities.len(), "replaced": old,
                    })
                )
            );
            id
        });
        Ok(id)
    }

    /// The subdistrict's current network: its description and data.
    pub async fn current_network(
        &self,
        subdistrict_id: i64,
    ) -> Result<Option<(NetworkMeta, Vec<u8>)>> {
        Ok(with_pool!(self, |p| {
            match sqlx::query(
                "SELECT * FROM geo_networks WHERE subdistrict_id = $1 ORDER BY id DESC LIMIT 1",
            )
            .bind(subdistrict_id)
            .fetch_optional(p)
            .await?
            {
                Some(r) => Some((
                    NetworkMeta {
                        id: r.try_get("id")?,
                        subdistrict_id: r.try_get("subdistrict_id")?,
                        name: r.try_get("name")?,
                        source: r.try_get("source")?,
                        synthetic: r.try_get("synthetic")?,
                        nodes: r.try_get("nodes")?,
                        edges: r.try_get("edges")?,
                        bbox: (
                            r.try_get("south")?,
                            r.try_get("west")?,
                            r.try_get("north")?,
                            r.try_get("east")?,
                        ),
                        created_at: r.try_get("created_at")?,
                    },
                    r.try_get::<Vec<u8>, _>("data")?,
                )),
                None => None,
            }
        }))
    }

    pub async fn network_facilities(&self, network_id: i64) -> Result<Vec<FacilityRow>> {
        Ok(with_pool!(self, |p| {
            let rows =
                sqlx::query("SELECT * FROM geo_facilities WHERE network_id = $1 ORDER BY id")
                    .bind(network_id)
                    .fetch_all(p)
                    .await?;
            rows.iter()
                .map(|r| {
                    Ok(FacilityRow {
                        category: r.try_get("category")?,
                        name: r.try_get("name")?,
                        lat: r.try_get("lat")?,
                        lon: r.try_get("lon")?,
                        source: r.try_get("source")?,
                    })
                })
                .collect::<Result<Vec<_>, sqlx::Error>>()?
        }))
    }

    /// Active buildings with a location in the subdistrict, with estimated residents
    /// (households × the neighbourhood's people per household, or 2.6 where unknown).
    pub async fn building_points(&self, subdistrict_id: i64) -> Result<Vec<BuildingPoint>> {
        Ok(with_pool!(self, |p| {
            let rows = sqlx::query(
                "SELECT b.id, b.neighbourhood_id, e.name AS estate, b.number, b.lat, b.lon, \
                 COALESCE(b.households, 0) AS households, n.households AS nb_households, n.population AS nb_population \
                 FROM buildings b JOIN estates e ON e.id = b.estate_id JOIN neighbourhoods n ON n.id = b.neighbourhood_id \
                 WHERE b.subdistrict_id = $1 AND b.archived_at IS NULL AND b.lat IS NOT NULL AND b.lon IS NOT NULL \
                 ORDER BY b.id",
            )
            .bind(subdistrict_id)
            .fetch_all(p)
            .await?;
            rows.iter()
                .map(|r| {
                    let households: i64 = r.try_get("households")?;
                    let nh: Option<i64> = r.try_get("nb_households")?;
                    let np: Option<i64> = r.try_get("nb_population")?;
                    let per = match (nh, np) {
                        (Some(h), Some(p)) if h > 0 && p > 0 => p as f64 / h as f64,
                        _ => 2.6,
                    };
                    Ok(BuildingPoint {
                        id: r.try_get("id")?,
                        neighbourhood_id: r.try_get("neighbourhood_id")?,
                        estate: r.try_get("estate")?,
                        number: r.try_get("number")?,
                        lat: r.try_get("lat")?,
                        lon: r.try_get("lon")?,
                        households,
                        residents: households as f64 * per,
                    })
                })
                .collect::<Result<Vec<_>, sqlx::Error>>()?
        }))
    }

    /// Changes whenever buildings or stations change (for caching analyses).
    pub async fn places_fingerprint(&self, subdistrict_id: i64) -> Result<String> {
        self.version_fingerprint(
            &["buildings", "stations", "neighbourhoods", "partners"],
            subdistrict_id,
        )
        .await
    }

    /// Row counts and version sums of `tables` in a subdistrict: every change bumps a
    /// record's version, so this moves with any change, even within one timestamp.
    pub(crate) async fn version_fingerprint(
        &self,
        tables: &[&str],
        subdistrict_id: i64,
    ) -> Result<String> {
        let mut parts = Vec::new();
        for table in tables {
            let sql = format!(
                "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(version), 0) AS BIGINT) AS v FROM {table} WHERE subdistrict_id = $1"
            );
            let (n, v): (i64, i64) = with_pool!(self, |p| {
                let r = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(subdistrict_id)
                    .fetch_one(p)
                    .await?;
                (r.try_get("n")?, r.try_get("v")?)
            });
            parts.push(format!("{table}:{n}:{v}"));
        }
        Ok(parts.join(","))
    }
}
