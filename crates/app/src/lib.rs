//! The `doorstep` binary's library half: configuration, start-up and the demo, so that
//! integration tests run exactly what the binary runs.

pub mod backup_cmd;
pub mod bench;
pub mod config;
pub mod demo;
pub mod geo_cmd;
pub mod request_gen;
pub mod startup;
