//! The walking network: nodes with coordinates and an undirected graph in compressed
//! sparse row form (each edge stored in both directions), plus the facilities on it.

use crate::GeoError;
use serde::Serialize;

/// A walking network. Node `i` has `lat[i]`, `lon[i]`; its neighbours are
/// `targets[offsets[i]..offsets[i+1]]` at `lengths[…]` metres.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Network {
    pub lat: Vec<f64>,
    pub lon: Vec<f64>,
    /// The OpenStreetMap node id (0 for synthetic nodes).
    pub osm_id: Vec<i64>,
    pub offsets: Vec<u32>,
    pub targets: Vec<u32>,
    pub lengths: Vec<f32>,
}

/// A service location of one category, snapped to a node.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Facility {
    pub category: crate::Category,
    pub name: String,
    pub lat: f64,
    pub lon: f64,
    /// `osm:node/123`, `osm:way/456`, `station:7`, `demo:12`…
    pub source: String,
}

impl Network {
    pub fn node_count(&self) -> usize {
        self.lat.len()
    }

    /// Undirected edges (each counted once).
    pub fn edge_count(&self) -> usize {
        self.targets.len() / 2
    }

    pub fn neighbours(&self, n: u32) -> impl Iterator<Item = (u32, f32)> + '_ {
        let (a, b) = (
            self.offsets[n as usize] as usize,
            self.offsets[n as usize + 1] as usize,
        );
        self.targets[a..b]
            .iter()
            .copied()
            .zip(self.lengths[a..b].iter().copied())
    }

    /// Each undirected edge once, as (a, b, metres) with a < b.
    pub fn edges(&self) -> impl Iterator<Item = (u32, u32, f32)> + '_ {
        (0..self.node_count() as u32).flat_map(move |a| {
            self.neighbours(a)
                .filter(move |(b, _)| a < *b)
                .map(move |(b, l)| (a, b, l))
        })
    }

    /// (south, west, north, east).
    pub fn bbox(&self) -> Option<(f64, f64, f64, f64)> {
        if self.lat.is_empty() {
            return None;
        }
        let f = |v: &[f64], min: bool| {
            v.iter().copied().fold(
                if min { f64::MAX } else { f64::MIN },
                if min { f64::min } else { f64::max },
            )
        };
        Some((
            f(&self.lat, true),
            f(&self.lon, true),
            f(&self.lat, false),
            f(&self.lon, false),
        ))
    }

    const MAGIC: &'static [u8; 8] = b"DSNET\x00\x01\x00";

    /// A compact little-endian encoding (about 28 bytes a node and 16 an edge).
    pub fn to_bytes(&self) -> Vec<u8> {
        let n = self.node_count();
        let m = self.targets.len();
        let mut out = Vec::with_capacity(16 + n * 28 + m * 8);
        out.extend_from_slice(Self::MAGIC);
        out.extend_from_slice(&(n as u64).to_le_bytes());
        out.extend_from_slice(&(m as u64).to_le_bytes());
        for v in &self.lat {
            out.extend_from_slice(&v.to_le_bytes());
        }
        for v in &self.lon {
            out.extend_from_slice(&v.to_le_bytes());
        }
        for v in &self.osm_id {
            out.extend_from_slice(&v.to_le_bytes());
        }
        for v in &self.offsets {
            out.extend_from_slice(&v.to_le_bytes());
        }
        for v in &self.targets {
            out.extend_from_slice(&v.to_le_bytes());
        }
        for v in &self.lengths {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out
    }

    pub fn from_bytes(b: &[u8]) -> Result<Network, GeoError> {
        let mut r = Reader { b, at: 0 };
        if r.take(8)? != Self::MAGIC {
            return Err(GeoError::Format("not a Doorstep network"));
        }
        let n = r.u64()? as usize;
        let m = r.u64()? as usize;
        let need = n
            .checked_mul(28)
            .and_then(|x| x.checked_add(4 + m * 8))
            .ok_or(GeoError::Format("sizes overflow"))?;
        if b.len() < 24 + need {
            return Err(GeoError::Format("truncated"));
        }
        let mut net = Network {
            lat: (0..n).map(|_| r.f64()).collect::<Result<_, _>>()?,
            lon: (0..n).map(|_| r.f64()).collect::<Result<_, _>>()?,
            osm_id: (0..n).map(|_| r.i64()).collect::<Result<_, _>>()?,
            offsets: (0..=n).map(|_| r.u32()).collect::<Result<_, _>>()?,
            targets: (0..m).map(|_| r.u32()).collect::<Result<_, _>>()?,
            lengths: (0..m).map(|_| r.f32()).collect::<Result<_, _>>()?,
        };
        if net.offsets.last().copied() != Some(m as u32)
            || net.targets.iter().any(|t| *t as usize >= n)
        {
            return Err(GeoError::Format("inconsistent graph"));
        }
        net.offsets.shrink_to_fit();
        Ok(net)
    }
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], GeoError> {
        let s = self
            .b
            .get(self.at..self.at + n)
            .ok_or(GeoError::Format("truncated"))?;
        self.at += n;
        Ok(s)
    }
    fn arr<const N: usize>(&mut self) -> Result<[u8; N], GeoError> {
        self.take(N)?
            .try_into()
            .map_err(|_| GeoError::Format("truncated"))
    }
    fn u64(&mut self) -> Result<u64, GeoError> {
        Ok(u64::from_le_bytes(self.arr()?))
    }
    fn i64(&mut self) -> Result<i64, GeoError> {
        Ok(i64::from_le_bytes(self.arr()?))
    }
    fn f64(&mut self) -> Result<f64, GeoError> {
        Ok(f64::from_le_bytes(self.arr()?))
    }
    fn u32(&mut self) -> Result<u32, GeoError> {
        Ok(u32::from_le_bytes(self.arr()?))
    }
    fn f32(&mut self) -> Result<f32, GeoError> {
        Ok(f32::from_le_bytes(self.arr()?))
    }
}

/// Collects nodes and undirected edges, then builds the CSR graph of the largest connected
/// component.
#[derive(Debug, Default)]
pub struct NetworkBuilder {
    pub lat: Vec<f64>,
    pub lon: Vec<f64>,
    pub osm_id: Vec<i64>,
    edges: Vec<(u32, u32, f32)>,
}

impl NetworkBuilder {
    pub fn add_node(&mut self, lat: f64, lon: f64, osm_id: i64) -> u32 {
        self.lat.push(lat);
        self.lon.push(lon);
        self.osm_id.push(osm_id);
        (self.lat.len() - 1) as u32
    }

    /// An undirected edge; self-loops are dropped, parallel edges keep the shortest.
    pub fn add_edge(&mut self, a: u32, b: u32, metres: f32) {
        if a != b {
            self.edges.push((a.min(b), a.max(b), metres));
        }
    }

    /// The graph of the largest connected component (nodes renumbered in their original
    /// order).
    pub fn build(mut self) -> Result<Network, GeoError> {
        let n = self.lat.len();
        self.edges
            .sort_by(|x, y| (x.0, x.1).cmp(&(y.0, y.1)).then(x.2.total_cmp(&y.2)));
        self.edges
            .dedup_by(|later, first| later.0 == first.0 && later.1 == first.1);
        let keep = largest_component(n, &self.edges)?;
        let mut new_id = vec![u32::MAX; n];
        let mut net = Network::default();
        for i in (0..n).filter(|i| keep[*i]) {
            new_id[i] = net.lat.len() as u32;
            net.lat.push(self.lat[i]);
            net.lon.push(self.lon[i]);
            net.osm_id.push(self.osm_id[i]);
        }
        let kept: Vec<(u32, u32, f32)> = self
            .edges
            .iter()
            .filter(|(a, _, _)| new_id[*a as usize] != u32::MAX)
            .map(|&(a, b, l)| (new_id[a as usize], new_id[b as usize], l))
            .collect();
        net.fill_adjacency(&kept);
        Ok(net)
    }
}

/// Which of `n` nodes belong to the largest connected component of `edges` (ties go to
/// the component with the lowest node), by union-find. Nodes without edges never count.
fn largest_component(n: usize, edges: &[(u32, u32, f32)]) -> Result<Vec<bool>, GeoError> {
    fn find(p: &mut [u32], mut x: u32) -> u32 {
        while p[x as usize] != x {
            p[x as usize] = p[p[x as usize] as usize];
            x = p[x as usize];
        }
        x
    }
    let mut parent: Vec<u32> = (0..n as u32).collect();
    let mut has_edge = vec![false; n];
    for &(a, b, _) in edges {
        has_edge[a as usize] = true;
        has_edge[b as usize] = true;
        let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
        if ra != rb {
            parent[ra.max(rb) as usize] = ra.min(rb);
        }
    }
    let mut size = vec![0u32; n];
    for i in (0..n).filter(|i| has_edge[*i]) {
        let r = find(&mut parent, i as u32);
        size[r as usize] += 1;
    }
    let Some(best) = (0..n)
        .max_by_key(|i| (size[*i], std::cmp::Reverse(*i)))
        .filter(|i| size[*i] > 0)
    else {
        return Err(GeoError::Empty);
    };
    Ok((0..n)
        .map(|i| has_edge[i] && find(&mut parent, i as u32) == best as u32)
        .collect())
}

impl Network {
    /// Lays out the undirected `edges` (between this network's nodes) as compressed
    /// adjacency: each node's neighbours at `targets[offsets[i]..offsets[i + 1]]`.
    fn fill_adjacency(&mut self, edges: &[(u32, u32, f32)]) {
        let nn = self.lat.len();
        let mut degree = vec![0u32; nn];
        for &(a, b, _) in edges {
            degree[a as usize] += 1;
            degree[b as usize] += 1;
        }
        self.offsets = Vec::with_capacity(nn + 1);
        let mut acc = 0u32;
        for d in &degree {
            self.offsets.push(acc);
            acc += d;
        }
        self.offsets.push(acc);
        self.targets = vec![0; acc as usize];
        self.lengths = vec![0.0; acc as usize];
        let mut fill: Vec<u32> = self.offsets[..nn].to_vec();
        for &(a, b, l) in edges {
            for (x, y) in [(a, b), (b, a)] {
                let at = fill[x as usize] as usize;
                self.targets[at] = y;
                self.lengths[at] = l;
                fill[x as usize] += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square_with_island() -> Network {
        let mut b = NetworkBuilder::default();
        let p: Vec<u32> = (0..6)
            .map(|i| b.add_node(31.2 + i as f64 * 1e-3, 121.5, i))
            .collect();
        b.add_edge(p[0], p[1], 10.0);
        b.add_edge(p[1], p[2], 10.0);
        b.add_edge(p[2], p[0], 25.0);
        b.add_edge(p[2], p[0], 15.0); // a parallel edge: the shorter stays
        b.add_edge(p[4], p[5], 3.0); // an island: dropped
        b.build().unwrap()
    }

    #[test]
    fn keeps_the_largest_component_and_the_shortest_parallel_edge() {
        let n = square_with_island();
        assert_eq!(n.node_count(), 3);
        assert_eq!(n.edge_count(), 3);
        let e: Vec<_> = n.edges().collect();
        assert!(e.contains(&(0, 2, 15.0)));
        assert_eq!(n.osm_id, vec![0, 1, 2]);
    }

    #[test]
    fn bytes_round_trip_and_damage_is_caught() {
        let n = square_with_island();
        let b = n.to_bytes();
        assert_eq!(Network::from_bytes(&b).unwrap(), n);
        assert!(Network::from_bytes(&b[..b.len() - 3]).is_err());
        assert!(Network::from_bytes(b"nonsense").is_err());
    }
}
