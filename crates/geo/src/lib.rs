//! Doorstep's geography: the walking network, accessibility of services (the 15-minute
//! circle), coverage and siting. Pure computation plus an OpenStreetMap reader; no
//! database, no web.

pub mod access;
pub mod dijkstra;
pub mod network;
pub mod osm;
pub mod snap;
pub mod synth;

pub use access::{Accessibility, Category, SiteChoice};
pub use network::{Facility, Network, NetworkBuilder};

/// Great-circle distance in metres (haversine, mean Earth radius 6,371,008.8 m).
pub fn haversine_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    const R: f64 = 6_371_008.8;
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * R * a.sqrt().asin()
}

#[derive(Debug, thiserror::Error)]
pub enum GeoError {
    #[error("cannot read the OpenStreetMap file: {0}")]
    Osm(String),
    #[error("the network data is damaged: {0}")]
    Format(&'static str),
    #[error("no walkable network in the area")]
    Empty,
}

#[cfg(test)]
mod tests {
    #[test]
    fn haversine_matches_a_known_distance() {
        // 0.0105° of latitude is about 1,168 m.
        let d = super::haversine_m(31.2085, 121.5436, 31.2190, 121.5440);
        assert!((d - 1168.0).abs() < 5.0, "{d}");
        assert_eq!(super::haversine_m(31.0, 121.0, 31.0, 121.0), 0.0);
    }
}
