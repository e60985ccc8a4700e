//! The asynchronous side of time: waiting between runs of background work. Rules never
//! wait and never read the time themselves; they take "now" from the injected
//! [`doorstep_domain::Clock`].

use std::time::Duration;

/// Waits `d` (the pause between runs of a background job).
pub async fn pause(d: Duration) {
    #[allow(clippy::disallowed_methods)] // the one place that sleeps
    tokio::time::sleep(d).await
}
