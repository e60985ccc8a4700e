//! Accessibility: for every node, the walk to the nearest facility of each category and
//! how many facilities lie within 5, 10 and 15 minutes; coverage; where to add a facility.

use crate::Network;
use crate::dijkstra::{Searcher, nearest};
use rayon::prelude::*;
use serde::Serialize;

/// Kinds of everyday service the circle measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    ElderlyCare,
    Health,
    Education,
    ChildCare,
    Market,
    CultureSport,
    CommunityService,
}

impl Category {
    pub const ALL: [Category; 7] = [
        Category::ElderlyCare,
        Category::Health,
        Category::Education,
        Category::ChildCare,
        Category::Market,
        Category::CultureSport,
        Category::CommunityService,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Category::ElderlyCare => "elderly_care",
            Category::Health => "health",
            Category::Education => "education",
            Category::ChildCare => "child_care",
            Category::Market => "market",
            Category::CultureSport => "culture_sport",
            Category::CommunityService => "community_service",
        }
    }

    pub fn parse(s: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.code() == s)
    }

    pub fn index(self) -> usize {
        self as usize
    }

    /// The walk the planning guideline allows (Shanghai's 15-minute community life circle:
    /// elderly services within 5 minutes, child care within 10, daily services within 15).
    pub fn default_minutes(self) -> f64 {
        match self {
            Category::ElderlyCare => 5.0,
            Category::ChildCare => 10.0,
            _ => 15.0,
        }
    }
}

/// The bands counted: facilities within 5, 10 and 15 minutes.
pub const BANDS_MIN: [f64; 3] = [5.0, 10.0, 15.0];

/// Accessibility of every node.
#[derive(Debug, Clone)]
pub struct Accessibility {
    pub speed_mps: f64,
    /// `nearest[category][node]`: metres to the nearest facility (`INFINITY` if none).
    pub nearest: Vec<Vec<f32>>,
    /// `counts[category][band][node]`: facilities within 5, 10, 15 minutes.
    pub counts: Vec<[Vec<u32>; 3]>,
}

impl Accessibility {
    /// Computes nearest distances (one multi-source search per category) and counts (one
    /// search per facility, cut off at 15 minutes), in parallel.
    pub fn compute(net: &Network, facilities: &[(Category, u32)], speed_mps: f64) -> Accessibility {
        let n = net.node_count();
        let radii: [f32; 3] = BANDS_MIN.map(|m| (m * 60.0 * speed_mps) as f32);
        let per_cat: Vec<Vec<u32>> = Category::ALL
            .iter()
            .map(|c| {
                facilities
                    .iter()
                    .filter(|(fc, _)| fc == c)
                    .map(|(_, node)| *node)
                    .collect()
            })
            .collect();
        let nearest_all: Vec<Vec<f32>> = per_cat
            .par_iter()
            .map(|nodes| {
                let sources: Vec<(u32, f32)> = nodes.iter().map(|v| (*v, 0.0)).collect();
                nearest(net, &sources)
            })
            .collect();
        let threads = rayon::current_num_threads().max(1);
        let counts = per_cat
            .iter()
            .map(|nodes| {
                let chunk = nodes.len().div_ceil(threads).max(1);
                let partial: Vec<[Vec<u32>; 3]> = nodes
                    .par_chunks(chunk)
                    .map(|part| {
                        let mut s = Searcher::new(n);
                        let mut c = [vec![0u32; n], vec![0u32; n], vec![0u32; n]];
                        for &f in part {
                            s.run(net, &[(f, 0.0)], radii[2], |v, d| {
                                for b in 0..3 {
                                    if d <= radii[b] {
                                        c[b][v as usize] += 1;
                                    }
                                }
                            });
                        }
                        c
                    })
                    .collect();
                let mut total = [vec![0u32; n], vec![0u32; n], vec![0u32; n]];
                for p in partial {
                    for b in 0..3 {
                        for (t, x) in total[b].iter_mut().zip(&p[b]) {
                            *t += x;
                        }
                    }
                }
                total
            })
            .collect();
        Accessibility {
            speed_mps,
            nearest: nearest_all,
            counts,
        }
    }

    pub fn minutes(&self, metres: f32) -> f64 {
        f64::from(metres) / self.speed_mps / 60.0
    }
}

/// One pick of the greedy siting.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SiteChoice {
    pub node: u32,
    pub lat: f64,
    pub lon: f64,
    /// Residents newly covered by this pick (given the earlier picks).
    pub gain_weight: f64,
    /// Demand points (buildings) newly covered.
    pub gain_points: usize,
}

/// Greedy maximum coverage: picks up to `k` sites among `candidates` (all nodes when
/// `None`) that cover the most uncovered weight, where a demand point (node, metres already
/// walked to reach it, weight) is covered by a site within `radius_m` of walking.
/// Ties go to the lower node number, so the answer is deterministic.
pub fn greedy_sites(
    net: &Network,
    demand: &[(u32, f32, f64)],
    candidates: Option<&[u32]>,
    radius_m: f32,
    k: usize,
) -> Vec<SiteChoice> {
    let n = net.node_count();
    let allowed: Option<Vec<bool>> = candidates.map(|c| {
        let mut a = vec![false; n];
        for v in c {
            if (*v as usize) < n {
                a[*v as usize] = true;
            }
        }
        a
    });
    // Which demand points each candidate would cover (searching from the demand side: the
    // graph is undirected).
    let mut covers: Vec<Vec<u32>> = vec![Vec::new(); n];
    let mut s = Searcher::new(n);
    for (i, &(node, offset, _)) in demand.iter().enumerate() {
        if offset > radius_m {
            continue;
        }
        s.run(net, &[(node, offset)], radius_m, |v, _| {
            if allowed.as_ref().is_none_or(|a| a[v as usize]) {
                covers[v as usize].push(i as u32);
            }
        });
    }
    let mut covered = vec![false; demand.len()];
    let gain = |v: usize, covered: &[bool]| -> f64 {
        covers[v]
            .iter()
            .filter(|i| !covered[**i as usize])
            .map(|i| demand[*i as usize].2)
            .sum()
    };
    // Lazy greedy: stale gains are recomputed when they reach the top.
    let mut heap: std::collections::BinaryHeap<(OrdF64, std::cmp::Reverse<u32>)> = (0..n)
        .filter(|v| !covers[*v].is_empty())
        .map(|v| (OrdF64(gain(v, &covered)), std::cmp::Reverse(v as u32)))
        .collect();
    let mut out = Vec::new();
    while out.len() < k {
        let Some((OrdF64(g), std::cmp::Reverse(v))) = heap.pop() else {
            break;
        };
        let fresh = gain(v as usize, &covered);
        if fresh < g {
            if fresh > 0.0 {
                heap.push((OrdF64(fresh), std::cmp::Reverse(v)));
            }
            continue;
        }
        if fresh <= 0.0 {
            break;
        }
        let mut points = 0;
        for i in &covers[v as usize] {
            if !covered[*i as usize] {
                covered[*i as usize] = true;
                points += 1;
            }
        }
        out.push(SiteChoice {
            node: v,
            lat: net.lat[v as usize],
            lon: net.lon[v as usize],
            gain_weight: fresh,
            gain_points: points,
        });
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct OrdF64(f64);
impl Eq for OrdF64 {}
impl PartialOrd for OrdF64 {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for OrdF64 {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&o.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dijkstra::tests::{arb_network, reference};
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn counts_and_nearest_equal_brute_force(net in arb_network(), picks in prop::collection::vec((any::<prop::sample::Index>(), 0usize..7), 1..12)) {
            let n = net.node_count();
            let fac: Vec<(Category, u32)> = picks.iter().map(|(p, c)| (Category::ALL[*c], p.index(n) as u32)).collect();
            let speed = 1.2;
            let acc = Accessibility::compute(&net, &fac, speed);
            for c in Category::ALL {
                let mine: Vec<u32> = fac.iter().filter(|(fc, _)| *fc == c).map(|(_, v)| *v).collect();
                let sources: Vec<(u32, f32)> = mine.iter().map(|v| (*v, 0.0)).collect();
                prop_assert_eq!(&acc.nearest[c.index()], &reference(&net, &sources));
                let per: Vec<Vec<f32>> = mine.iter().map(|v| reference(&net, &[(*v, 0.0)])).collect();
                for (b, m) in BANDS_MIN.iter().enumerate() {
                    let r = (m * 60.0 * speed) as f32;
                    for v in 0..n {
                        let want = per.iter().filter(|d| d[v] <= r).count() as u32;
                        prop_assert_eq!(acc.counts[c.index()][b][v], want);
                    }
                }
            }
        }

        #[test]
        fn greedy_picks_are_optimal_for_one_site_and_never_double_count(net in arb_network(), w in prop::collection::vec((any::<prop::sample::Index>(), 1.0f64..100.0), 1..10), radius in 10.0f32..600.0) {
            let n = net.node_count();
            let demand: Vec<(u32, f32, f64)> = w.iter().map(|(p, wt)| (p.index(n) as u32, 0.0, *wt)).collect();
            let picks = greedy_sites(&net, &demand, None, radius, 3);
            let total: f64 = demand.iter().map(|d| d.2).sum();
            let gained: f64 = picks.iter().map(|p| p.gain_weight).sum();
            prop_assert!(gained <= total + 1e-9);
            prop_assert!(picks.windows(2).all(|x| x[0].gain_weight >= x[1].gain_weight - 1e-9), "gains fall");
            // The first pick is the best single site (brute force).
            let best = (0..n).map(|v| {
                let d = reference(&net, &[(v as u32, 0.0)]);
                demand.iter().filter(|x| d[x.0 as usize] <= radius).map(|x| x.2).sum::<f64>()
            }).fold(0.0, f64::max);
            prop_assert!((picks[0].gain_weight - best).abs() < 1e-9);
        }
    }
}
