//! `doorstep bench`: reproducible benchmarks that print JSON figures. Wall time is
//! measured with the clock module's stopwatch; every figure is reported beside a
//! baseline measured in the same run.

mod geo;
mod register;
mod requests;

pub use geo::{GeoBench, geo};
pub use register::{RegisterBench, register};
pub use requests::{RequestsBench, requests};

use doorstep_domain::clock::Stopwatch;
use serde_json::json;

/// Resets the kernel's peak-RSS mark of this process (Linux: `clear_refs` 5).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Peak resident memory since the last reset, in MB (Linux `VmHWM`).
fn peak_mb() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Phases of a benchmark with their time and peak memory.
struct Phases(Vec<serde_json::Value>);

impl Phases {
    fn run<T>(&mut self, name: &str, f: impl FnOnce() -> T) -> (T, f64) {
        reset_peak();
        let t = Stopwatch::start();
        let out = f();
        (out, self.record(name, t.secs()))
    }

    /// [`Phases::run`] for work that awaits.
    async fn run_async<T>(
        &mut self,
        name: &str,
        f: impl std::future::Future<Output = T>,
    ) -> (T, f64) {
        reset_peak();
        let t = Stopwatch::start();
        let out = f.await;
        (out, self.record(name, t.secs()))
    }

    /// Notes a phase's time and the peak memory since it began.
    fn record(&mut self, name: &str, secs: f64) -> f64 {
        let peak = peak_mb().map(|m| (m * 10.0).round() / 10.0);
        self.0.push(
            json!({"phase": name, "seconds": (secs * 1e4).round() / 1e4, "peak_rss_mb": peak}),
        );
        eprintln!(
            "{name:<22} {secs:>9.3} s  peak {:>8.1} MB",
            peak.unwrap_or(0.0)
        );
        secs
    }
}

/// The nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(x: f64) -> f64 {
    (x * 1000.0 * 100.0).round() / 100.0
}

/// Latency figures of a sample of durations (seconds), in milliseconds.
fn latency(mut xs: Vec<f64>) -> serde_json::Value {
    xs.sort_by(f64::total_cmp);
    json!({"samples": xs.len(), "p50_ms": ms(percentile(&xs, 50.0)), "p99_ms": ms(percentile(&xs, 99.0)), "max_ms": ms(*xs.last().unwrap_or(&f64::NAN))})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let xs: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&xs, 50.0), 50.0);
        assert_eq!(percentile(&xs, 99.0), 99.0);
        assert_eq!(percentile(&xs[..1], 99.0), 1.0);
        assert!(percentile(&[], 50.0).is_nan());
    }
}
