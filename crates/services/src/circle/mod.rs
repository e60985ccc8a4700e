//! The 15-minute circle: loads the subdistrict's network, facilities (imported ones plus
//! the stations and partner units) and buildings, computes accessibility once per version
//! of that data, and answers coverage, lists and suggested sites; [`export`] turns it
//! into GeoJSON and XLSX, audited.

pub mod export;

use crate::{Error, Result, Services};
use doorstep_domain::{Actor, BuildingId, Entity, NeighbourhoodId, Role, Scope, SubdistrictId};
use doorstep_geo::access::greedy_sites;
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
pub(crate) type Cache = tokio::sync::Mutex<HashMap<SubdistrictId, (String, Arc<CircleData>)>>;

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
pub async fn load(sv: &Services, subdistrict_id: SubdistrictId) -> Result<Option<Arc<CircleData>>> {
    let mut cache = sv.circle.lock().await;
    let Some((meta, bytes)) = sv.store.geo().current_network(subdistrict_id).await? else {
        cache.remove(&subdistrict_id);
        return Ok(None);
    };
    let key = format!(
        "{}:{}:{}",
        meta.id,
        sv.settings().walk_speed_mps,
        sv.store.places().places_fingerprint(subdistrict_id).await?
    );
    if let Some((k, data)) = cache.get(&subdistrict_id)
        && *k == key
    {
        return Ok(Some(data.clone()));
    }
    let imported = sv.store.geo().facilities(meta.id).await?;
    let scope = Scope::Subdistrict(subdistrict_id);
    let stations = crate::places::all_in(sv, Entity::Station, scope).await?;
    let partners = crate::places::all_in(sv, Entity::Partner, scope).await?;
    let sources = facility_sources(imported, &stations, &partners);
    let buildings = sv.store.geo().building_points(subdistrict_id).await?;
    let speed = sv.settings().walk_speed_mps;
    let data = tokio::task::spawn_blocking(move || build(meta, &bytes, sources, buildings, speed))
        .await
        .map_err(Error::internal)??;
    let data = Arc::new(data);
    cache.insert(subdistrict_id, (key, data.clone()));
    Ok(Some(data))
}

/// A facility before it is snapped to the network.
struct FacilitySource {
    category: Category,
    name: String,
    lat: f64,
    lon: f64,
    source: String,
}

/// Every facility the circle measures: those imported with the network, every 家门口
/// station (a community-service facility), and partner units whose kind is a service the
/// circle measures.
fn facility_sources(
    imported: Vec<doorstep_store::FacilityRow>,
    stations: &[doorstep_store::PlaceRecord],
    partners: &[doorstep_store::PlaceRecord],
) -> Vec<FacilitySource> {
    let mut out: Vec<FacilitySource> = imported
        .into_iter()
        .filter_map(|f| {
            Some(FacilitySource {
                category: Category::parse(&f.category)?,
                name: f.name,
                lat: f.lat,
                lon: f.lon,
                source: f.source,
            })
        })
        .collect();
    let located = |p: &doorstep_store::PlaceRecord, category: Category, kind: &str| {
        Some(FacilitySource {
            category,
            name: p.title(),
            lat: p.get("lat").as_f64()?,
            lon: p.get("lon").as_f64()?,
            source: format!("{kind}:{}", p.id),
        })
    };
    out.extend(
        stations
            .iter()
            .filter_map(|s| located(s, Category::CommunityService, "station")),
    );
    out.extend(partners.iter().filter_map(|p| {
        let c = partner_category(p.get("kind").as_str().unwrap_or(""))?;
        located(p, c, "partner")
    }));
    out
}

/// Decodes the network, snaps facilities and buildings to it (within 100 m) and computes
/// walking times: CPU work, run off the async threads.
fn build(
    meta: NetworkMeta,
    bytes: &[u8],
    sources: Vec<FacilitySource>,
    buildings: Vec<BuildingPoint>,
    speed: f64,
) -> Result<CircleData> {
    let net = Network::from_bytes(bytes)
        .map_err(|e| Error::internal(format!("stored network does not decode: {e}")))?;
    let snap = Snapper::new(&net, 100.0);
    let facilities: Vec<PlacedFacility> = sources
        .into_iter()
        .filter_map(|f| {
            let (node, d) = snap.nearest(&net, f.lat, f.lon)?;
            Some(PlacedFacility {
                category: f.category,
                name: f.name,
                lat: f.lat,
                lon: f.lon,
                source: f.source,
                node,
                snap_m: d as f32,
            })
        })
        .collect();
    let placed: Vec<PlacedBuilding> = buildings
        .into_iter()
        .filter_map(|p| {
            let (node, d) = snap.nearest(&net, p.lat, p.lon)?;
            Some(PlacedBuilding {
                point: p,
                node,
                snap_m: d as f32,
            })
        })
        .collect();
    let fac_nodes: Vec<(Category, u32)> = facilities.iter().map(|f| (f.category, f.node)).collect();
    let acc = Accessibility::compute(&net, &fac_nodes, speed);
    Ok(CircleData {
        meta,
        net,
        facilities,
        buildings: placed,
        acc,
        speed_mps: speed,
    })
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
    pub neighbourhood_id: Option<NeighbourhoodId>,
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
    nb: Option<NeighbourhoodId>,
    name: String,
) -> Coverage {
    let residents: f64 = buildings.iter().map(|b| b.point.residents).sum::<f64>() + 0.0;
    let mut share = HashMap::new();
    let mut outside = HashMap::new();
    for c in Category::ALL {
        let lim = limits.get(&c).copied().unwrap_or(c.default_minutes());
        // (+ 0.0: an empty float sum is -0.0, which would print as "-0".)
        let inside: f64 = buildings
            .iter()
            .filter(|b| data.covered(b, c, lim))
            .map(|b| b.point.residents)
            .sum::<f64>()
            + 0.0;
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
    pub neighbourhood_id: Option<NeighbourhoodId>,
    pub k: usize,
    pub candidate_buildings: Option<Vec<BuildingId>>,
    pub outside: bool,
}

impl CircleQuery {
    pub fn check(&self) -> Result<Params> {
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
            Some(s) => s.parse::<NeighbourhoodId>().map(Some).unwrap_or_else(|_| {
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
                .map(|x| x.trim().parse::<BuildingId>())
                .collect::<Result<Vec<_>, _>>()
            {
                Ok(v) => Some(v),
                Err(_) => {
                    errors.add("candidate_buildings", "invalid");
                    None
                }
            },
        };
        let outside = match self.outside.as_deref().map(str::trim) {
            None | Some("" | "0" | "false") => false,
            Some("1" | "true") => true,
            Some(_) => {
                errors.add("outside", "invalid_choice");
                false
            }
        };
        errors
            .into_result(Params {
                category,
                limit,
                neighbourhood_id,
                k,
                candidate_buildings,
                outside,
            })
            .map_err(Error::from)
    }
}

/// The buildings the actor may see (their neighbourhood, or the whole subdistrict for
/// admins), narrowed to one neighbourhood if asked.
pub fn scoped<'a>(
    data: &'a CircleData,
    actor: &Actor,
    nb: Option<NeighbourhoodId>,
) -> Result<Vec<&'a PlacedBuilding>> {
    let own = match actor.role {
        Role::Admin => None,
        _ => actor.neighbourhood_id,
    };
    if let (Some(own), Some(asked)) = (own, nb)
        && own != asked
    {
        return Err(Error::Forbidden);
    }
    let want = nb.or(own);
    Ok(data
        .buildings
        .iter()
        .filter(|b| want.is_none_or(|n| b.point.neighbourhood_id == n))
        .collect())
}

/// Site candidates from building ids (their network nodes), restricted to the scope.
pub fn candidate_nodes(buildings: &[&PlacedBuilding], ids: &[BuildingId]) -> Result<Vec<u32>> {
    ids.iter()
        .map(|id| {
            buildings
                .iter()
                .find(|b| b.point.id == *id)
                .map(|b| b.node)
                .ok_or_else(|| Error::validation("candidate_buildings", "invalid_reference"))
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

/// Coverage rows for each neighbourhood in the actor's scope, then (for admins) the
/// subdistrict, labelled `total_label`.
pub async fn coverage_rows(
    sv: &Services,
    actor: &Actor,
    data: &CircleData,
    total_label: String,
) -> Result<Vec<Coverage>> {
    let nbs = crate::places::all_in(
        sv,
        Entity::Neighbourhood,
        Scope::Subdistrict(actor.subdistrict_id),
    )
    .await?;
    let limits: HashMap<Category, f64> = Category::ALL
        .iter()
        .map(|c| (*c, c.default_minutes()))
        .collect();
    let all = scoped(data, actor, None)?;
    let mut rows = Vec::new();
    let admin = actor.role == Role::Admin;
    for nb in nbs
        .iter()
        .filter(|n| admin || Some(NeighbourhoodId(n.id)) == actor.neighbourhood_id)
    {
        let id = NeighbourhoodId(nb.id);
        let bs: Vec<_> = all
            .iter()
            .copied()
            .filter(|b| b.point.neighbourhood_id == id)
            .collect();
        rows.push(coverage(data, &bs, &limits, Some(id), nb.title()));
    }
    if admin {
        rows.push(coverage(data, &all, &limits, None, total_label));
    }
    Ok(rows)
}

/// The subdistrict's circle data, or not found when no network has been imported.
pub async fn data(sv: &Services, actor: &Actor) -> Result<Arc<CircleData>> {
    load(sv, actor.subdistrict_id).await?.ok_or(Error::NotFound)
}
