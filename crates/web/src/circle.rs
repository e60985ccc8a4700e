//! The 15-minute circle: loads the subdistrict's network, facilities (imported ones plus
//! the stations) and buildings, computes accessibility once per version of that data, and
//! turns it into coverage, lists, maps and exports.

use crate::{AppError, AppState};
use doorstep_geo::access::{BANDS_MIN, greedy_sites};
use doorstep_geo::snap::Snapper;
use doorstep_geo::{Accessibility, Category, Network, SiteChoice};
use doorstep_store::{BuildingPoint, NetworkMeta};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;

/// A facility on the network.
#[derive(Debug, Clone, Serialize)]
pub struct PlacedFacility {
    pub category: Category,
    pub name: String,
    pub lat: f64,
    pub lon: f64,
    pub source: String,
    pub node: u32,
    pub snap_m: f32,
}

/// A building on the network.
#[derive(Debug, Clone, Serialize)]
pub struct PlacedBuilding {
    #[serde(flatten)]
    pub point: BuildingPoint,
    pub node: u32,
    pub snap_m: f32,
}

/// Everything the circle pages need, computed once per data version.
#[derive(Debug)]
pub struct CircleData {
    pub meta: NetworkMeta,
    pub net: Network,
    pub facilities: Vec<PlacedFacility>,
    pub buildings: Vec<PlacedBuilding>,
    pub acc: Accessibility,
    pub speed_mps: f64,
}

/// The analysis cache: per subdistrict, the data version and its result.
pub type CircleCache = tokio::sync::Mutex<HashMap<i64, (String, Arc<CircleData>)>>;

impl CircleData {
    /// Minutes of walking from a building to the nearest facility of `c` (snap distance
    /// from the building to its network node included); `None` when none is reachable.
    pub fn minutes(&self, b: &PlacedBuilding, c: Category) -> Option<f64> {
        let d = self.acc.nearest[c.index()][b.node as usize];
        d.is_finite()
            .then(|| (f64::from(d) + f64::from(b.snap_m)) / self.speed_mps / 60.0)
    }

    pub fn count(&self, b: &PlacedBuilding, c: Category, band: usize) -> u32 {
        self.acc.counts[c.index()][band][b.node as usize]
    }

    pub fn covered(&self, b: &PlacedBuilding, c: Category, limit_min: f64) -> bool {
        self.minutes(b, c).is_some_and(|m| m <= limit_min)
    }

    /// Greedy siting for `c`: up to `k` sites covering the most residents not yet within
    /// `limit_min` minutes, among `buildings` (the scope). Candidates are all network nodes,
    /// or the nodes of the given buildings.
    pub fn sites(
        &self,
        buildings: &[&PlacedBuilding],
        c: Category,
        limit_min: f64,
        k: usize,
        candidates: Option<&[u32]>,
    ) -> Vec<SiteChoice> {
        let radius = (limit_min * 60.0 * self.speed_mps) as f32;
        let demand: Vec<(u32, f32, f64)> = buildings
            .iter()
            .filter(|b| !self.covered(b, c, limit_min))
            .map(|b| (b.node, b.snap_m, b.point.residents))
            .collect();
        greedy_sites(&self.net, &demand, candidates, radius, k)
    }
}

/// The circle data of a subdistrict, or `None` when no network has been imported.
pub async fn load(
    state: &AppState,
    subdistrict_id: i64,
) -> Result<Option<Arc<CircleData>>, AppError> {
    let mut cache = state.circle.lock().await;
    let Some((meta, bytes)) = state.store.current_network(subdistrict_id).await? else {
        cache.remove(&subdistrict_id);
        return Ok(None);
    };
    let key = format!(
        "{}:{}:{}",
        meta.id,
        state.config.walk_speed_mps,
        state.store.places_fingerprint(subdistrict_id).await?
    );
    if let Some((k, data)) = cache.get(&subdistrict_id)
        && *k == key
    {
        return Ok(Some(data.clone()));
    }
    let imported = state.store.network_facilities(meta.id).await?;
    let stations = state
        .store
        .list_places(
            doorstep_domain::Entity::Station,
            &doorstep_store::ListQuery::new(doorstep_domain::Scope::Subdistrict(subdistrict_id))
                .all(),
        )
        .await?;
    let partners = state
        .store
        .list_places(
            doorstep_domain::Entity::Partner,
            &doorstep_store::ListQuery::new(doorstep_domain::Scope::Subdistrict(subdistrict_id))
                .all(),
        )
        .await?;
    let buildings = state.store.building_points(subdistrict_id).await?;
    let speed = state.config.walk_speed_mps;
    let data = tokio::task::spawn_blocking(move || -> Result<CircleData, AppError> {
        let net = Network::from_bytes(&bytes).map_err(|e| {
            tracing::error!(error = %e, "stored network does not decode");
            AppError::Internal
        })?;
        let snap = Snapper::new(&net, 100.0);
        let mut facilities = Vec::new();
        let mut place = |category: Category, name: String, lat: f64, lon: f64, source: String| {
            if let Some((node, d)) = snap.nearest(&net, lat, lon) {
                facilities.push(PlacedFacility {
                    category,
                    name,
                    lat,
                    lon,
                    source,
                    node,
                    snap_m: d as f32,
                });
            }
        };
        for f in imported {
            if let Some(c) = Category::parse(&f.category) {
                place(c, f.name, f.lat, f.lon, f.source);
            }
        }
        // Every 家门口 station is a community-service facility.
        for s in &stations.items {
            if let (Some(lat), Some(lon)) = (s.get("lat").as_f64(), s.get("lon").as_f64()) {
                place(
                    Category::CommunityService,
                    s.title(),
                    lat,
                    lon,
                    format!("station:{}", s.id),
                );
            }
        }
        // Partner units whose kind is a service the circle measures.
        for p in &partners.items {
            if let (Some(c), Some(lat), Some(lon)) = (
                partner_category(p.get("kind").as_str().unwrap_or("")),
                p.get("lat").as_f64(),
                p.get("lon").as_f64(),
            ) {
                place(c, p.title(), lat, lon, format!("partner:{}", p.id));
            }
        }
        let placed: Vec<PlacedBuilding> = buildings
            .into_iter()
            .filter_map(|p| {
                snap.nearest(&net, p.lat, p.lon)
                    .map(|(node, d)| PlacedBuilding {
                        point: p,
                        node,
                        snap_m: d as f32,
                    })
            })
            .collect();
        let fac_nodes: Vec<(Category, u32)> =
            facilities.iter().map(|f| (f.category, f.node)).collect();
        let acc = Accessibility::compute(&net, &fac_nodes, speed);
        Ok(CircleData {
            meta,
            net,
            facilities,
            buildings: placed,
            acc,
            speed_mps: speed,
        })
    })
    .await
    .map_err(|_| AppError::Internal)??;
    let data = Arc::new(data);
    cache.insert(subdistrict_id, (key, data.clone()));
    Ok(Some(data))
}

/// The circle category a partner unit of this kind serves, if any.
pub fn partner_category(kind: &str) -> Option<Category> {
    match kind {
        "health_centre" | "hospital" => Some(Category::Health),
        "school" => Some(Category::Education),
        "kindergarten" => Some(Category::ChildCare),
        "elderly_service" => Some(Category::ElderlyCare),
        "market" => Some(Category::Market),
        "culture_sport" => Some(Category::CultureSport),
        "social_org" => Some(Category::CommunityService),
        _ => None,
    }
}

/// Per-category coverage of residents.
#[derive(Debug, Clone, Serialize)]
pub struct Coverage {
    pub neighbourhood_id: Option<i64>,
    pub name: String,
    pub buildings: usize,
    pub residents: f64,
    /// By category code: share of residents (0–1) within the category's limit.
    pub share: HashMap<&'static str, f64>,
    /// By category code: residents outside the limit.
    pub outside: HashMap<&'static str, f64>,
}

pub fn coverage(
    data: &CircleData,
    buildings: &[&PlacedBuilding],
    limits: &HashMap<Category, f64>,
    nb: Option<i64>,
    name: String,
) -> Coverage {
    let residents: f64 = buildings.iter().map(|b| b.point.residents).sum();
    let mut share = HashMap::new();
    let mut outside = HashMap::new();
    for c in Category::ALL {
        let lim = limits.get(&c).copied().unwrap_or(c.default_minutes());
        let inside: f64 = buildings
            .iter()
            .filter(|b| data.covered(b, c, lim))
            .map(|b| b.point.residents)
            .sum();
        share.insert(
            c.code(),
            if residents > 0.0 {
                inside / residents
            } else {
                0.0
            },
        );
        outside.insert(c.code(), round1(residents - inside));
    }
    Coverage {
        neighbourhood_id: nb,
        name,
        buildings: buildings.len(),
        residents: round1(residents),
        share,
        outside,
    }
}

/// Residents are estimates: one decimal is plenty.
fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// One building's figures, for lists and exports.
pub fn building_json(data: &CircleData, b: &PlacedBuilding) -> serde_json::Value {
    let mut minutes = serde_json::Map::new();
    let mut counts = serde_json::Map::new();
    for c in Category::ALL {
        minutes.insert(
            c.code().into(),
            data.minutes(b, c).map(|m| (m * 10.0).round() / 10.0).into(),
        );
        counts.insert(
            c.code().into(),
            serde_json::json!({
                "within_5": data.count(b, c, 0), "within_10": data.count(b, c, 1), "within_15": data.count(b, c, 2),
            }),
        );
    }
    serde_json::json!({
        "id": b.point.id, "neighbourhood_id": b.point.neighbourhood_id, "estate": b.point.estate,
        "number": b.point.number, "lat": b.point.lat, "lon": b.point.lon, "households": b.point.households,
        "residents": (b.point.residents * 10.0).round() / 10.0, "snap_m": (f64::from(b.snap_m) * 10.0).round() / 10.0,
        "minutes": minutes, "counts": counts,
    })
}

/// The buildings as a GeoJSON FeatureCollection (RFC 7946).
pub fn geojson(
    data: &CircleData,
    buildings: &[&PlacedBuilding],
    sites: &[SiteChoice],
    attribution: &str,
) -> serde_json::Value {
    let mut features: Vec<serde_json::Value> = buildings
        .iter()
        .map(|b| {
            serde_json::json!({
                "type": "Feature",
                "id": format!("building/{}", b.point.id),
                "geometry": {"type": "Point", "coordinates": [b.point.lon, b.point.lat]},
                "properties": building_json(data, b),
            })
        })
        .collect();
    for (i, s) in sites.iter().enumerate() {
        features.push(serde_json::json!({
            "type": "Feature",
            "id": format!("site/{}", i + 1),
            "geometry": {"type": "Point", "coordinates": [s.lon, s.lat]},
            "properties": {"kind": "suggested_site", "rank": i + 1, "residents_gained": (s.gain_weight * 10.0).round() / 10.0, "buildings_gained": s.gain_points},
        }));
    }
    serde_json::json!({"type": "FeatureCollection", "attribution": attribution, "features": features})
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Walking-time band of a building: 0 ≤5 min, 1 ≤10, 2 ≤15, 3 within the limit but
/// beyond 15 (never with the default limits), 4 outside the limit.
fn band(minutes: Option<f64>, limit: f64) -> usize {
    match minutes {
        Some(m) if m > limit => 4,
        Some(m) if m <= BANDS_MIN[0] => 0,
        Some(m) if m <= BANDS_MIN[1] => 1,
        Some(m) if m <= BANDS_MIN[2] => 2,
        Some(_) => 3,
        None => 4,
    }
}

/// An SVG map drawn from our own data: streets, buildings coloured by walking time to the
/// nearest facility of `c`, the facilities, and suggested sites.
pub fn map_svg(
    data: &CircleData,
    buildings: &[&PlacedBuilding],
    c: Category,
    limit: f64,
    sites: &[SiteChoice],
    labels: &MapLabels,
) -> String {
    use std::fmt::Write;
    // The frame: the buildings in scope (or the whole network), padded by 150 m.
    let pts: Vec<(f64, f64)> = if buildings.is_empty() {
        data.net
            .lat
            .iter()
            .copied()
            .zip(data.net.lon.iter().copied())
            .collect()
    } else {
        buildings
            .iter()
            .map(|b| (b.point.lat, b.point.lon))
            .collect()
    };
    let (mut s, mut w, mut n, mut e) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for (la, lo) in &pts {
        s = s.min(*la);
        n = n.max(*la);
        w = w.min(*lo);
        e = e.max(*lo);
    }
    let pad_lat = 150.0 / 111_195.0;
    let coslat = ((s + n) / 2.0).to_radians().cos();
    let pad_lon = pad_lat / coslat;
    let (s, w, n, e) = (s - pad_lat, w - pad_lon, n + pad_lat, e + pad_lon);
    let width = 1000.0;
    let scale = width / ((e - w) * coslat).max(1e-9);
    let height = ((n - s) * scale).max(100.0);
    let x = |lon: f64| (lon - w) * coslat * scale;
    let y = |lat: f64| (n - lat) * scale;
    let inside = |lat: f64, lon: f64| lat >= s && lat <= n && lon >= w && lon <= e;
    let mut out = String::with_capacity(256 * 1024);
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width:.0} {height:.0}\" class=\"map\" role=\"img\" aria-label=\"{}\">",
        esc(&labels.title)
    );
    out.push_str("<rect class=\"bg\" x=\"0\" y=\"0\" width=\"100%\" height=\"100%\"/><path class=\"street\" d=\"");
    let mut drawn = 0;
    for (a, b, _) in data.net.edges() {
        let (a, b) = (a as usize, b as usize);
        if drawn > 60_000
            || !(inside(data.net.lat[a], data.net.lon[a])
                || inside(data.net.lat[b], data.net.lon[b]))
        {
            continue;
        }
        let _ = write!(
            out,
            "M{:.1} {:.1}L{:.1} {:.1}",
            x(data.net.lon[a]),
            y(data.net.lat[a]),
            x(data.net.lon[b]),
            y(data.net.lat[b])
        );
        drawn += 1;
    }
    out.push_str("\"/>");
    for b in buildings {
        let m = data.minutes(b, c);
        let _ = write!(
            out,
            "<circle class=\"b{}\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"3.2\"><title>{} {} · {}</title></circle>",
            band(m, limit),
            x(b.point.lon),
            y(b.point.lat),
            esc(&b.point.estate),
            esc(&b.point.number),
            m.map(|m| format!("{m:.1} {}", labels.minutes))
                .unwrap_or_else(|| "—".into())
        );
    }
    for f in data
        .facilities
        .iter()
        .filter(|f| f.category == c && inside(f.lat, f.lon))
    {
        let _ = write!(
            out,
            "<rect class=\"fac\" x=\"{:.1}\" y=\"{:.1}\" width=\"8\" height=\"8\"><title>{}</title></rect>",
            x(f.lon) - 4.0,
            y(f.lat) - 4.0,
            esc(if f.name.is_empty() {
                &labels.unnamed
            } else {
                &f.name
            })
        );
    }
    for (i, site) in sites.iter().enumerate() {
        let (cx, cy) = (x(site.lon), y(site.lat));
        let _ = write!(
            out,
            "<g class=\"site\"><circle cx=\"{cx:.1}\" cy=\"{cy:.1}\" r=\"11\"/><text x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text><title>{}</title></g>",
            cy + 4.5,
            i + 1,
            esc(&format!(
                "{} {} · +{:.0}",
                labels.site,
                i + 1,
                site.gain_weight
            ))
        );
    }
    out.push_str("</svg>");
    out
}

/// Words the map shows, in the reader's language.
pub struct MapLabels {
    pub title: String,
    pub minutes: String,
    pub site: String,
    pub unnamed: String,
}

/// The XLSX workbook: coverage per neighbourhood, and every building's walking times.
pub fn xlsx(
    data: &CircleData,
    rows: &[Coverage],
    buildings: &[&PlacedBuilding],
    headers: &XlsxLabels,
) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let pct = Format::new().set_num_format("0.0%");
    let sheet = wb.add_worksheet();
    sheet.set_name(&headers.coverage_sheet)?;
    sheet.write_with_format(0, 0, &headers.neighbourhood, &bold)?;
    sheet.write_with_format(0, 1, &headers.buildings, &bold)?;
    sheet.write_with_format(0, 2, &headers.residents, &bold)?;
    for (i, label) in headers.categories.iter().enumerate() {
        sheet.write_with_format(0, 3 + i as u16, label, &bold)?;
    }
    for (r, row) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        sheet.write(r, 0, &row.name)?;
        sheet.write(r, 1, row.buildings as f64)?;
        sheet.write(r, 2, row.residents.round())?;
        for (i, c) in Category::ALL.iter().enumerate() {
            sheet.write_with_format(r, 3 + i as u16, row.share[c.code()], &pct)?;
        }
    }
    sheet.write(rows.len() as u32 + 2, 0, &headers.note)?;
    let sheet = wb.add_worksheet();
    sheet.set_name(&headers.buildings_sheet)?;
    let fixed = [
        &headers.estate,
        &headers.number,
        &headers.households,
        &headers.residents,
        &headers.lat,
        &headers.lon,
    ];
    for (i, h) in fixed.iter().enumerate() {
        sheet.write_with_format(0, i as u16, h.as_str(), &bold)?;
    }
    for (i, name) in headers.categories.iter().enumerate() {
        sheet.write_with_format(
            0,
            (fixed.len() + i) as u16,
            format!("{name} ({})", headers.minutes),
            &bold,
        )?;
    }
    for (r, b) in buildings.iter().enumerate() {
        let r = r as u32 + 1;
        sheet.write(r, 0, &b.point.estate)?;
        sheet.write(r, 1, &b.point.number)?;
        sheet.write(r, 2, b.point.households as f64)?;
        sheet.write(r, 3, b.point.residents.round())?;
        sheet.write(r, 4, b.point.lat)?;
        sheet.write(r, 5, b.point.lon)?;
        for (i, c) in Category::ALL.iter().enumerate() {
            if let Some(m) = data.minutes(b, *c) {
                sheet.write(r, (fixed.len() + i) as u16, (m * 10.0).round() / 10.0)?;
            }
        }
    }
    wb.save_to_buffer()
}

/// Column titles of the workbook, in the reader's language.
pub struct XlsxLabels {
    pub coverage_sheet: String,
    pub buildings_sheet: String,
    pub neighbourhood: String,
    pub buildings: String,
    pub residents: String,
    pub estate: String,
    pub number: String,
    pub households: String,
    pub lat: String,
    pub lon: String,
    pub minutes: String,
    pub categories: Vec<String>,
    pub note: String,
}

/// The query every circle view takes.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct CircleQuery {
    pub category: Option<String>,
    pub minutes: Option<String>,
    pub neighbourhood_id: Option<String>,
    pub k: Option<String>,
    /// Comma-separated building ids: site candidates instead of every network node.
    pub candidate_buildings: Option<String>,
    /// Only buildings outside the circle (lists).
    pub outside: Option<String>,
}

/// A circle query, checked.
#[derive(Debug, Clone)]
pub struct Params {
    pub category: Category,
    pub limit: f64,
    pub neighbourhood_id: Option<i64>,
    pub k: usize,
    pub candidate_buildings: Option<Vec<i64>>,
    pub outside: bool,
}

impl CircleQuery {
    pub fn check(&self) -> Result<Params, AppError> {
        let mut errors = doorstep_domain::FieldErrors::new();
        let category = match self.category.as_deref().filter(|s| !s.is_empty()) {
            None => Category::Market,
            Some(s) => Category::parse(s).unwrap_or_else(|| {
                errors.add("category", "invalid_choice");
                Category::Market
            }),
        };
        let limit = match self.minutes.as_deref().filter(|s| !s.is_empty()) {
            None => category.default_minutes(),
            Some(s) => match s.parse::<f64>() {
                Ok(m) if (1.0..=60.0).contains(&m) => m,
                _ => {
                    errors.add_with("minutes", "out_of_range", vec!["1".into(), "60".into()]);
                    15.0
                }
            },
        };
        let neighbourhood_id = match self.neighbourhood_id.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => s.parse::<i64>().map(Some).unwrap_or_else(|_| {
                errors.add("neighbourhood_id", "not_integer");
                None
            }),
        };
        let k = match self.k.as_deref().filter(|s| !s.is_empty()) {
            None => 0,
            Some(s) => match s.parse::<usize>() {
                Ok(k) if k <= 20 => k,
                _ => {
                    errors.add_with("k", "out_of_range", vec!["0".into(), "20".into()]);
                    0
                }
            },
        };
        let candidate_buildings = match self
            .candidate_buildings
            .as_deref()
            .filter(|s| !s.is_empty())
        {
            None => None,
            Some(s) => match s
                .split(',')
                .map(|x| x.trim().parse::<i64>())
                .collect::<Result<Vec<_>, _>>()
            {
                Ok(v) => Some(v),
                Err(_) => {
                    errors.add("candidate_buildings", "invalid");
                    None
                }
            },
        };
        let outside = matches!(self.outside.as_deref(), Some("1" | "true"));
        errors
            .into_result(Params {
                category,
                limit,
                neighbourhood_id,
                k,
                candidate_buildings,
                outside,
            })
            .map_err(AppError::from)
    }
}

/// The buildings the actor may see (their neighbourhood, or the whole subdistrict for
/// admins), narrowed to one neighbourhood if asked.
pub fn scoped<'a>(
    data: &'a CircleData,
    actor: &doorstep_domain::Actor,
    nb: Option<i64>,
) -> Result<Vec<&'a PlacedBuilding>, AppError> {
    let own = match actor.role {
        doorstep_domain::Role::Admin => None,
        _ => actor.neighbourhood_id,
    };
    if let (Some(own), Some(asked)) = (own, nb)
        && own != asked
    {
        return Err(AppError::Forbidden);
    }
    let want = nb.or(own);
    Ok(data
        .buildings
        .iter()
        .filter(|b| want.is_none_or(|n| b.point.neighbourhood_id == n))
        .collect())
}

/// Site candidates from building ids (their network nodes), restricted to the scope.
pub fn candidate_nodes(buildings: &[&PlacedBuilding], ids: &[i64]) -> Result<Vec<u32>, AppError> {
    ids.iter()
        .map(|id| {
            buildings
                .iter()
                .find(|b| b.point.id == *id)
                .map(|b| b.node)
                .ok_or_else(|| AppError::validation("candidate_buildings", "invalid_reference"))
        })
        .collect()
}

pub const OSM_ATTRIBUTION: &str = "© OpenStreetMap contributors, ODbL 1.0";

pub fn attribution(data: &CircleData) -> &'static str {
    if data.meta.synthetic {
        "synthetic demo network (Doorstep)"
    } else {
        OSM_ATTRIBUTION
    }
}
