//! Reading a walking network and facilities from an OpenStreetMap `.osm.pbf` extract.
//! The rules are documented in `docs/geo.md`; the functions here are the rules.

use crate::{Category, Facility, GeoError, Network, NetworkBuilder, haversine_m};
use osmpbf::{Element, ElementReader};
use std::collections::HashMap;

/// (south, west, north, east) in degrees.
pub type BBox = (f64, f64, f64, f64);

/// What an import read and kept.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ImportStats {
    pub ways_read: usize,
    pub walkable_ways: usize,
    pub nodes_read: usize,
    pub graph_nodes_before_component: usize,
    pub graph_nodes: usize,
    pub graph_edges: usize,
    pub facilities: usize,
}

/// The result of an import.
#[derive(Debug, Clone)]
pub struct OsmImport {
    pub network: Network,
    pub facilities: Vec<Facility>,
    pub stats: ImportStats,
}

fn tag<'a>(tags: &[(&'a str, &'a str)], k: &str) -> Option<&'a str> {
    tags.iter().find(|(key, _)| *key == k).map(|(_, v)| *v)
}

/// Whether people may walk along a way with these tags.
pub fn walkable(tags: &[(&str, &str)]) -> bool {
    let Some(highway) = tag(tags, "highway") else {
        return false;
    };
    let foot = tag(tags, "foot");
    let foot_yes = matches!(foot, Some("yes" | "designated" | "permissive"));
    if matches!(foot, Some("no" | "private" | "use_sidepath")) {
        return false;
    }
    if matches!(tag(tags, "access"), Some("no" | "private")) && !foot_yes {
        return false;
    }
    if tag(tags, "area") == Some("yes") && highway != "pedestrian" {
        return false;
    }
    match highway {
        "footway" | "pedestrian" | "path" | "steps" | "living_street" | "residential"
        | "service" | "unclassified" | "tertiary" | "tertiary_link" | "secondary"
        | "secondary_link" | "primary" | "primary_link" | "track" | "corridor" | "road"
        | "bridleway" | "cycleway" | "elevator" => true,
        // Expressways only where walking is explicitly allowed.
        "trunk" | "trunk_link" | "motorway" | "motorway_link" => foot_yes,
        _ => false,
    }
}

/// The service categories a feature with these tags counts for.
pub fn categories(tags: &[(&str, &str)]) -> Vec<Category> {
    let mut out = Vec::new();
    let amenity = tag(tags, "amenity").unwrap_or("");
    let social_for = tag(tags, "social_facility:for").unwrap_or("");
    let elderly = matches!(social_for, "senior" | "elderly" | "aged");
    if amenity == "nursing_home"
        || (amenity == "social_facility"
            && (elderly
                || matches!(
                    tag(tags, "social_facility"),
                    Some("nursing_home" | "assisted_living")
                )))
        || tag(tags, "healthcare") == Some("nursing_home")
    {
        out.push(Category::ElderlyCare);
    }
    if matches!(
        amenity,
        "hospital" | "clinic" | "doctors" | "pharmacy" | "dentist"
    ) || tag(tags, "healthcare").is_some_and(|h| h != "nursing_home")
    {
        out.push(Category::Health);
    }
    if matches!(amenity, "school" | "college" | "university") {
        out.push(Category::Education);
    }
    if matches!(amenity, "kindergarten" | "childcare") {
        out.push(Category::ChildCare);
    }
    if amenity == "marketplace"
        || matches!(
            tag(tags, "shop"),
            Some(
                "supermarket"
                    | "convenience"
                    | "greengrocer"
                    | "butcher"
                    | "bakery"
                    | "seafood"
                    | "department_store"
                    | "mall"
                    | "general"
            )
        )
    {
        out.push(Category::Market);
    }
    if matches!(amenity, "library" | "arts_centre" | "theatre" | "cinema")
        || matches!(
            tag(tags, "leisure"),
            Some(
                "sports_centre"
                    | "fitness_centre"
                    | "pitch"
                    | "stadium"
                    | "swimming_pool"
                    | "park"
                    | "fitness_station"
            )
        )
        || tag(tags, "tourism") == Some("museum")
    {
        out.push(Category::CultureSport);
    }
    if matches!(amenity, "community_centre" | "social_centre" | "townhall")
        || (amenity == "social_facility" && !elderly)
    {
        out.push(Category::CommunityService);
    }
    out
}

fn name(tags: &[(&str, &str)]) -> String {
    tag(tags, "name:zh")
        .or_else(|| tag(tags, "name"))
        .unwrap_or("")
        .to_string()
}

fn inside(b: Option<BBox>, lat: f64, lon: f64) -> bool {
    b.is_none_or(|(s, w, n, e)| lat >= s && lat <= n && lon >= w && lon <= e)
}

/// What the two passes over a file collect, before the graph is built.
#[derive(Debug, Clone)]
pub struct OsmRaw {
    ways: Vec<Vec<i64>>,
    coords: HashMap<i64, (f64, f64)>,
    facilities: Vec<Facility>,
    bbox: Option<BBox>,
    stats: ImportStats,
}

/// Reads `data` (the bytes of a `.osm.pbf`), keeping what lies inside `bbox` if given,
/// and builds the network.
///
/// Ways split into edges at every node that another walkable way shares, and at their
/// ends; intermediate nodes only add length (haversine). Only the largest connected
/// component is kept. Facilities are snapped later, against the stored network.
pub fn import(data: &[u8], bbox: Option<BBox>) -> Result<OsmImport, GeoError> {
    read(data, bbox)?.build()
}

/// The parsing half of [`import`]: walkable ways, the coordinates they need, facilities.
pub fn read(data: &[u8], bbox: Option<BBox>) -> Result<OsmRaw, GeoError> {
    let mut stats = ImportStats::default();
    let first = first_pass(data, bbox, &mut stats)?;
    let needed = first
        .ways
        .iter()
        .flatten()
        .chain(first.poi_ways.iter().flat_map(|p| p.refs.iter()));
    let coords = coordinates(data, needed, &mut stats)?;
    let mut facilities = first.facilities;
    for way in &first.poi_ways {
        facilities.extend(way.facilities(&coords, bbox));
    }
    Ok(OsmRaw {
        ways: first.ways,
        coords,
        facilities,
        bbox,
        stats,
    })
}

fn osm_error(e: osmpbf::Error) -> GeoError {
    GeoError::Osm(e.to_string())
}

/// A way that is a facility (a school's grounds, a market hall): placed at the mean of
/// its nodes once their coordinates are known.
struct PoiWay {
    categories: Vec<Category>,
    name: String,
    id: i64,
    refs: Vec<i64>,
}

impl PoiWay {
    fn facilities(&self, coords: &HashMap<i64, (f64, f64)>, bbox: Option<BBox>) -> Vec<Facility> {
        let pts: Vec<(f64, f64)> = self
            .refs
            .iter()
            .filter_map(|r| coords.get(r))
            .copied()
            .filter(|(la, _)| la.is_finite())
            .collect();
        if pts.is_empty() {
            return Vec::new();
        }
        let lat = pts.iter().map(|p| p.0).sum::<f64>() / pts.len() as f64;
        let lon = pts.iter().map(|p| p.1).sum::<f64>() / pts.len() as f64;
        if !inside(bbox, lat, lon) {
            return Vec::new();
        }
        self.categories
            .iter()
            .map(|c| Facility {
                category: *c,
                name: self.name.clone(),
                lat,
                lon,
                source: format!("osm:way/{}", self.id),
            })
            .collect()
    }
}

/// What the first pass collects.
struct FirstPass {
    ways: Vec<Vec<i64>>,
    poi_ways: Vec<PoiWay>,
    facilities: Vec<Facility>,
}

/// Pass 1: walkable ways, facility ways, and tagged nodes (whose coordinates are on them).
fn first_pass(
    data: &[u8],
    bbox: Option<BBox>,
    stats: &mut ImportStats,
) -> Result<FirstPass, GeoError> {
    let mut out = FirstPass {
        ways: Vec::new(),
        poi_ways: Vec::new(),
        facilities: Vec::new(),
    };
    ElementReader::new(data)
        .for_each(|el| {
            let mut node_poi = |id: i64, lat: f64, lon: f64, tags: Vec<(&str, &str)>| {
                if tags.is_empty() || !inside(bbox, lat, lon) {
                    return;
                }
                out.facilities
                    .extend(categories(&tags).into_iter().map(|c| Facility {
                        category: c,
                        name: name(&tags),
                        lat,
                        lon,
                        source: format!("osm:node/{id}"),
                    }));
            };
            match el {
                Element::Node(n) => node_poi(n.id(), n.lat(), n.lon(), n.tags().collect()),
                Element::DenseNode(n) => node_poi(n.id(), n.lat(), n.lon(), n.tags().collect()),
                Element::Way(w) => {
                    stats.ways_read += 1;
                    let tags: Vec<(&str, &str)> = w.tags().collect();
                    if walkable(&tags) {
                        stats.walkable_ways += 1;
                        out.ways.push(w.refs().collect());
                        return;
                    }
                    let categories = categories(&tags);
                    if !categories.is_empty() {
                        out.poi_ways.push(PoiWay {
                            categories,
                            name: name(&tags),
                            id: w.id(),
                            refs: w.refs().collect(),
                        });
                    }
                }
                Element::Relation(_) => {}
            }
        })
        .map_err(osm_error)?;
    Ok(out)
}

/// Pass 2: the coordinates of the nodes the ways need (NaN for any the file lacks).
fn coordinates<'a>(
    data: &[u8],
    needed: impl Iterator<Item = &'a i64>,
    stats: &mut ImportStats,
) -> Result<HashMap<i64, (f64, f64)>, GeoError> {
    let mut coords: HashMap<i64, (f64, f64)> = needed.map(|r| (*r, (f64::NAN, f64::NAN))).collect();
    ElementReader::new(data)
        .for_each(|el| {
            let (id, lat, lon) = match el {
                Element::Node(n) => (n.id(), n.lat(), n.lon()),
                Element::DenseNode(n) => (n.id(), n.lat(), n.lon()),
                _ => return,
            };
            stats.nodes_read += 1;
            if let Some(c) = coords.get_mut(&id) {
                *c = (lat, lon);
            }
        })
        .map_err(osm_error)?;
    Ok(coords)
}

impl OsmRaw {
    /// The graph-building half of [`import`].
    pub fn build(self) -> Result<OsmImport, GeoError> {
        let OsmRaw {
            ways,
            coords,
            facilities,
            bbox,
            mut stats,
        } = self;
        build_graph(&ways, &coords, facilities, bbox, &mut stats)
    }
}

fn build_graph(
    ways: &[Vec<i64>],
    coords: &HashMap<i64, (f64, f64)>,
    facilities: Vec<Facility>,
    bbox: Option<BBox>,
    stats: &mut ImportStats,
) -> Result<OsmImport, GeoError> {
    let usable = |r: &i64| {
        coords
            .get(r)
            .is_some_and(|(la, lo)| la.is_finite() && inside(bbox, *la, *lo))
    };
    // Runs of consecutive usable nodes: a way that leaves the box is cut there.
    let runs: Vec<&[i64]> = ways
        .iter()
        .flat_map(|w| w.split(|r| !usable(r)).filter(|run| run.len() >= 2))
        .collect();
    let mut uses: HashMap<i64, u32> = HashMap::new();
    for run in &runs {
        for (i, r) in run.iter().enumerate() {
            let bump = if i == 0 || i == run.len() - 1 { 2 } else { 1 };
            *uses.entry(*r).or_default() += bump;
        }
    }
    let mut b = NetworkBuilder::default();
    let mut index: HashMap<i64, u32> = HashMap::new();
    let mut node_of = |b: &mut NetworkBuilder, r: i64| -> u32 {
        *index.entry(r).or_insert_with(|| {
            let (la, lo) = coords[&r];
            b.add_node(la, lo, r)
        })
    };
    for run in runs {
        let mut from = node_of(&mut b, run[0]);
        let mut acc = 0.0f64;
        for w in run.windows(2) {
            let (a, c) = (coords[&w[0]], coords[&w[1]]);
            acc += haversine_m(a.0, a.1, c.0, c.1);
            if uses.get(&w[1]).copied().unwrap_or(0) >= 2 {
                let to = node_of(&mut b, w[1]);
                b.add_edge(from, to, acc as f32);
                from = to;
                acc = 0.0;
            }
        }
    }
    stats.graph_nodes_before_component = b.lat.len();
    let network = b.build()?;
    stats.graph_nodes = network.node_count();
    stats.graph_edges = network.edge_count();
    stats.facilities = facilities.len();
    Ok(OsmImport {
        network,
        facilities,
        stats: stats.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walking_rules() {
        assert!(walkable(&[("highway", "footway")]));
        assert!(walkable(&[
            ("highway", "residential"),
            ("access", "private"),
            ("foot", "yes")
        ]));
        assert!(!walkable(&[
            ("highway", "residential"),
            ("access", "private")
        ]));
        assert!(!walkable(&[("highway", "motorway")]));
        assert!(walkable(&[("highway", "trunk"), ("foot", "designated")]));
        assert!(!walkable(&[("highway", "primary"), ("foot", "no")]));
        assert!(!walkable(&[("highway", "construction")]));
        assert!(!walkable(&[("building", "yes")]));
    }

    #[test]
    fn category_mapping() {
        assert_eq!(
            categories(&[("amenity", "kindergarten")]),
            vec![Category::ChildCare]
        );
        assert_eq!(
            categories(&[
                ("amenity", "social_facility"),
                ("social_facility:for", "senior")
            ]),
            vec![Category::ElderlyCare]
        );
        assert_eq!(
            categories(&[("shop", "supermarket")]),
            vec![Category::Market]
        );
        assert_eq!(
            categories(&[("amenity", "pharmacy")]),
            vec![Category::Health]
        );
        assert_eq!(
            categories(&[("leisure", "park")]),
            vec![Category::CultureSport]
        );
        assert_eq!(
            categories(&[("amenity", "community_centre")]),
            vec![Category::CommunityService]
        );
        assert!(categories(&[("amenity", "bench")]).is_empty());
    }
}
