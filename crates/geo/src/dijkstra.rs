//! Dijkstra's algorithm on the walking network, with buffers reused between searches so
//! that many small (cut-off) searches cost only the nodes they reach.

use crate::Network;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// A reusable shortest-path searcher for one network.
#[derive(Debug)]
pub struct Searcher {
    dist: Vec<f32>,
    touched: Vec<u32>,
    heap: BinaryHeap<Reverse<u64>>,
}

/// Heap key: non-negative `f32` bits order like the numbers, so (distance, node) packs
/// into one `u64` compared as an integer.
fn key(d: f32, n: u32) -> u64 {
    (u64::from(d.to_bits()) << 32) | u64::from(n)
}

impl Searcher {
    pub fn new(nodes: usize) -> Self {
        Self {
            dist: vec![f32::INFINITY; nodes],
            touched: Vec::new(),
            heap: BinaryHeap::new(),
        }
    }

    /// Settles every node within `cutoff` metres of the nearest source, calling
    /// `visit(node, metres)` once per node in order of distance. Sources are
    /// (node, starting distance).
    pub fn run(
        &mut self,
        net: &Network,
        sources: &[(u32, f32)],
        cutoff: f32,
        mut visit: impl FnMut(u32, f32),
    ) {
        for &n in &self.touched {
            self.dist[n as usize] = f32::INFINITY;
        }
        self.touched.clear();
        self.heap.clear();
        for &(s, d0) in sources {
            if d0 <= cutoff && d0 < self.dist[s as usize] {
                if self.dist[s as usize].is_infinite() {
                    self.touched.push(s);
                }
                self.dist[s as usize] = d0;
                self.heap.push(Reverse(key(d0, s)));
            }
        }
        while let Some(Reverse(k)) = self.heap.pop() {
            let (d, u) = (f32::from_bits((k >> 32) as u32), k as u32);
            if d > self.dist[u as usize] {
                continue;
            }
            visit(u, d);
            for (v, len) in net.neighbours(u) {
                let nd = d + len;
                if nd <= cutoff && nd < self.dist[v as usize] {
                    if self.dist[v as usize].is_infinite() {
                        self.touched.push(v);
                    }
                    self.dist[v as usize] = nd;
                    self.heap.push(Reverse(key(nd, v)));
                }
            }
        }
    }
}

/// Distance from every node to its nearest source (`INFINITY` where none is reachable).
pub fn nearest(net: &Network, sources: &[(u32, f32)]) -> Vec<f32> {
    let mut out = vec![f32::INFINITY; net.node_count()];
    let mut s = Searcher::new(net.node_count());
    s.run(net, sources, f32::INFINITY, |n, d| out[n as usize] = d);
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::NetworkBuilder;
    use proptest::prelude::*;

    /// The textbook O(n²) Dijkstra, as the reference.
    pub fn reference(net: &Network, sources: &[(u32, f32)]) -> Vec<f32> {
        let n = net.node_count();
        let mut dist = vec![f32::INFINITY; n];
        let mut done = vec![false; n];
        for &(s, d) in sources {
            dist[s as usize] = dist[s as usize].min(d);
        }
        while let Some(u) = (0..n)
            .filter(|i| !done[*i] && dist[*i].is_finite())
            .min_by(|a, b| dist[*a].total_cmp(&dist[*b]))
        {
            done[u] = true;
            for (v, l) in net.neighbours(u as u32) {
                let nd = dist[u] + l;
                if nd < dist[v as usize] {
                    dist[v as usize] = nd;
                }
            }
        }
        dist
    }

    pub fn arb_network() -> impl Strategy<Value = Network> {
        (2usize..40).prop_flat_map(|n| {
            prop::collection::vec((0..n as u32, 0..n as u32, 0.5f32..500.0), 1..120).prop_map(
                move |edges| {
                    let mut b = NetworkBuilder::default();
                    for i in 0..n {
                        b.add_node(31.2 + i as f64 * 1e-4, 121.5, i as i64);
                    }
                    for (a, c, l) in edges {
                        b.add_edge(a, c, l);
                    }
                    b.build().unwrap_or_else(|_| {
                        let mut b = NetworkBuilder::default();
                        let x = b.add_node(0.0, 0.0, 0);
                        let y = b.add_node(0.0, 0.0, 1);
                        b.add_edge(x, y, 1.0);
                        b.build().expect("two nodes")
                    })
                },
            )
        })
    }

    proptest! {
        #[test]
        fn equals_the_reference_dijkstra(net in arb_network(), picks in prop::collection::vec(any::<prop::sample::Index>(), 1..4), cutoff in 0.0f32..2000.0) {
            let n = net.node_count();
            let sources: Vec<(u32, f32)> = picks.iter().map(|p| (p.index(n) as u32, 0.0)).collect();
            let want = reference(&net, &sources);
            prop_assert_eq!(&nearest(&net, &sources), &want);
            // A cut-off search reaches exactly the nodes within the cut-off, at the same distances.
            let mut s = Searcher::new(n);
            let mut got = vec![f32::INFINITY; n];
            let mut order = Vec::new();
            s.run(&net, &sources, cutoff, |v, d| { got[v as usize] = d; order.push(d); });
            for i in 0..n {
                if want[i] <= cutoff { prop_assert_eq!(got[i], want[i]); } else { prop_assert!(got[i].is_infinite()); }
            }
            prop_assert!(order.windows(2).all(|w| w[0] <= w[1]), "settled in distance order");
            // Reusing the searcher gives the same answer.
            let mut again = vec![f32::INFINITY; n];
            s.run(&net, &sources, cutoff, |v, d| again[v as usize] = d);
            prop_assert_eq!(got, again);
        }
    }
}
