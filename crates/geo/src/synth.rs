//! Synthetic street grids: the demo's network (stated as synthetic in the UI) and
//! city-sized networks for the benchmark.

use crate::{Network, NetworkBuilder, haversine_m};

/// A street grid of `rows` × `cols` nodes spaced `spacing_m` apart from (lat0, lon0),
/// with a deterministic sprinkling of missing links (about `gap_per_mille`/1000 of them)
/// and jitter, so that walks are not all Manhattan distances.
pub fn grid(
    lat0: f64,
    lon0: f64,
    rows: usize,
    cols: usize,
    spacing_m: f64,
    gap_per_mille: u64,
    seed: u64,
) -> Network {
    let dlat = spacing_m / 111_195.0;
    let dlon = spacing_m / (111_195.0 * lat0.to_radians().cos());
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut rnd = move || {
        // xorshift64*: deterministic and dependency-free.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    let mut b = NetworkBuilder::default();
    for r in 0..rows {
        for c in 0..cols {
            let jl = (rnd() % 1000) as f64 / 1000.0 - 0.5;
            let jo = (rnd() % 1000) as f64 / 1000.0 - 0.5;
            b.add_node(
                lat0 + (r as f64 + jl * 0.3) * dlat,
                lon0 + (c as f64 + jo * 0.3) * dlon,
                0,
            );
        }
    }
    let id = |r: usize, c: usize| (r * cols + c) as u32;
    for r in 0..rows {
        for c in 0..cols {
            for (r2, c2) in [(r + 1, c), (r, c + 1)] {
                if r2 < rows && c2 < cols && rnd() % 1000 >= gap_per_mille {
                    let (a, z) = (id(r, c), id(r2, c2));
                    let len = haversine_m(
                        b.lat[a as usize],
                        b.lon[a as usize],
                        b.lat[z as usize],
                        b.lon[z as usize],
                    );
                    b.add_edge(a, z, len as f32);
                }
            }
        }
    }
    b.build().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn grids_are_connected_and_deterministic() {
        let a = super::grid(31.2, 121.53, 20, 30, 80.0, 100, 7);
        let b = super::grid(31.2, 121.53, 20, 30, 80.0, 100, 7);
        assert_eq!(a, b);
        assert!(a.node_count() > 500, "{}", a.node_count());
        assert!(a.edge_count() > 900);
    }
}
