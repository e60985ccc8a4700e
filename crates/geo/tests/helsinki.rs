//! On a real extract (Helsinki centre, © OpenStreetMap contributors, ODbL): the import
//! builds a sensible walking network and the accessibility figures equal a straightforward
//! Dijkstra exactly.
#![allow(clippy::unwrap_used)] // a panic is how a test fails

use doorstep_geo::osm::import;
use doorstep_geo::snap::Snapper;
use doorstep_geo::{Accessibility, Category, Network};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

const PBF: &[u8] = include_bytes!("data/helsinki-centre.osm.pbf");

/// Textbook Dijkstra in f64 over the same edge lengths, rounded the way the library sums.
fn straightforward(net: &Network, sources: &[u32]) -> Vec<f32> {
    let mut dist = vec![f32::INFINITY; net.node_count()];
    let mut heap = BinaryHeap::new();
    for &s in sources {
        dist[s as usize] = 0.0;
        heap.push(Reverse((0u32, s)));
    }
    while let Some(Reverse((bits, u))) = heap.pop() {
        let d = f32::from_bits(bits);
        if d > dist[u as usize] {
            continue;
        }
        for (v, l) in net.neighbours(u) {
            let nd = d + l;
            if nd < dist[v as usize] {
                dist[v as usize] = nd;
                heap.push(Reverse((nd.to_bits(), v)));
            }
        }
    }
    dist
}

#[test]
fn imports_helsinki_and_matches_dijkstra_exactly() {
    let imp = import(PBF, None).unwrap();
    let net = &imp.network;
    let s = &imp.stats;
    assert!(s.walkable_ways > 1000, "{s:?}");
    assert!((1500..=6000).contains(&net.node_count()), "{s:?}");
    assert!(net.edge_count() >= net.node_count(), "{s:?}");
    assert!(
        imp.facilities.len() >= 50,
        "{} facilities",
        imp.facilities.len()
    );
    let (south, west, north, east) = net.bbox().unwrap();
    assert!(south > 60.15 && north < 60.19 && west > 24.92 && east < 24.97);
    // Every edge is at least as long as the straight line between its ends.
    for (a, b, l) in net.edges() {
        let crow = doorstep_geo::haversine_m(
            net.lat[a as usize],
            net.lon[a as usize],
            net.lat[b as usize],
            net.lon[b as usize],
        );
        assert!(f64::from(l) >= crow - 0.01, "edge {a}-{b}: {l} < {crow}");
    }
    let snap = Snapper::new(net, 100.0);
    let fac: Vec<(Category, u32)> = imp
        .facilities
        .iter()
        .map(|f| (f.category, snap.nearest(net, f.lat, f.lon).unwrap().0))
        .collect();
    let acc = Accessibility::compute(net, &fac, 1.2);
    for c in Category::ALL {
        let sources: Vec<u32> = fac
            .iter()
            .filter(|(fc, _)| *fc == c)
            .map(|(_, v)| *v)
            .collect();
        if sources.is_empty() {
            continue;
        }
        assert_eq!(
            acc.nearest[c.index()],
            straightforward(net, &sources),
            "{c:?}"
        );
        // Counts within 15 minutes for a sample of nodes.
        let per: Vec<Vec<f32>> = sources
            .iter()
            .map(|s| straightforward(net, &[*s]))
            .collect();
        let r15 = (15.0 * 60.0 * 1.2) as f32;
        for v in (0..net.node_count()).step_by(97) {
            let want = per.iter().filter(|d| d[v] <= r15).count() as u32;
            assert_eq!(acc.counts[c.index()][2][v], want, "{c:?} node {v}");
        }
    }
    // A bounding box cuts the network down.
    let clip = import(PBF, Some((60.165, 24.937, 60.172, 24.947))).unwrap();
    assert!(clip.network.node_count() < net.node_count() / 2);
    let (s2, w2, n2, e2) = clip.network.bbox().unwrap();
    assert!(s2 >= 60.165 && w2 >= 24.937 && n2 <= 60.172 && e2 <= 24.947);
}
