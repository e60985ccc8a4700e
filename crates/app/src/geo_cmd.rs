//! `doorstep geo import`: an OpenStreetMap extract into the subdistrict's walking network.

use crate::config::Config;
use anyhow::{Context, bail};
use doorstep_store::{FacilityRow, NetworkMeta, WriteCtx};
use std::path::Path;

/// Parses `south,west,north,east`.
pub fn parse_bbox(s: &str) -> anyhow::Result<(f64, f64, f64, f64)> {
    let v: Vec<f64> = s
        .split(',')
        .map(|x| x.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .with_context(|| format!("--bbox `{s}`: expected four numbers south,west,north,east"))?;
    let [south, west, north, east] = v[..] else {
        bail!(
            "--bbox `{s}`: expected four numbers south,west,north,east, got {}",
            v.len()
        );
    };
    if !(-90.0..=90.0).contains(&south) || !(-90.0..=90.0).contains(&north) || south >= north {
        bail!("--bbox `{s}`: south must be below north, both within ±90");
    }
    if !(-180.0..=180.0).contains(&west) || !(-180.0..=180.0).contains(&east) || west >= east {
        bail!("--bbox `{s}`: west must be below east, both within ±180");
    }
    Ok((south, west, north, east))
}

pub async fn import(
    config: &Config,
    file: &Path,
    bbox: Option<&str>,
    name: Option<String>,
) -> anyhow::Result<()> {
    let bbox = bbox.map(parse_bbox).transpose()?;
    let data = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let started = doorstep_domain::clock::Stopwatch::start();
    let imp = tokio::task::spawn_blocking(move || doorstep_geo::osm::import(&data, bbox))
        .await?
        .with_context(|| format!("{} is not a usable OpenStreetMap extract", file.display()))?;
    let parsed = started.elapsed();
    let store = crate::startup::open_store(config).await?;
    store.migrate().await?;
    let Some(sd) = store.places().first_subdistrict().await? else {
        bail!(
            "the database has no subdistrict yet: run `doorstep serve` and finish the setup first"
        );
    };
    let net = &imp.network;
    let meta = NetworkMeta {
        id: 0,
        subdistrict_id: sd.subdistrict_id,
        name: name.unwrap_or_else(|| {
            file.file_name()
                .map(|f| f.to_string_lossy().to_string())
                .unwrap_or_default()
        }),
        source: file.display().to_string(),
        synthetic: false,
        nodes: net.node_count() as i64,
        edges: net.edge_count() as i64,
        bbox: net.bbox().unwrap_or_default(),
        created_at: doorstep_domain::Clock::now(&doorstep_domain::SystemClock),
    };
    let facilities = facility_rows(&imp.facilities);
    let ctx = WriteCtx::system("cli", Some(sd.subdistrict_id), meta.created_at);
    let bytes = net.to_bytes();
    store
        .geo()
        .save_network(&meta, &bytes, &facilities, &ctx)
        .await?;
    println!(
        "Imported {} into {}: {}; {:.1} MB stored; read in {:.2} s.",
        file.display(),
        sd.title(),
        summary(&imp.stats),
        bytes.len() as f64 / 1e6,
        parsed.as_secs_f64()
    );
    for c in doorstep_geo::Category::ALL {
        let n = imp.facilities.iter().filter(|f| f.category == c).count();
        println!("  {:<18} {n}", c.code());
    }
    Ok(())
}

fn facility_rows(facilities: &[doorstep_geo::Facility]) -> Vec<FacilityRow> {
    facilities
        .iter()
        .map(|f| FacilityRow {
            category: f.category.code().into(),
            name: f.name.clone(),
            lat: f.lat,
            lon: f.lon,
            source: f.source.clone(),
        })
        .collect()
}

fn summary(s: &doorstep_geo::osm::ImportStats) -> String {
    format!(
        "{} walkable ways of {}, {} nodes read; network {} nodes and {} edges (largest component of {} nodes), {} facilities",
        s.walkable_ways,
        s.ways_read,
        s.nodes_read,
        s.graph_nodes,
        s.graph_edges,
        s.graph_nodes_before_component,
        s.facilities,
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn bboxes_are_checked() {
        assert_eq!(
            super::parse_bbox("31.19,121.52,31.24,121.58").unwrap(),
            (31.19, 121.52, 31.24, 121.58)
        );
        assert!(super::parse_bbox("31.24,121.52,31.19,121.58").is_err());
        assert!(super::parse_bbox("1,2,3").is_err());
        assert!(super::parse_bbox("a,b,c,d").is_err());
    }
}
