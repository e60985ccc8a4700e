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

pub use doorstep_domain::earth::haversine_m;

#[derive(Debug, thiserror::Error)]
pub enum GeoError {
    #[error("cannot read the OpenStreetMap file: {0}")]
    Osm(String),
    #[error("the network data is damaged: {0}")]
    Format(&'static str),
    #[error("no walkable network in the area")]
    Empty,
}
