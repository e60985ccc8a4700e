//! Snapping points to the nearest network node with a uniform grid index.

use crate::{Network, haversine_m};

/// A grid over the network's nodes (cells of about `cell_m` metres).
#[derive(Debug)]
pub struct Snapper {
    lat0: f64,
    lon0: f64,
    dlat: f64,
    dlon: f64,
    cols: usize,
    rows: usize,
    cells: Vec<Vec<u32>>,
}

impl Snapper {
    pub fn new(net: &Network, cell_m: f64) -> Snapper {
        let (s, w, n, e) = net.bbox().unwrap_or((0.0, 0.0, 0.0, 0.0));
        let dlat = cell_m / 111_195.0;
        let dlon = cell_m / (111_195.0 * ((s + n) / 2.0).to_radians().cos().max(0.01));
        let rows = (((n - s) / dlat).floor() as usize + 1).min(1 << 14);
        let cols = (((e - w) / dlon).floor() as usize + 1).min(1 << 14);
        let mut cells = vec![Vec::new(); rows * cols];
        let mut me = Snapper {
            lat0: s,
            lon0: w,
            dlat,
            dlon,
            cols,
            rows,
            cells: Vec::new(),
        };
        for i in 0..net.node_count() {
            let (r, c) = me.cell(net.lat[i], net.lon[i]);
            cells[r * cols + c].push(i as u32);
        }
        me.cells = cells;
        me
    }

    fn cell(&self, lat: f64, lon: f64) -> (usize, usize) {
        let r = ((lat - self.lat0) / self.dlat)
            .floor()
            .clamp(0.0, (self.rows - 1) as f64) as usize;
        let c = ((lon - self.lon0) / self.dlon)
            .floor()
            .clamp(0.0, (self.cols - 1) as f64) as usize;
        (r, c)
    }

    /// The nearest node and its distance in metres (searching rings of cells outward).
    pub fn nearest(&self, net: &Network, lat: f64, lon: f64) -> Option<(u32, f64)> {
        let (r0, c0) = self.cell(lat, lon);
        let mut best: Option<(u32, f64)> = None;
        let cell_m = self.dlat * 111_195.0;
        for ring in 0..self.rows.max(self.cols) {
            // Once a node is found, one more ring guarantees nothing closer is missed.
            if let Some((_, d)) = best
                && d < (ring as f64 - 1.0) * cell_m
            {
                break;
            }
            let (rlo, rhi) = (r0.saturating_sub(ring), (r0 + ring).min(self.rows - 1));
            let (clo, chi) = (c0.saturating_sub(ring), (c0 + ring).min(self.cols - 1));
            for r in rlo..=rhi {
                for c in clo..=chi {
                    if r != rlo && r != rhi && c != clo && c != chi {
                        continue; // inner cells were searched in earlier rings
                    }
                    for &v in &self.cells[r * self.cols + c] {
                        let d = haversine_m(lat, lon, net.lat[v as usize], net.lon[v as usize]);
                        if best.is_none_or(|(bv, bd)| d < bd || (d == bd && v < bv)) {
                            best = Some((v, d));
                        }
                    }
                }
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn finds_the_nearest_node(pts in prop::collection::vec((31.20f64..31.23, 121.53f64..121.57), 2..60), q in (31.19f64..31.24, 121.52f64..121.58)) {
            let mut b = crate::NetworkBuilder::default();
            let ids: Vec<u32> = pts.iter().map(|(la, lo)| b.add_node(*la, *lo, 0)).collect();
            for w in ids.windows(2) { b.add_edge(w[0], w[1], 1.0); }
            let net = b.build().unwrap();
            let s = Snapper::new(&net, 150.0);
            let (_, d) = s.nearest(&net, q.0, q.1).unwrap();
            let brute = (0..net.node_count()).map(|i| haversine_m(q.0, q.1, net.lat[i], net.lon[i])).fold(f64::MAX, f64::min);
            prop_assert!((d - brute).abs() < 1e-6);
        }
    }
}
