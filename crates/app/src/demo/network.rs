//! The demo's street network: a synthetic grid over Huamu (stated as synthetic in the
//! UI) with invented facilities; every station counts as a community-service facility.

use super::data::DEMO_FACILITIES;
use super::demo_ctx;
use anyhow::bail;
use chrono::{DateTime, Utc};
use doorstep_store::{FacilityRow, NetworkMeta, Store};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

pub async fn add_network(store: &Store, now: DateTime<Utc>) -> anyhow::Result<()> {
    let Some(sd) = store.places().first_subdistrict().await? else {
        bail!("no subdistrict")
    };
    let sd = sd.subdistrict_id;
    if store.geo().current_network(sd).await?.is_some() {
        return Ok(());
    }
    let (lat0, lon0, spacing): (f64, f64, f64) = (31.2005, 121.5305, 70.0);
    let rows = ((31.2295 - lat0) * 111_195.0 / spacing) as usize + 1;
    let cols = ((121.5695 - lon0) * 111_195.0 * lat0.to_radians().cos() / spacing) as usize + 1;
    let net = doorstep_geo::synth::grid(lat0, lon0, rows, cols, spacing, 60, 2026);
    let mut rng = StdRng::seed_from_u64(15);
    let mut facilities = Vec::new();
    for (cat, label, n) in DEMO_FACILITIES {
        for i in 1..=*n {
            let v = rng.random_range(0..net.node_count());
            facilities.push(FacilityRow {
                category: cat.code().into(),
                name: format!("演示·{label}{i}"),
                lat: net.lat[v],
                lon: net.lon[v],
                source: format!("demo:{}:{i}", cat.code()),
            });
        }
    }
    let meta = NetworkMeta {
        id: 0,
        subdistrict_id: sd,
        name: "花木演示路网（合成）".into(),
        source: "synthetic".into(),
        synthetic: true,
        nodes: net.node_count() as i64,
        edges: net.edge_count() as i64,
        bbox: net.bbox().unwrap_or_default(),
        created_at: now,
    };
    let ctx = demo_ctx(Some(sd), now);
    store
        .geo()
        .save_network(&meta, &net.to_bytes(), &facilities, &ctx)
        .await?;
    Ok(())
}
