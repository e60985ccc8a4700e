//! `doorstep bench geo`: the 15-minute circle's phases — parse, graph build, snapping,
//! accessibility (all nodes × 7 categories), siting — with time and peak memory per
//! phase, optionally beside pandana on the same graph.

use super::Phases;
use anyhow::{Context, bail};
use doorstep_geo::access::greedy_sites;
use doorstep_geo::snap::Snapper;
use doorstep_geo::{Accessibility, Category, Network};
use serde_json::json;
use std::path::{Path, PathBuf};

/// Deterministic pseudo-random numbers (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Facilities per 1,000 network nodes, by category, for synthetic networks (roughly a
/// dense Chinese city's: markets and shops most, elderly care least).
const SYNTHETIC_DENSITY: [(Category, f64); 7] = [
    (Category::ElderlyCare, 1.0),
    (Category::Health, 1.5),
    (Category::Education, 1.5),
    (Category::ChildCare, 1.2),
    (Category::Market, 3.0),
    (Category::CultureSport, 2.0),
    (Category::CommunityService, 1.0),
];

pub struct GeoBench {
    pub file: Option<PathBuf>,
    pub synthetic_nodes: Option<usize>,
    pub points: usize,
    pub speed: f64,
    pub pandana: bool,
}

/// Facilities as (category, lat, lon).
type Facilities = Vec<(Category, f64, f64)>;

/// The network to measure: an extract's (parsed and built as phases) or a synthetic
/// grid with facilities at a dense city's rates; with its facilities and a label.
fn network(
    b: &GeoBench,
    phases: &mut Phases,
    rng: &mut Rng,
) -> anyhow::Result<(Network, Facilities, String)> {
    match (&b.file, b.synthetic_nodes) {
        (Some(file), None) => {
            let data =
                std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
            let (raw, _) = phases.run("parse", || doorstep_geo::osm::read(&data, None));
            let raw = raw.with_context(|| {
                format!("{} is not a usable OpenStreetMap extract", file.display())
            })?;
            let (imp, _) = phases.run("graph_build", || raw.build());
            let imp = imp?;
            let fac = imp
                .facilities
                .iter()
                .map(|f| (f.category, f.lat, f.lon))
                .collect();
            Ok((imp.network, fac, file.display().to_string()))
        }
        (None, Some(n)) => {
            let side = (n as f64).sqrt().ceil() as usize;
            let (net, _) = phases.run("graph_build", || {
                doorstep_geo::synth::grid(31.0, 121.0, side, side, 80.0, 30, 2026)
            });
            let mut fac = Vec::new();
            for (c, per_k) in SYNTHETIC_DENSITY {
                for _ in 0..((net.node_count() as f64 * per_k / 1000.0) as usize).max(1) {
                    let v = (rng.next() % net.node_count() as u64) as usize;
                    fac.push((c, net.lat[v], net.lon[v]));
                }
            }
            let label = format!("synthetic grid of {} nodes", net.node_count());
            Ok((net, fac, label))
        }
        _ => bail!("give an .osm.pbf file or --synthetic-nodes N"),
    }
}

pub fn geo(b: &GeoBench) -> anyhow::Result<serde_json::Value> {
    let mut phases = Phases(Vec::new());
    let mut rng = Rng(0x5EED_2026);
    let threads = rayon::current_num_threads();
    let (net, facilities, source) = network(b, &mut phases, &mut rng)?;
    let (s, w, n, e) = net.bbox().context("empty network")?;
    // Demand points standing in for buildings, spread over the network's box.
    let points: Vec<(f64, f64)> = (0..b.points)
        .map(|_| (s + rng.unit() * (n - s), w + rng.unit() * (e - w)))
        .collect();
    let ((fac_nodes, point_nodes), _) = phases.run("snapping", || {
        let snap = Snapper::new(&net, 100.0);
        let f: Vec<(Category, u32)> = facilities
            .iter()
            .filter_map(|(c, la, lo)| snap.nearest(&net, *la, *lo).map(|(v, _)| (*c, v)))
            .collect();
        let p: Vec<(u32, f32)> = points
            .iter()
            .filter_map(|(la, lo)| snap.nearest(&net, *la, *lo).map(|(v, d)| (v, d as f32)))
            .collect();
        (f, p)
    });
    let (acc, acc_secs) = phases.run("accessibility", || {
        Accessibility::compute(&net, &fac_nodes, b.speed)
    });
    let limit_m = (15.0 * 60.0 * b.speed) as f32;
    let (sites, _) = phases.run("siting", || {
        // Markets, 15 minutes: demand is every point not yet within reach.
        let c = Category::Market.index();
        let demand: Vec<(u32, f32, f64)> = point_nodes
            .iter()
            .filter(|(v, d)| acc.nearest[c][*v as usize] + d > limit_m)
            .map(|(v, d)| (*v, *d, 100.0))
            .collect();
        let picks = greedy_sites(&net, &demand, None, limit_m, 5);
        (demand.len(), picks)
    });
    let picks: Vec<serde_json::Value> = sites
        .1
        .iter()
        .map(|p| json!({"node": p.node, "gain_points": p.gain_points}))
        .collect();
    let mut out = json!({
        "benchmark": "geo",
        "source": source,
        "threads": threads,
        "walk_speed_mps": b.speed,
        "nodes": net.node_count(),
        "edges": net.edge_count(),
        "facilities": fac_nodes.len(),
        "demand_points": point_nodes.len(),
        "phases": phases.0,
        "siting": {"category": "market", "uncovered_points": sites.0, "picks": picks},
    });
    if b.pandana {
        out["pandana"] = pandana(&net, &fac_nodes, &acc, limit_m, acc_secs)?;
    }
    Ok(out)
}

/// The same accessibility by pandana 0.8 (python3 with pandana installed), compared.
fn pandana(
    net: &Network,
    fac_nodes: &[(Category, u32)],
    acc: &Accessibility,
    limit_m: f32,
    acc_secs: f64,
) -> anyhow::Result<serde_json::Value> {
    let dir = std::env::temp_dir().join(format!("doorstep-pandana-{}", std::process::id()));
    export_for_pandana(&dir, net, fac_nodes, acc)?;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/pandana_compare.py");
    let res = std::process::Command::new("python3")
        .arg(&script)
        .arg(&dir)
        .arg(limit_m.to_string())
        .output()
        .context("running python3 bench/pandana_compare.py (pip install pandana==0.8)")?;
    if !res.status.success() {
        let _ = std::fs::remove_dir_all(&dir);
        bail!(
            "pandana comparison failed: {}",
            String::from_utf8_lossy(&res.stderr)
        );
    }
    let text = std::fs::read_to_string(dir.join("result.json"))
        .context("pandana_compare.py wrote no result")?;
    let _ = std::fs::remove_dir_all(&dir);
    let mut p: serde_json::Value =
        serde_json::from_str(&text).context("pandana_compare.py result")?;
    let q = p["query_seconds"].as_f64().unwrap_or(f64::NAN);
    p["doorstep_accessibility_seconds"] = json!(acc_secs);
    p["speedup_vs_pandana_query"] = json!((q / acc_secs * 100.0).round() / 100.0);
    Ok(p)
}

fn export_for_pandana(
    dir: &Path,
    net: &Network,
    fac: &[(Category, u32)],
    acc: &Accessibility,
) -> anyhow::Result<()> {
    use std::io::Write;
    std::fs::create_dir_all(dir)?;
    let mut f = std::io::BufWriter::new(std::fs::File::create(dir.join("nodes.csv"))?);
    writeln!(f, "id,x,y")?;
    for i in 0..net.node_count() {
        writeln!(f, "{i},{},{}", net.lon[i], net.lat[i])?;
    }
    let mut f = std::io::BufWriter::new(std::fs::File::create(dir.join("edges.csv"))?);
    writeln!(f, "from,to,weight")?;
    for (a, b, l) in net.edges() {
        writeln!(f, "{a},{b},{l}")?;
    }
    let mut f = std::io::BufWriter::new(std::fs::File::create(dir.join("pois.csv"))?);
    writeln!(f, "category,node")?;
    for (c, v) in fac {
        writeln!(f, "{},{v}", c.code())?;
    }
    let mut f = std::io::BufWriter::new(std::fs::File::create(dir.join("ours.csv"))?);
    let head: Vec<String> = Category::ALL
        .iter()
        .flat_map(|c| {
            [
                format!("nearest_{}", c.code()),
                format!("count_{}", c.code()),
            ]
        })
        .collect();
    writeln!(f, "id,{}", head.join(","))?;
    for i in 0..net.node_count() {
        let cells: Vec<String> = Category::ALL
            .iter()
            .flat_map(|c| {
                let d = acc.nearest[c.index()][i];
                [
                    if d.is_finite() {
                        d.to_string()
                    } else {
                        "inf".into()
                    },
                    acc.counts[c.index()][2][i].to_string(),
                ]
            })
            .collect();
        writeln!(f, "{i},{}", cells.join(","))?;
    }
    Ok(())
}
